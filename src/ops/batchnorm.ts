// Batch normalisation over x [N, C, H, W] with per-channel statistics over N·H·W.
// Training: one op normalises with the batch's (mean, biased variance), which it saves per channel, two-pass; its
// backward is one fused kernel for dx that reads them, with dγ and dβ as per-channel reductions (which dx needs
// too). The running statistics are updated in place by an in-place op, so a compiled step replays the update.
// Eval: the running statistics folded into a per-channel scale and shift, composed from existing ops.
import { apply, checkTensors, defineOp, type Tensor } from '../tensor/tensor.js';
import { defineInPlaceOp, elementwiseGrid, type Bindings, type CpuOperand, type GpuOperand } from '../core/kernel.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../core/shape.js';
import { Shader } from '../core/shader.js';
import { sum } from './reduce.js';
import { binary, unary } from './elementwise.js';
import { reshape } from './views.js';
import batchNormSource from '../../shaders/batchnorm.wgsl?raw';

const batchNormShader = new Shader('batchnorm', batchNormSource);

export interface BatchNorm2dOptions {
  /** Batch statistics (and a running-statistics update) when true; the running statistics when false. Default true. */
  training?: boolean;
  /** The weight of the batch in running = (1 − momentum)·running + momentum·batch; default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
}

interface BatchNormParams {
  eps: number;
  hasGamma: boolean;
  hasBeta: boolean;
}

/** The reduced axes of NCHW: every one but the channel. */
const STATISTICS_AXES = [0, 2, 3];

function layoutOf(x: Shape) {
  return { channels: x[1], spatial: x[2] * x[3], count: x[0] * x[2] * x[3], size: sizeOf(x) };
}

function checkChannelShape(op: string, name: string, shape: Shape | undefined, x: Shape): void {
  if (shape && (shape.length !== 1 || shape[0] !== x[1]))
    throw new Error(`${op}: ${name} ${formatShape(shape)} must be [${x[1]}], the channels of x ${formatShape(x)}`);
}

function checkX(op: string, x: Shape): void {
  if (x.length !== 4) throw new Error(`${op}: x must be 4-D [N, C, H, W], got ${formatShape(x)}`);
}

function checkStats(op: string, stats: Shape, x: Shape): void {
  if (stats.length !== 2 || stats[0] !== x[1] || stats[1] !== 2)
    throw new Error(`${op}: saved statistics ${formatShape(stats)} must be [${x[1]}, 2] for x ${formatShape(x)}`);
}

/** γ and β among the inputs after x, when present. */
function affine<T>(inputs: readonly T[], { hasGamma, hasBeta }: BatchNormParams): { gamma?: T; beta?: T } {
  let next = 1;
  const gamma = hasGamma ? inputs[next++] : undefined;
  const beta = hasBeta ? inputs[next] : undefined;
  return { gamma, beta };
}

function uniform(x: Shape, { eps, hasGamma, hasBeta }: BatchNormParams) {
  return { ...layoutOf(x), eps, hasGamma: hasGamma ? 1 : 0, hasBeta: hasBeta ? 1 : 0, momentum: 0 };
}

/** Per-channel (mean, biased variance) of x in float64, two-pass. */
function channelStatistics(x: CpuOperand): Float64Array {
  const { channels, spatial, count } = layoutOf(x.shape);
  const batch = x.shape[0];
  const stats = new Float64Array(channels * 2);
  for (let c = 0; c < channels; c++) {
    let total = 0;
    for (let n = 0; n < batch; n++) for (let s = 0; s < spatial; s++) total += x.data[(n * channels + c) * spatial + s];
    const mean = total / count;
    let squares = 0;
    for (let n = 0; n < batch; n++)
      for (let s = 0; s < spatial; s++) squares += (x.data[(n * channels + c) * spatial + s] - mean) ** 2;
    stats[2 * c] = mean;
    stats[2 * c + 1] = squares / count;
  }
  return stats;
}

/**
 * Training forward: [x, γ?, β?, stats] → y. It fills stats [C, 2] with each channel's (mean, biased variance), which
 * the backward and the running-statistics update read.
 */
export const batchNormTrainOp = defineOp<BatchNormParams>({
  name: 'batchNorm2d',
  shape(inputs, params) {
    const x = inputs[0];
    checkX('batchNorm2d', x);
    const { gamma, beta } = affine(inputs, params);
    checkChannelShape('batchNorm2d', 'gamma', gamma, x);
    checkChannelShape('batchNorm2d', 'beta', beta, x);
    checkStats('batchNorm2d', inputs[inputs.length - 1], x);
    return x;
  },
  cpu(inputs, params) {
    const x = inputs[0];
    const { gamma, beta } = affine(inputs, params);
    const stats = inputs[inputs.length - 1].data;
    stats.set(channelStatistics(x));
    const { channels, spatial, size } = layoutOf(x.shape);
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const c = Math.floor(i / spatial) % channels;
      const normalized = (x.data[i] - stats[2 * c]) / Math.sqrt(stats[2 * c + 1] + params.eps);
      out[i] = normalized * (gamma ? gamma.data[c] : 1) + (beta ? beta.data[c] : 0);
    }
    return out;
  },
  gpu(gpu, inputs, params, out) {
    const x = inputs[0];
    const { gamma = x, beta = x } = affine(inputs, params);
    const stats = inputs[inputs.length - 1];
    const values = uniform(x.shape, params);
    // One invocation per channel, with no barriers. A workgroup per channel (strided shares and workgroupSum) was
    // slower on SwiftShader at the ConvNet's shapes: [32,8,28,28] 6.4 ms against 2.7, [32,16,14,14] 4.6 against 1.6.
    gpu.dispatch(
      { name: 'batch_norm_statistics', shader: batchNormShader, entry: 'statistics' },
      { x, stats, params: values },
      elementwiseGrid(values.channels),
    );
    const bindings: Bindings = { x, gamma, beta, saved: stats, out, params: values };
    gpu.dispatch(
      { name: 'batch_norm_forward', shader: batchNormShader, entry: 'forward' },
      bindings,
      elementwiseGrid(values.size),
    );
  },
  vjp(g, inputs, params) {
    const x = inputs[0];
    const { gamma } = affine(inputs, params);
    const stats = inputs[inputs.length - 1];
    // Σg and Σg·x̂ per channel are dβ and dγ, and dx is made of them.
    const dBeta = sum(g, STATISTICS_AXES);
    const dGamma = sum(apply(g.owner, scaledNormalizedOp, [x, stats, g], params), STATISTICS_AXES);
    const gradInputs = gamma ? [x, gamma, stats, g, dGamma, dBeta] : [x, stats, g, dGamma, dBeta];
    const dx = apply(g.owner, batchNormGradOp, gradInputs, { ...params, hasBeta: false });
    return [dx, ...(gamma ? [dGamma] : []), ...(params.hasBeta ? [dBeta] : []), null];
  },
});

