// Layer and RMS normalisation over the last axis: one fused kernel forward, one fused kernel for dx backward;
// dγ and dβ are column sums by the reduction kernel.
import { apply, defineOp, type Tensor } from '../tensor/tensor.js';
import { formatShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid, grid1d, type GpuOperand } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { binary } from './elementwise.js';
import { sumTo } from './reduce.js';
import normSource from '../../shaders/norm.wgsl?raw';

const normShader = new Shader('norm', normSource);

// Up to this row length one invocation walks a whole row with no barriers; longer rows share a workgroup.
const SHORT_ROW = 64;

export type NormKind = 'layerNorm' | 'rmsNorm';

/** Kernel names in traces and profiles: `layer_norm_forward_by_row`, `rms_norm_backward`, …. */
const KERNEL_PREFIX: Record<NormKind, string> = { layerNorm: 'layer_norm', rmsNorm: 'rms_norm' };

interface NormParams {
  kind: NormKind;
  eps: number;
  hasGamma: boolean;
  hasBeta: boolean;
}

export interface LayerNormOptions {
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
}

export interface RmsNormOptions {
  /** Added to the mean square before the square root; default 1e-6. */
  eps?: number;
}

function rowsOf(x: Shape): { rows: number; cols: number } {
  const cols = x[x.length - 1];
  return { rows: sizeOf(x) / cols, cols };
}

/** The inputs after x: γ when present, then β when present. */
function affine(inputs: readonly Shape[], { hasGamma, hasBeta }: NormParams): { gamma?: Shape; beta?: Shape } {
  let next = 1;
  const gamma = hasGamma ? inputs[next++] : undefined;
  const beta = hasBeta ? inputs[next] : undefined;
  return { gamma, beta };
}

function checkNormShapes(op: string, inputs: readonly Shape[], params: NormParams): void {
  const x = inputs[0];
  if (x.length === 0) throw new Error(`${op}: x must have at least one axis, got a scalar ${formatShape(x)}`);
  const { gamma, beta } = affine(inputs, params);
  const cols = x[x.length - 1];
  for (const [name, shape] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (shape && (shape.length !== 1 || shape[0] !== cols)) {
      throw new Error(`${op}: ${name} ${formatShape(shape)} must be [${cols}], the last axis of x ${formatShape(x)}`);
    }
  }
}

/** Per-row (μ, r) in float64: two-pass, so that offsets far from 0 do not cancel the variance. */
function rowStatistics(x: Float64Array, base: number, cols: number, kind: NormKind, eps: number): [number, number] {
  let mean = 0;
  if (kind === 'layerNorm') {
    for (let j = 0; j < cols; j++) mean += x[base + j];
    mean /= cols;
  }
  let squares = 0;
  for (let j = 0; j < cols; j++) squares += (x[base + j] - mean) ** 2;
  return [mean, 1 / Math.sqrt(squares / cols + eps)];
}

function uniform(x: Shape, { kind, eps, hasGamma, hasBeta }: NormParams) {
  const { rows, cols } = rowsOf(x);
  return { rows, cols, eps, rms: kind === 'rmsNorm' ? 1 : 0, hasGamma: hasGamma ? 1 : 0, hasBeta: hasBeta ? 1 : 0 };
}

function layout(direction: 'forward' | 'backward', x: Shape) {
  const { rows, cols } = rowsOf(x);
  return cols <= SHORT_ROW
    ? { entry: `${direction}_by_row`, workgroups: elementwiseGrid(rows) }
    : { entry: direction, workgroups: grid1d(rows) };
}

