// Layer and RMS normalisation over the last axis: one fused kernel forward, which also saves each row's (μ, r) when
// a gradient will be needed, and one fused kernel for dx backward that reads them; dγ and dβ are column sums by the
// reduction kernel.
import { apply, defineOp, type Tensor } from '../tensor/tensor.js';
import { formatShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid, grid1d, type Bindings, type GpuOperand } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { sumTo } from './reduce.js';
import normSource from '../../shaders/norm.wgsl?raw';
import elemF32 from '../../shaders/elem_f32.wgsl?raw';
import elemVec4 from '../../shaders/elem_vec4.wgsl?raw';

// Rows whose length is a multiple of 4 are read and written as vec4s (half the cost per float on SwiftShader).
const normShaders = {
  f32: new Shader('norm', elemF32 + normSource),
  vec4: new Shader('norm_vec4', elemVec4 + normSource),
};
const floatsPerElem = (x: Shape) => (rowsOf(x).cols % 4 === 0 ? 4 : 1);
const normShader = (x: Shape) => (floatsPerElem(x) === 4 ? normShaders.vec4 : normShaders.f32);

// Which rows share a workgroup (a strided share per invocation, then workgroupSum) instead of one invocation walking
// the row. On GPUs, rows past SHORT_ROW do, for coalesced reads and parallelism. On software adapters barriers cost so
// much that one invocation per row won everywhere measured (SwiftShader, layerNorm [512, 128] forward: 2.2 ms by row,
// 39 ms by workgroup) except a few very long rows ([8, 4096]: 1.1 ms against 1.2 ms).
const SHORT_ROW = 64;
const SOFTWARE_LONG_ROW = 1024;
const SOFTWARE_FEW_ROWS = 16;

export type NormKind = 'layerNorm' | 'rmsNorm';

/** Kernel names in traces and profiles: `layer_norm_forward_by_row`, `rms_norm_backward`, …. */
const KERNEL_PREFIX: Record<NormKind, string> = { layerNorm: 'layer_norm', rmsNorm: 'rms_norm' };