/** g·x̂ from the saved statistics: [x, stats, g] → the shape of x; its channel sums are dγ. */
const scaledNormalizedOp = defineOp<BatchNormParams>({
  name: 'batchNorm2dScaledNormalized',
  shape([x, stats, g]) {
    checkStats('batchNorm2dGrad', stats, x);
    if (!sameShape(g, x))
      throw new Error(`batchNorm2dGrad: gradient ${formatShape(g)} does not match x ${formatShape(x)}`);
    return x;
  },
  cpu([x, stats, g], { eps }) {
    const { channels, spatial } = layoutOf(x.shape);
    return x.data.map((v, i) => {
      const c = Math.floor(i / spatial) % channels;
      return (g.data[i] * (v - stats.data[2 * c])) / Math.sqrt(stats.data[2 * c + 1] + eps);
    });
  },
  gpu(gpu, [x, saved, g], params, out) {
    const values = uniform(x.shape, params);
    gpu.dispatch(
      { name: 'batch_norm_scaled_normalized', shader: batchNormShader, entry: 'scaled_normalized' },
      { x, saved, g, out, params: values },
      elementwiseGrid(values.size),
    );
  },
});

/**
 * dx of the training normalisation: [x, γ?, stats, g, dγ, dβ] → the shape of x, with n = N·H·W and r = 1/√(var + eps):
 * dx = γ·r·(g − dβ/n − x̂·dγ/n).
 */
const batchNormGradOp = defineOp<BatchNormParams>({
  name: 'batchNorm2dGrad',
  shape(inputs, params) {
    const x = inputs[0];
    const [stats, g, dGamma, dBeta] = inputs.slice(-4);
    checkChannelShape('batchNorm2dGrad', 'gamma', params.hasGamma ? inputs[1] : undefined, x);
    checkStats('batchNorm2dGrad', stats, x);
    checkChannelShape('batchNorm2dGrad', 'dgamma', dGamma, x);
    checkChannelShape('batchNorm2dGrad', 'dbeta', dBeta, x);
    if (!sameShape(g, x))
      throw new Error(`batchNorm2dGrad: gradient ${formatShape(g)} does not match x ${formatShape(x)}`);
    return x;
  },
  cpu(inputs, params) {
    const x = inputs[0];
    const gamma = params.hasGamma ? inputs[1].data : null;
    const [stats, g, dGamma, dBeta] = inputs.slice(-4).map((i) => i.data);
    const { channels, spatial, count, size } = layoutOf(x.shape);
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const c = Math.floor(i / spatial) % channels;
      const rstd = 1 / Math.sqrt(stats[2 * c + 1] + params.eps);
      const xhat = (x.data[i] - stats[2 * c]) * rstd;
      out[i] = (gamma ? gamma[c] : 1) * rstd * (g[i] - dBeta[c] / count - (xhat * dGamma[c]) / count);
    }
    return out;
  },
  gpu(gpu, inputs, params, out) {
    const x = inputs[0];
    const gamma: GpuOperand = params.hasGamma ? inputs[1] : x;
    const [saved, g, dgamma, dbeta] = inputs.slice(-4);
    const values = uniform(x.shape, params);
    gpu.dispatch(
      { name: 'batch_norm_backward', shader: batchNormShader, entry: 'backward' },
      { x, gamma, saved, g, dgamma, dbeta, out, params: values },
      elementwiseGrid(values.size),
    );
  },
});

