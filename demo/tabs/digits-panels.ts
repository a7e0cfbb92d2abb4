// The Digits tab's canvases: the grid of test digits coloured right or wrong, and the box to draw a digit in,
// turned into a 28×28 input the way MNIST's digits were made (fitted into 20×20, centred by mass).
import type { DigitsSplit } from '../../src/index.js';

const SIDE = 28;

/** The first `count` test digits, `columns` a row, each framed green when predicted right and red when wrong. */
export function drawDigitGrid(
  canvas: HTMLCanvasElement,
  split: DigitsSplit,
  predictions: ArrayLike<number>,
  count: number,
  columns: number,
): void {
  const cell = SIDE + 4;
  const rows = Math.ceil(count / columns);
  canvas.width = columns * cell;
  canvas.height = rows * cell;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const image = ctx.createImageData(SIDE, SIDE);
  for (let i = 0; i < count; i++) {
    const [x, y] = [(i % columns) * cell, Math.floor(i / columns) * cell];
    const right = predictions[i] === split.labels[i];
    ctx.fillStyle = right ? '#188038' : '#c5221f';
    ctx.fillRect(x, y, cell - 1, cell - 1);
    for (let p = 0; p < SIDE * SIDE; p++) {
      const v = split.images[i * SIDE * SIDE + p];
      image.data.set([v, v, v, 255], 4 * p);
    }
    ctx.putImageData(image, x + 2, y + 2);
  }
}

/**
 * A box to draw in with a mouse, a pen or a finger (pointer events). `onChange` is called while drawing, at most
 * every `throttleMs`, and when the stroke ends.
 */
export function createDrawPad(canvas: HTMLCanvasElement, onChange: () => void, throttleMs = 120): { clear(): void } {
  const ctx = canvas.getContext('2d')!;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    canvas.dataset.strokes = '0';
  };
  clear();
  let last: [number, number] | null = null;
  let lastChange = 0;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.style.touchAction = 'none'; // a finger draws instead of scrolling the page
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    canvas.dataset.strokes = String(Number(canvas.dataset.strokes) + 1);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const next = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 14;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...next);
    ctx.stroke();
    last = next;
    if (performance.now() - lastChange > throttleMs) {
      lastChange = performance.now();
      onChange();
    }
  });
  const end = () => {
    if (!last) return;
    last = null;
    onChange();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  return { clear };
}

/**
 * The drawing as MNIST's digits were made: the ink's bounding box scaled into 20×20 (keeping its aspect), then
 * placed so that its centre of mass is the centre of the 28×28 image. Values in [0, 1]; null when nothing is drawn.
 */
export function drawingToDigit(canvas: HTMLCanvasElement): Float32Array | null {
  const { width, height } = canvas;
  const pixels = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (pixels[4 * (y * width + x)] > 32)
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  if (x1 < 0) return null;
  const [w, h] = [x1 - x0 + 1, y1 - y0 + 1];
  const scale = 20 / Math.max(w, h);
  const small = document.createElement('canvas');
  small.width = small.height = SIDE;
  const ctx = small.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, SIDE, SIDE);
  const [dw, dh] = [w * scale, h * scale];
  ctx.drawImage(canvas, x0, y0, w, h, (SIDE - dw) / 2, (SIDE - dh) / 2, dw, dh);
  const boxed = ctx.getImageData(0, 0, SIDE, SIDE).data;
  let [mass, mx, my] = [0, 0, 0];
  for (let p = 0; p < SIDE * SIDE; p++) {
    const v = boxed[4 * p];
    mass += v;
    mx += v * (p % SIDE);
    my += v * Math.floor(p / SIDE);
  }
  const [shiftX, shiftY] = [Math.round((SIDE - 1) / 2 - mx / mass), Math.round((SIDE - 1) / 2 - my / mass)];
  const digit = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const [sx, sy] = [x - shiftX, y - shiftY];
      if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) digit[y * SIDE + x] = boxed[4 * (sy * SIDE + sx)] / 255;
    }
  return digit;
}