interface NormParams {
  kind: NormKind;
  eps: number;
  hasGamma: boolean;
  hasBeta: boolean;
  /** The last input is a [..., 2] tensor that the forward fills with each row's (μ, r) for the backward. */
  saveStats: boolean;
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

function checkStatsShape(op: string, x: Shape, stats: Shape): void {
  if (stats.length !== x.length || stats[stats.length - 1] !== 2 || sizeOf(stats) * x[x.length - 1] !== sizeOf(x) * 2) {
    throw new Error(`${op}: saved statistics ${formatShape(stats)} do not fit x ${formatShape(x)}`);
  }
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

function layout(direction: 'forward' | 'forward_saving' | 'backward', x: Shape, software: boolean) {
  const { rows, cols } = rowsOf(x);
  const byRow = software ? cols <= SOFTWARE_LONG_ROW || rows >= SOFTWARE_FEW_ROWS : cols <= SHORT_ROW;
  return byRow
    ? { entry: `${direction}_by_row`, workgroups: elementwiseGrid(rows) }
    : { entry: direction, workgroups: grid1d(rows) };
}

/** y = (x − μ)·r·γ + β over the last axis: [..., C], γ [C]?, β [C]?, stats [..., 2]? → [..., C]. */
export const normOp = defineOp<NormParams>({
  name: 'norm',
  shape(inputs, params) {
    checkNormShapes(params.kind, inputs, params);
    if (params.saveStats) checkStatsShape(params.kind, inputs[0], inputs[inputs.length - 1]);
    return inputs[0];
  },
  cpu(inputs, params) {
    const [x] = inputs;
    const { rows, cols } = rowsOf(x.shape);
    const gamma = params.hasGamma ? inputs[1].data : null;
    const beta = params.hasBeta ? inputs[params.hasGamma ? 2 : 1].data : null;
    const stats = params.saveStats ? inputs[inputs.length - 1].data : null;
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const [mean, rstd] = rowStatistics(x.data, base, cols, params.kind, params.eps);
      if (stats) stats.set([mean, rstd], 2 * r);
      for (let j = 0; j < cols; j++)
        out[base + j] = (x.data[base + j] - mean) * rstd * (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0);
    }
    return out;
  },
  gpu(gpu, inputs, params, out) {
    const [x] = inputs;
    const gamma = params.hasGamma ? inputs[1] : x;
    const beta = params.hasBeta ? inputs[params.hasGamma ? 2 : 1] : x;
    const { entry, workgroups } = layout(params.saveStats ? 'forward_saving' : 'forward', x.shape, gpu.software);
    const bindings: Bindings = { x, gamma, beta, out, params: uniform(x.shape, params) };
    if (params.saveStats) bindings.stats = inputs[inputs.length - 1];
    gpu.dispatch(
      { name: `${KERNEL_PREFIX[params.kind]}_${entry}`, shader: normShader(x.shape), entry },
      bindings,
      workgroups,
      {
        perInvocation: floatsPerElem(x.shape),
      },
    );
  },
  vjp(g, inputs, params) {
    const [x] = inputs;
    const gamma = params.hasGamma ? inputs[1] : null;
    const stats = inputs[inputs.length - 1];
    const dx = apply(g.owner, normGradOp, gamma ? [x, gamma, stats, g] : [x, stats, g], { ...params, hasBeta: false });
    const grads: (Tensor | null)[] = [dx];
    const cols = x.shape[x.rank - 1];
    if (gamma) grads.push(sumTo(apply(g.owner, scaledNormalizedOp, [x, stats, g], params), [cols]));
    if (params.hasBeta) grads.push(sumTo(g, [cols]));
    // The saved statistics are not differentiable inputs.
    grads.push(null);
    return grads;
  },
});

/** The gradient's last two inputs: the saved statistics, then g. */
function gradInputs<T>(inputs: readonly T[]): { stats: T; g: T } {
  return { stats: inputs[inputs.length - 2], g: inputs[inputs.length - 1] };
}

/** dx of the normalisation given its output gradient g: [x, γ?, stats, g] → the shape of x. */
export const normGradOp = defineOp<NormParams>({
  name: 'normGrad',
  shape(inputs, params) {
    const op = `${params.kind}Grad`;
    const x = inputs[0];
    const { stats, g } = gradInputs(inputs);
    checkNormShapes(op, inputs.slice(0, -2), { ...params, hasBeta: false });
    checkStatsShape(op, x, stats);
    if (formatShape(g) !== formatShape(x))
      throw new Error(`${op}: gradient ${formatShape(g)} does not match x ${formatShape(x)}`);
    return x;
  },
  cpu(inputs, { kind, hasGamma }) {
    const [x] = inputs;
    const gamma = hasGamma ? inputs[1].data : null;
    const { stats, g } = gradInputs(inputs.map((i) => i.data));
    const { rows, cols } = rowsOf(x.shape);
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const [mean, rstd] = [stats[2 * r], stats[2 * r + 1]];
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
    const { stats: saved, g } = gradInputs(inputs);
    const { entry, workgroups } = layout('backward', x.shape, gpu.software);
    const bindings = { x, gamma, saved, g, out, params: uniform(x.shape, params) };
    gpu.dispatch(
      { name: `${KERNEL_PREFIX[params.kind]}_${entry}`, shader: normShader(x.shape), entry },
      bindings,
      workgroups,
      {
        perInvocation: floatsPerElem(x.shape),
      },
    );
  },
});

/** g·x̂ from the saved statistics, whose column sums are dγ: [x, stats, g] → the shape of x. */
const scaledNormalizedOp = defineOp<NormParams>({
  name: 'normScaledNormalized',
  shape([x, stats, g], { kind }) {
    checkStatsShape(`${kind}Grad`, x, stats);
    if (formatShape(g) !== formatShape(x))
      throw new Error(`${kind}Grad: gradient ${formatShape(g)} does not match x ${formatShape(x)}`);
    return x;
  },
  cpu([x, stats, g]) {
    const cols = x.shape[x.shape.length - 1];
    return x.data.map((v, i) => {
      const r = Math.floor(i / cols);
      return g.data[i] * (v - stats.data[2 * r]) * stats.data[2 * r + 1];
    });
  },
  gpu(gpu, [x, saved, g], params, out) {
    const bindings = { x, saved, g, out, params: uniform(x.shape, params) };
    const name = `${KERNEL_PREFIX[params.kind]}_scaled_normalized`;
    const perInvocation = floatsPerElem(x.shape);
    gpu.dispatch(
      { name, shader: normShader(x.shape), entry: 'scaled_normalized' },
      bindings,
      elementwiseGrid(sizeOf(x.shape) / perInvocation),
      { perInvocation },
    );
  },
});

function checkEps(op: string, eps: unknown): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw new Error(`${op}: eps must be a finite number ≥ 0, got ${String(eps)}`);
  return eps;
}

/**
 * Runs the forward op; when its result will record a tape, it also gets a [..., 2] tensor to save each row's (μ, r)
 * into, filled with NaN so that a row the kernel missed cannot pass for a statistic.
 */
function normalize(inputs: Tensor[], params: Omit<NormParams, 'saveStats'>): Tensor {
  const [x] = inputs;
  const owner = x.owner;
  if (!(owner.gradEnabled && inputs.some((t) => t.requiresGrad)))
    return apply(owner, normOp, inputs, { ...params, saveStats: false });
  checkNormShapes(
    params.kind,
    inputs.map((t) => t.shape),
    { ...params, saveStats: false },
  );
  const statsShape = [...x.shape.slice(0, -1), 2];
  const stats = owner.tensor(new Float32Array(sizeOf(statsShape)).fill(NaN), statsShape);
  try {
    return apply(owner, normOp, [...inputs, stats], { ...params, saveStats: true });
  } finally {
    // The tape holds the statistics for the backward pass; the handle is not the caller's.
    stats.dispose();
  }
}

export function layerNorm(
  x: Tensor,
  gamma?: Tensor | null,
  beta?: Tensor | null,
  options: LayerNormOptions = {},
): Tensor {
  const eps = checkEps('layerNorm', options.eps ?? 1e-5);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return normalize(inputs, { kind: 'layerNorm', eps, hasGamma: !!gamma, hasBeta: !!beta });
}

export function rmsNorm(x: Tensor, gamma?: Tensor | null, options: RmsNormOptions = {}): Tensor {
  const eps = checkEps('rmsNorm', options.eps ?? 1e-6);
  return normalize(gamma ? [x, gamma] : [x], { kind: 'rmsNorm', eps, hasGamma: !!gamma, hasBeta: false });
}
