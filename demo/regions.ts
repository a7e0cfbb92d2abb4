import type { Dataset, Module, Runtime } from '../src/index.js';

const CLASS_COLORS: [number, number, number][] = [
  [232, 113, 10],
  [26, 115, 232],
  [24, 128, 56],
  [161, 66, 244],
];
const GRID = 48;

export interface Bounds {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The data's extent with a margin, so that the regions show past the outermost points. */
export function boundsOf(data: Dataset): Bounds {
  const xs: number[] = [];
  const ys: number[] = [];
  if (data.features === 1) {
    for (let i = 0; i < data.size; i++) {
      xs.push(data.x[i]);
      ys.push(data.y[i]);
    }
  } else {
    for (let i = 0; i < data.size; i++) {
      xs.push(data.x[2 * i]);
      ys.push(data.x[2 * i + 1]);
    }
  }
  const span = (v: number[]) => [Math.min(...v), Math.max(...v)];
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const mx = 0.1 * (x1 - x0 || 1);
  const my = 0.1 * (y1 - y0 || 1);
  return { x0: x0 - mx, x1: x1 + mx, y0: y0 - my, y1: y1 + my };
}

/**
 * Classifies a GRID×GRID lattice over the plane with the model (one batched forward pass, no tape) and paints
 * each cell in its class's colour, paler where the model is less sure; then the data points on top.
 * For the 1-D regression set it draws the model's curve through the points instead.
 */
export async function drawRegions(
  canvas: HTMLCanvasElement,
  rt: Runtime,
  model: Module,
  data: Dataset,
  b: Bounds,
): Promise<void> {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const px = (x: number) => ((x - b.x0) / (b.x1 - b.x0)) * width;
  const py = (y: number) => (1 - (y - b.y0) / (b.y1 - b.y0)) * height;

  if (data.features === 1) {
    const xs = Float32Array.from({ length: 200 }, (_, i) => b.x0 + ((b.x1 - b.x0) * i) / 199);
    const curve = rt.noGrad(() => rt.tidy(() => model.forward(rt.tensor(xs, [xs.length, 1]))));
    const ys = await curve.data();
    curve.dispose();
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    drawPoints(ctx, data, px, py);
    ctx.strokeStyle = '#e8710a';
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    xs.forEach((x, i) => (i ? ctx.lineTo(px(x), py(ys[i])) : ctx.moveTo(px(x), py(ys[i]))));
    ctx.stroke();
    return;
  }

  const lattice = new Float32Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++)
    for (let c = 0; c < GRID; c++) {
      lattice[2 * (r * GRID + c)] = b.x0 + ((c + 0.5) / GRID) * (b.x1 - b.x0);
      lattice[2 * (r * GRID + c) + 1] = b.y1 - ((r + 0.5) / GRID) * (b.y1 - b.y0);
    }
  const logitsTensor = rt.noGrad(() => rt.tidy(() => model.forward(rt.tensor(lattice, [GRID * GRID, 2]))));
  const logits = await logitsTensor.data();
  logitsTensor.dispose();
  const n = data.classes;
  const image = ctx.createImageData(GRID, GRID);
  for (let i = 0; i < GRID * GRID; i++) {
    let best = 0;
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      if (logits[i * n + j] > max) {
        max = logits[i * n + j];
        best = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(logits[i * n + j] - max);
    const confidence = 1 / sum; // the winning class's softmax probability
    const strength = 0.15 + 0.45 * Math.max(0, (confidence - 1 / n) / (1 - 1 / n));
    const [r, g, bl] = CLASS_COLORS[best % CLASS_COLORS.length];
    image.data.set([255 + (r - 255) * strength, 255 + (g - 255) * strength, 255 + (bl - 255) * strength, 255], i * 4);
  }
  // Painted small, then scaled up with smoothing: soft region edges at a fraction of the forward pass's cost.
  const small = new OffscreenCanvas(GRID, GRID);
  small.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, width, height);
  drawPoints(ctx, data, px, py);
}

function drawPoints(
  ctx: CanvasRenderingContext2D,
  data: Dataset,
  px: (x: number) => number,
  py: (y: number) => number,
): void {
  for (let i = 0; i < data.size; i++) {
    const [x, y] = data.features === 1 ? [data.x[i], data.y[i]] : [data.x[2 * i], data.x[2 * i + 1]];
    const [r, g, b] = data.classes > 0 ? CLASS_COLORS[data.y[i] % CLASS_COLORS.length] : [90, 90, 90];
    ctx.beginPath();
    ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 1;
    ctx.fill();
    ctx.stroke();
  }
}