interface RunningUpdate {
  momentum: number;
  /** N·H·W: the batch variance times count/(count − 1) is the unbiased one. */
  count: number;
}

/** [runningMean, runningVar, stats]: running = (1 − momentum)·running + momentum·batch, the variance unbiased. */
export const runningStatisticsUpdate = defineInPlaceOp<RunningUpdate>({
  name: 'batchNorm2dRunningStatistics',
  check([mean, variance, stats]) {
    const channels = stats[0];
    for (const [name, shape] of [
      ['runningMean', mean],
      ['runningVar', variance],
    ] as const) {
      if (shape.length !== 1 || shape[0] !== channels)
        throw new Error(`batchNorm2d: ${name} ${formatShape(shape)} must be [${channels}]`);
    }
  },
  cpu([mean, variance, stats], { momentum, count }) {
    const unbias = count / (count - 1);
    for (let c = 0; c < mean.data.length; c++) {
      mean.data[c] = (1 - momentum) * mean.data[c] + momentum * stats.data[2 * c];
      variance.data[c] = (1 - momentum) * variance.data[c] + momentum * stats.data[2 * c + 1] * unbias;
    }
  },
  gpu(gpu, [runningMean, runningVar, saved], { momentum, count }) {
    const channels = runningMean.shape[0];
    const params = { size: channels, channels, spatial: 1, count, eps: 0, hasGamma: 0, hasBeta: 0, momentum };
    gpu.dispatch(
      { name: 'batch_norm_running_update', shader: batchNormShader, entry: 'running_update' },
      { runningMean, runningVar, saved, params },
      elementwiseGrid(channels),
    );
  },
});

function checkNumberOption(op: string, name: string, value: unknown, ok: (v: number) => boolean, rule: string) {
  if (typeof value !== 'number' || !ok(value)) throw new Error(`${op}: ${name} must be ${rule}, got ${String(value)}`);
  return value;
}

export function batchNorm2d(
  x: Tensor,
  gamma: Tensor | null | undefined,
  beta: Tensor | null | undefined,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  options: BatchNorm2dOptions = {},
): Tensor {
  const op = 'batchNorm2d';
  const owner = x.owner;
  const training = options.training ?? true;
  const eps = checkNumberOption(
    op,
    'eps',
    options.eps ?? 1e-5,
    (v) => Number.isFinite(v) && v >= 0,
    'a finite number ≥ 0',
  );
  const momentum = checkNumberOption(op, 'momentum', options.momentum ?? 0.1, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  checkX(op, x.shape);
  const present = [gamma, beta, runningMean, runningVar].filter((t): t is Tensor => !!t);
  checkTensors(op, owner, present);
  checkChannelShape(op, 'gamma', gamma?.shape, x.shape);
  checkChannelShape(op, 'beta', beta?.shape, x.shape);
  checkChannelShape(op, 'runningMean', runningMean?.shape, x.shape);
  checkChannelShape(op, 'runningVar', runningVar?.shape, x.shape);
  if (!!runningMean !== !!runningVar)
    throw new Error(`${op}: give both runningMean and runningVar, or neither (x ${formatShape(x.shape)})`);
  if (!training) {
    if (!runningMean || !runningVar)
      throw new Error(
        `${op}: eval mode (training: false) needs runningMean and runningVar (x ${formatShape(x.shape)})`,
      );
    return evalNormalize(x, gamma ?? null, beta ?? null, runningMean, runningVar, eps);
  }
  const { count, channels } = layoutOf(x.shape);
  if (count < 2)
    throw new Error(`${op}: training needs more than one value per channel, got x ${formatShape(x.shape)}`);
  const stats = owner.tensor(new Float32Array(channels * 2).fill(NaN), [channels, 2]);
  try {
    const params: BatchNormParams = { eps, hasGamma: !!gamma, hasBeta: !!beta };
    const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : []), stats];
    const y = apply(owner, batchNormTrainOp, inputs, params);
    if (runningMean && runningVar) {
      const operands = [runningMean, runningVar, stats].map((t) => ({ storage: t.live(op), shape: t.shape }));
      owner.backend.runInPlace(runningStatisticsUpdate, operands, { momentum, count });
    }
    return y;
  } finally {
    // The tape holds the statistics for the backward pass; the handle is not the caller's.
    stats.dispose();
  }
}

/** (x − mean)·γ/√(var + eps) + β as x·scale + shift, with scale and shift per channel [C, 1, 1]. */
function evalNormalize(
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  mean: Tensor,
  variance: Tensor,
  eps: number,
) {
  const channels = x.shape[1];
  const inverseStd = unary('rsqrt', binary('add', variance, eps));
  const scale = gamma ? binary('mul', gamma, inverseStd) : inverseStd;
  const shift = binary('sub', beta ?? 0, binary('mul', mean, scale));
  const column = (t: Tensor) => reshape(t, [channels, 1, 1]);
  return binary('add', binary('mul', x, column(scale)), column(shift));
}