/** y = (x − μ)·r·γ + β over the last axis: [..., C], γ [C]?, β [C]? → [..., C]. */
export const normOp = defineOp<NormParams>({
  name: 'norm',
  shape(inputs, params) {
    checkNormShapes(params.kind, inputs, params);
    return inputs[0];
  },
  cpu(inputs, params) {
    const [x] = inputs;
    const { rows, cols } = rowsOf(x.shape);
    const gamma = params.hasGamma ? inputs[1].data : null;
    const beta = params.hasBeta ? inputs[params.hasGamma ? 2 : 1].data : null;
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const [mean, rstd] = rowStatistics(x.data, base, cols, params.kind, params.eps);
      for (let j = 0; j < cols; j++)
        out[base + j] = (x.data[base + j] - mean) * rstd * (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0);
    }
    return out;
  },
  gpu(gpu, inputs, params, out) {
    const [x] = inputs;
    const gamma = params.hasGamma ? inputs[1] : x;
    const beta = params.hasBeta ? inputs[params.hasGamma ? 2 : 1] : x;
    const { entry, workgroups } = layout('forward', x.shape);
    gpu.dispatch(
      { name: `${KERNEL_PREFIX[params.kind]}_${entry}`, shader: normShader, entry },
      { x, gamma, beta, out, params: uniform(x.shape, params) },
      workgroups,
    );
  },
  vjp(g, inputs, params) {
    const [x] = inputs;
    const gamma = params.hasGamma ? inputs[1] : null;
    const dx = apply(g.owner, normGradOp, gamma ? [x, gamma, g] : [x, g], { ...params, hasBeta: false });
    const grads: (Tensor | null)[] = [dx];
    if (gamma) {
      const normalized = apply(g.owner, normOp, [x], {
        kind: params.kind,
        eps: params.eps,
        hasGamma: false,
        hasBeta: false,
      });
      grads.push(sumTo(binary('mul', g, normalized), gamma.shape));
    }
    if (params.hasBeta) grads.push(sumTo(g, [x.shape[x.rank - 1]]));
    return grads;
  },
});

/** dx of the normalisation given its output gradient g: [x, γ?, g] → the shape of x. */
export const normGradOp = defineOp<NormParams>({
  name: 'normGrad',
  shape(inputs, params) {
    const op = `${params.kind}Grad`;
    const x = inputs[0];
    const g = inputs[inputs.length - 1];
    checkNormShapes(op, inputs.slice(0, -1), params);
    if (formatShape(g) !== formatShape(x))
      throw new Error(`${op}: gradient ${formatShape(g)} does not match x ${formatShape(x)}`);
    return x;
  },
  cpu(inputs, { kind, eps, hasGamma }) {
    const [x] = inputs;
    const gamma = hasGamma ? inputs[1].data : null;
    const g = inputs[inputs.length - 1].data;
    const { rows, cols } = rowsOf(x.shape);
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const [mean, rstd] = rowStatistics(x.data, base, cols, kind, eps);
      let sumH = 0;
      let sumHX = 0;
      for (let j = 0; j < cols; j++) {
        const h = g[base + j] * (gamma ? gamma[j] : 1);
        sumH += h;
        sumHX += h * (x.data[base + j] - mean) * rstd;
      }
      const meanH = kind === 'layerNorm' ? sumH / cols : 0;
      for (let j = 0; j < cols; j++) {
        const h = g[base + j] * (gamma ? gamma[j] : 1);
        out[base + j] = rstd * (h - meanH - (x.data[base + j] - mean) * rstd * (sumHX / cols));
      }
    }
    return out;
  },
  gpu(gpu, inputs, params, out) {
    const [x] = inputs;
    const gamma: GpuOperand = params.hasGamma ? inputs[1] : x;
    const g = inputs[inputs.length - 1];
    const { entry, workgroups } = layout('backward', x.shape);
    gpu.dispatch(
      { name: `${KERNEL_PREFIX[params.kind]}_${entry}`, shader: normShader, entry },
      { x, gamma, g, out, params: uniform(x.shape, params) },
      workgroups,
    );
  },
});

function checkEps(op: string, eps: unknown): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw new Error(`${op}: eps must be a finite number ≥ 0, got ${String(eps)}`);
  return eps;
}

export function layerNorm(
  x: Tensor,
  gamma?: Tensor | null,
  beta?: Tensor | null,
  options: LayerNormOptions = {},
): Tensor {
  const eps = checkEps('layerNorm', options.eps ?? 1e-5);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return apply(x.owner, normOp, inputs, { kind: 'layerNorm', eps, hasGamma: !!gamma, hasBeta: !!beta });
}

export function rmsNorm(x: Tensor, gamma?: Tensor | null, options: RmsNormOptions = {}): Tensor {
  const eps = checkEps('rmsNorm', options.eps ?? 1e-6);
  return apply(x.owner, normOp, gamma ? [x, gamma] : [x], { kind: 'rmsNorm', eps, hasGamma: !!gamma, hasBeta: false });
}
