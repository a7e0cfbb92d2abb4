// The op list: every public op once, with its documentation. The Runtime's op methods and the Tensor's chaining
// methods are both made from this table, so that neither can miss an op.
import { checkTensors, Tensor } from '../tensor/tensor.js';
import type { Context } from '../tensor/tensor.js';
import { matmul, type MatmulOptions } from './matmul.js';
import { linear, type Activation, type LinearOptions } from './linear.js';
import { permute, transpose } from './transpose.js';
import { broadcastTo, expandDims, flatten, reshape, squeeze } from './views.js';
import { ternary } from './where.js';
import {
  BINARY_METHOD_NAMES,
  UNARY_METHOD_NAMES,
  binary,
  unary,
  type BinaryMethodName,
  type UnaryMethodName,
} from './elementwise.js';
import { mean, sum, type Axes, type ReduceOptions } from './reduce.js';
import { argmax, argmin, logSumExp, max, min, variance, type VarianceOptions } from './reductions.js';
import { checkConstant, clamp } from './elementwise-checks.js';
import { mseLoss, softmaxCrossEntropy, type ClassLabels, type SoftmaxCrossEntropyOptions } from './loss.js';
import { logSoftmax, softmax } from './softmax.js';
import { attention, type AttentionOptions } from './attention.js';
import { layerNorm, rmsNorm, type LayerNormOptions, type RmsNormOptions } from './norm.js';
import { dropout, type DropoutOptions } from './dropout.js';
import { concat, pad, slice, split, stack } from './slicing.js';
import { gather, type Indices } from './gather.js';
import { conv1d, type Conv1dOptions, type Conv2dOptions } from './conv.js';
import { conv2d } from './conv-pool.js';
import { pool2d, type Pool2dOptions, type Pool2dSize } from './pool.js';
import { batchNorm2d, type BatchNorm2dOptions } from './batchnorm.js';

type Operand = Tensor | number;

/**
 * Checks the arguments under the op's public name, then runs it: the first `tensors` arguments must be live
 * tensors of the runtime it was called on (`rt.op(...)`) or of the tensor it was called on (`t.op(...)`).
 */
function publicOp<F extends (...args: never[]) => Tensor | Tensor[]>(name: string, tensors: number, fn: F): F {
  return function (this: unknown, ...args: unknown[]): Tensor | Tensor[] {
    // Tensors inside an array argument (concat's list) are checked too.
    const given = args.flatMap((a, i) =>
      i < tensors ? [a] : Array.isArray(a) ? a.filter((t) => t instanceof Tensor) : a instanceof Tensor ? [a] : [],
    );
    const owner =
      this instanceof Tensor
        ? this.owner
        : isContext(this)
          ? this
          : (given.find((a) => a instanceof Tensor) as Tensor | undefined)?.owner;
    if (owner) checkTensors(name, owner, given);
    return (fn as unknown as (...values: unknown[]) => Tensor | Tensor[])(...args);
  } as unknown as F;
}

function isContext(value: unknown): value is Context {
  return typeof value === 'object' && value !== null && 'backend' in value && 'adopt' in value;
}

/** Every elementwise row marked `method` (src/ops/elementwise.ts), with nothing to add here. */
type ElementwiseMethods = Record<UnaryMethodName, (a: Tensor) => Tensor> &
  Record<BinaryMethodName, (a: Operand, b: Operand) => Tensor>;

function elementwiseMethods(): ElementwiseMethods {
  const methods: Record<string, (...args: never[]) => Tensor> = {};
  for (const name of UNARY_METHOD_NAMES) methods[name] = publicOp(name, 1, (a: Tensor) => unary(name, a));
  for (const name of BINARY_METHOD_NAMES)
    methods[name] = publicOp(name, 0, (a: Operand, b: Operand) => binary(name, a, b));
  return methods as ElementwiseMethods;
}

/**
 * Every op as a runtime method, `rt.matmul(a, b)`; and, from its first operand, as a tensor method. The elementwise
 * rows marked `method` come from their table; some of them are documented again below.
 */
export interface TensorOps extends ElementwiseMethods {
  /**
   * op(A)·op(B) for operands of rank 2 or more: the flags transpose the last two dimensions in place (A stored
   * [..., K, M], B stored [..., N, K]), and the leading batch dimensions broadcast NumPy-style
   * ([2,1,T,D]·[1,H,D,S] → [2,H,T,S]). One kernel dispatch for the whole batch; a batched A over a 2-D B folds its
   * batch into M.
   */
  matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor;
  /**
   * act(x·w + bias) in one matmul kernel, the bias and activation applied in its epilogue. x [batch, in],
   * w [in, out] (or [out, in] with `transposeW`), bias [out] or null. Differentiable for every activation.
   */
  linear(x: Tensor, w: Tensor, bias?: Tensor | null, activation?: Activation, options?: LinearOptions): Tensor;
  /**
   * A materialised transpose: with no axes, the last two dimensions swapped (at least 2-D); with axes, `permute`.
   * `t.T` is `t.transpose()`.
   */
  transpose(a: Tensor, axes?: readonly number[]): Tensor;
  /** A materialised copy whose axis d is a's axis axes[d] (negative axes count from the end); its VJP permutes back. */
  permute(a: Tensor, axes: readonly number[]): Tensor;
  /** A view of a's storage under `shape` (same size; one dimension may be -1): nothing is copied. */
  reshape(a: Tensor, shape: readonly number[]): Tensor;
  /** A view with axes startAxis..endAxis (inclusive; by default all) merged into one. */
  flatten(a: Tensor, startAxis?: number, endAxis?: number): Tensor;
  /** A view with an axis of size 1 inserted at `axis` of the result (-1 appends it). */
  expandDims(a: Tensor, axis: number): Tensor;
  /** A view without the given axes of size 1, or without every axis of size 1 when none is given. */
  squeeze(a: Tensor, axis?: number | readonly number[]): Tensor;
  /** a repeated NumPy-style to `shape` (a copy); its gradient sums over the broadcast axes. */
  broadcastTo(a: Tensor, shape: readonly number[]): Tensor;
  /**
   * Elementwise cond ≠ 0 ? a : b, broadcasting all three NumPy-style (a and b may be numbers). Gradients go to a
   * where cond holds and to b elsewhere, none to cond.
   */
  where(cond: Tensor, a: Operand, b: Operand): Tensor;
  /** Elementwise a + b, broadcasting NumPy-style (a row vector [n] over [m, n], a scalar over anything). */
  add(a: Operand, b: Operand): Tensor;
  /** a · factor, for a constant factor. */
  scale(a: Tensor, factor: number): Tensor;
  /**
   * The sum over `axis` (a number, or a list of axes; negative ones count from the end), or over every element
   * (a scalar) when it is omitted. Axis 0 sums the rows. `keepDims` keeps each reduced axis as a 1.
   */
  sum(a: Tensor, axis?: Axes, options?: ReduceOptions): Tensor;
  /** The mean over `axis` (as for `sum`). */
  mean(a: Tensor, axis?: Axes, options?: ReduceOptions): Tensor;
  /** The largest element over `axis` (as for `sum`); its gradient goes to the first largest element. */
  max(a: Tensor, axis?: Axes, options?: ReduceOptions): Tensor;
  /** The smallest element over `axis` (as for `sum`); its gradient goes to the first smallest element. */
  min(a: Tensor, axis?: Axes, options?: ReduceOptions): Tensor;
  /** log Σ exp(a) over `axis` (as for `sum`), shifted by the maximum so that it is finite for any finite input. */
  logSumExp(a: Tensor, axis?: Axes, options?: ReduceOptions): Tensor;
  /**
   * Σ (a − mean)² / (n − correction) over `axis` (as for `sum`), with the mean computed first (two passes), so
   * values far from zero keep their precision. `correction: 1` gives the unbiased sample variance.
   */
  variance(a: Tensor, axis?: Axes, options?: VarianceOptions): Tensor;
  /**
   * The index of the largest element along `axis`, or into the flattened tensor when it is omitted; the first
   * one on ties. Indices are float32 values; the op has no gradient.
   */
  argmax(a: Tensor, axis?: number, options?: ReduceOptions): Tensor;
  /** The index of the smallest element, as for `argmax`. */
  argmin(a: Tensor, axis?: number, options?: ReduceOptions): Tensor;
  /** The logistic function 1 / (1 + e^−a), computed without overflow. */
  sigmoid(a: Tensor): Tensor;
  /** GELU in its tanh form, exactly as `linear(…, 'gelu')` computes it. */
  gelu(a: Tensor): Tensor;
  /** a · sigmoid(a), also called swish. */
  silu(a: Tensor): Tensor;
  /** log(1 + eᵃ), as max(a, 0) + log1p(e^−|a|): finite for large |a|, accurate for very negative a. */
  softplus(a: Tensor): Tensor;
  /** 1 / √a. */
  rsqrt(a: Tensor): Tensor;
  /** |a|; its gradient at 0 is 0. */
  abs(a: Tensor): Tensor;
  /**
   * a raised to a constant `exponent`, as NumPy's power: an integer exponent works for negative bases
   * ((−2)³ = −8); a non-integer exponent of a negative base gives NaN.
   */
  pow(a: Tensor, exponent: number): Tensor;
  /**
   * a limited to [min, max] (either bound may be ±Infinity). The gradient passes where min < a < max and is 0
   * elsewhere, at the bounds themselves included.
   */
  clamp(a: Tensor, min: number, max: number): Tensor;
  /** a where a > 0, alpha · a elsewhere; alpha defaults to 0.01. */
  leakyRelu(a: Tensor, alpha?: number): Tensor;
  /**
   * The elementwise larger of a and b, broadcasting. The gradient goes to the larger operand; on a tie each
   * gets half.
   */
  maximum(a: Operand, b: Operand): Tensor;
  /** The elementwise smaller of a and b, broadcasting; on a tie each operand gets half the gradient. */
  minimum(a: Operand, b: Operand): Tensor;
  /** 1 where a > b, else 0, broadcasting. Comparisons have no gradient: their outputs are constants. */
  greater(a: Operand, b: Operand): Tensor;
  /** 1 where a ≥ b, else 0. */
  greaterEqual(a: Operand, b: Operand): Tensor;
  /** 1 where a < b, else 0. */
  less(a: Operand, b: Operand): Tensor;
  /** 1 where a ≤ b, else 0. */
  lessEqual(a: Operand, b: Operand): Tensor;
  /** 1 where a = b exactly, else 0. */
  equal(a: Operand, b: Operand): Tensor;
  /** Mean squared error over all elements. */
  mseLoss(pred: Tensor, target: Tensor): Tensor;
  /**
   * Softmax cross-entropy of logits [..., C]. Labels are one-hot [..., C], or class indices [...] (a tensor, an
   * Int32Array, or a nested array). `ignoreIndex` (any integer, −100 included) drops those positions;
   * `reduction` is 'mean' (over the positions not ignored; the default), 'sum' or 'none' (the losses [...]).
   */
  softmaxCrossEntropy(logits: Tensor, labels: ClassLabels, options?: SoftmaxCrossEntropyOptions): Tensor;
  /** exp(x)/Σ exp(x) along `axis` (default −1, the last), stable for any input; one fused kernel each way. */
  softmax(a: Tensor, axis?: number): Tensor;
  /** x − log Σ exp(x) along `axis` (default −1), stable for any input; one fused kernel each way. */
  logSoftmax(a: Tensor, axis?: number): Tensor;
  /**
   * softmax(scale·Q·Kᵀ + mask)·V: q [..., T, D], k [..., S, D], v [..., S, Dv] → [..., T, Dv]; scale 1/√D by default,
   * `mask` additive and broadcast to [..., T, S], `causal` hides key j from query i when j > i + (S − T).
   * A composite of batched transposed matmuls and the fused softmax.
   */
  attention(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): Tensor;
  // ---- normalisation and dropout (src/ops/norm.ts, src/ops/dropout.ts) ----
  /**
   * (x − mean)/√(var + eps)·γ + β over the last axis of x [..., C], with the biased variance; γ, β [C] are
   * optional (null or omitted). One fused kernel each way.
   */
  layerNorm(x: Tensor, gamma?: Tensor | null, beta?: Tensor | null, options?: LayerNormOptions): Tensor;
  /** x/√(mean(x²) + eps)·γ over the last axis of x [..., C]; γ [C] is optional. */
  rmsNorm(x: Tensor, gamma?: Tensor | null, options?: RmsNormOptions): Tensor;
  /**
   * Zeroes each element with probability p and scales the rest by 1/(1 − p). An explicit `seed` gives the same
   * mask on every call and backend; without one, each call (and each replay of a compiled step) draws a fresh
   * mask from the runtime's generator (`createRuntime({ seed })`). `p = 0` or `training: false` is the identity.
   */
  dropout(x: Tensor, p: number, options?: DropoutOptions): Tensor;
  /**
   * The box of `size[d]` elements from `begin[d]` along each dimension d; a size of −1 runs to the end. Arrays shorter
   * than the rank leave the remaining dimensions whole (as TF.js). Every size must stay ≥ 1: no zero-size results.
   */
  slice(a: Tensor, begin: readonly number[], size?: readonly number[]): Tensor;
  /** Pads with `value` (default 0): one [before, after] pair of non-negative integers per dimension, in order. */
  pad(a: Tensor, paddings: readonly (readonly number[])[], value?: number): Tensor;
  /** Joins tensors along an existing axis (default 0); shapes must agree on every other axis. Not a tensor method. */
  concat(tensors: readonly Tensor[], axis?: number): Tensor;
  /** Stacks tensors of one shape along a new axis (default 0; −1 is last). Not a tensor method. */
  stack(tensors: readonly Tensor[], axis?: number): Tensor;
  /**
   * Splits along `axis` (default 0) into `count` equal pieces (a number that divides the extent) or into pieces of
   * the given sizes (one may be −1, for the rest).
   */
  split(a: Tensor, sizesOrCount: number | readonly number[], axis?: number): Tensor[];
  /**
   * Entries of `a` along `axis` (default 0) at integer `indices` (a number, nested arrays, an Int32Array, or a tensor
   * of integer values): shape a.shape[:axis] + indices.shape + a.shape[axis+1:]. Repeated indices accumulate in the
   * gradient, deterministically. A bad index is an Error, except in a GPU tensor, where it gives NaN.
   */
  gather(a: Tensor, indices: Indices, axis?: number): Tensor;
  // ---- convolution (src/ops/conv.ts, src/ops/conv-pool.ts) ----
  /**
   * 2-D convolution (cross-correlation, as PyTorch) in PyTorch's layouts: x [N, C, H, W], w [O, C/groups, kh, kw],
   * bias [O] or null → [N, O, Ho, Wo], Ho = ⌊(H + padding − dilation·(kh − 1) − 1)/stride⌋ + 1. `stride`,
   * `dilation` and `padding` take a number or a pair [along H, along W]; padding 'valid' is 0 and 'same' (stride 1)
   * keeps H and W, with the extra zero of an even kernel after. `groups = C` is depthwise. Three implicit-GEMM
   * kernels (forward, input gradient, weight gradient), deterministic; the patch matrix is never stored.
   * `activation` runs in the forward kernel's epilogue (as `linear`'s); `maxPool: k` then max-pools k×k windows with
   * stride k, in the same kernel for k = 2 (relu, tanh or identity), with a one-kernel backward.
   */
  conv2d(x: Tensor, w: Tensor, bias?: Tensor | null, options?: Conv2dOptions): Tensor;
  /** 1-D convolution: x [N, C, L], w [O, C/groups, k], bias [O] or null → [N, O, Lo]; conv2d on [N, C, 1, L] views. */
  conv1d(x: Tensor, w: Tensor, bias?: Tensor | null, options?: Conv1dOptions): Tensor;
  // ---- pooling and batch normalisation over NCHW (src/ops/pool.ts, src/ops/batchnorm.ts) ----
  /**
   * The maximum of each kernel×kernel window (a number, or [kh, kw]) of x [N, C, H, W], windows every `stride`
   * (default: the kernel) after `padding` (default 0, at most half the kernel) on each side: [N, C, Ho, Wo] with
   * Ho = ⌊(H + 2·ph − kh)/sh⌋ + 1. Padding never wins a window. The gradient goes to the first maximal element of
   * each window, row-major within it; computed per input element, so it is the same bits on every run.
   */
  maxPool2d(x: Tensor, kernel: Pool2dSize, options?: Pool2dOptions): Tensor;
  /**
   * The mean of each window of x [N, C, H, W], as `maxPool2d`; padded positions count as zeros and every window
   * divides by its full size kh·kw (PyTorch's count_include_pad).
   */
  avgPool2d(x: Tensor, kernel: Pool2dSize, options?: Pool2dOptions): Tensor;
  /**
   * Batch normalisation of x [N, C, H, W] per channel over N·H·W: (x − mean)/√(var + eps)·γ + β, γ and β [C] (or
   * null). Training (the default) uses the batch's mean and biased variance, and updates runningMean and runningVar
   * [C] in place (when given): running = (1 − momentum)·running + momentum·batch, with the unbiased variance for
   * runningVar. `training: false` uses the running statistics instead. Differentiable for x, γ and β.
   */
  batchNorm2d(
    x: Tensor,
    gamma: Tensor | null,
    beta: Tensor | null,
    runningMean: Tensor | null,
    runningVar: Tensor | null,
    options?: BatchNorm2dOptions,
  ): Tensor;
}

export const TENSOR_OPS: TensorOps = {
  ...elementwiseMethods(),
  matmul: publicOp('matmul', 2, (a, b, options = {}) => matmul(a, b, options)),
  linear: publicOp('linear', 2, (x, w, bias, activation = 'identity', options = {}) =>
    linear(x, w, bias, activation, options),
  ),
  transpose: publicOp('transpose', 1, (a, axes) => transpose(a, axes)),
  permute: publicOp('permute', 1, (a, axes) => permute(a, axes)),
  reshape: publicOp('reshape', 1, (a, shape) => reshape(a, shape)),
  flatten: publicOp('flatten', 1, (a, startAxis = 0, endAxis = -1) => flatten(a, startAxis, endAxis)),
  expandDims: publicOp('expandDims', 1, (a, axis) => expandDims(a, axis)),
  squeeze: publicOp('squeeze', 1, (a, axis) => squeeze(a, axis)),
  broadcastTo: publicOp('broadcastTo', 1, (a, shape) => broadcastTo(a, shape)),
  where: publicOp('where', 1, (cond, a, b) => ternary('where', cond, a, b)),
  scale: publicOp('scale', 1, (a, factor) => {
    if (typeof factor !== 'number') throw new Error(`scale: the factor must be a number, got ${typeof factor}`);
    return unary('scale', a, factor);
  }),
  sum: publicOp('sum', 1, (a, axis, options = {}) => sum(a, axis, { keepDims: options.keepDims })),
  mean: publicOp('mean', 1, (a, axis, options = {}) => mean(a, axis, options)),
  max: publicOp('max', 1, (a, axis, options = {}) => max(a, axis, options)),
  min: publicOp('min', 1, (a, axis, options = {}) => min(a, axis, options)),
  logSumExp: publicOp('logSumExp', 1, (a, axis, options = {}) => logSumExp(a, axis, options)),
  variance: publicOp('variance', 1, (a, axis, options = {}) => variance(a, axis, options)),
  argmax: publicOp('argmax', 1, (a, axis, options = {}) => argmax(a, axis, options)),
  argmin: publicOp('argmin', 1, (a, axis, options = {}) => argmin(a, axis, options)),
  pow: publicOp('pow', 1, (a, exponent) => unary('pow', a, checkConstant('pow', 'exponent', exponent, a))),
  clamp: publicOp('clamp', 1, (a, lo, hi) => clamp(a, lo, hi)),
  leakyRelu: publicOp('leakyRelu', 1, (a, alpha = 0.01) =>
    unary('leakyRelu', a, checkConstant('leakyRelu', 'alpha', alpha, a)),
  ),
  mseLoss: publicOp('mseLoss', 2, (pred, target) => mseLoss(pred, target)),
  softmaxCrossEntropy: publicOp('softmaxCrossEntropy', 1, (logits, labels, options = {}) =>
    softmaxCrossEntropy(logits, labels, options),
  ),
  softmax: publicOp('softmax', 1, (a, axis = -1) => softmax(a, axis)),
  logSoftmax: publicOp('logSoftmax', 1, (a, axis = -1) => logSoftmax(a, axis)),
  attention: publicOp('attention', 3, (q, k, v, options = {}) => {
    if (options.mask !== undefined) checkTensors('attention', q.owner, [options.mask]);
    return attention(q, k, v, options);
  }),
  layerNorm: publicOp('layerNorm', 1, (x, gamma, beta, options) => layerNorm(x, gamma, beta, options)),
  rmsNorm: publicOp('rmsNorm', 1, (x, gamma, options) => rmsNorm(x, gamma, options)),
  dropout: publicOp('dropout', 1, (x, p, options) => dropout(x, p, options)),
  slice: publicOp('slice', 1, (a, begin, size) => slice(a, begin, size)),
  pad: publicOp('pad', 1, (a, paddings, value = 0) => pad(a, paddings, value)),
  concat: publicOp('concat', 0, (tensors, axis = 0) => concat(tensors, axis)),
  stack: publicOp('stack', 0, (tensors, axis = 0) => stack(tensors, axis)),
  split: publicOp('split', 1, (a, sizesOrCount, axis = 0) => split(a, sizesOrCount, axis)),
  gather: publicOp('gather', 1, (a, indices, axis = 0) => gather(a, indices, axis)),
  conv2d: publicOp('conv2d', 2, (x, w, bias, options = {}) => conv2d(x, w, bias, options)),
  conv1d: publicOp('conv1d', 2, (x, w, bias, options = {}) => conv1d(x, w, bias, options)),
  maxPool2d: publicOp('maxPool2d', 1, (x, kernel, options = {}) => pool2d('max', x, kernel, options)),
  avgPool2d: publicOp('avgPool2d', 1, (x, kernel, options = {}) => pool2d('avg', x, kernel, options)),
  batchNorm2d: publicOp('batchNorm2d', 1, (x, gamma, beta, runningMean, runningVar, options = {}) =>
    batchNorm2d(x, gamma, beta, runningMean, runningVar, options),
  ),
};

/** Ops whose first argument is a list of tensors: they have no tensor method. */
const LIST_OPS = ['concat', 'stack'] as const satisfies readonly (keyof TensorOps)[];
type ListOp = (typeof LIST_OPS)[number];

/** Every op as a method of its first operand: `x.matmul(w).add(b).relu()`. */
export type TensorMethods = {
  [K in Exclude<keyof TensorOps, ListOp>]: TensorOps[K] extends (first: Tensor, ...rest: infer R) => infer Out
    ? (...rest: R) => Out
    : never;
};

declare module '../tensor/tensor.js' {
  interface Tensor extends TensorMethods {
    /** The last two dimensions swapped, as `t.transpose()`. */
    readonly T: Tensor;
  }
}

/** Installs the chaining methods on Tensor (idempotent); the runtime calls it when it is made. */
export function installTensorMethods(): void {
  if (Object.prototype.hasOwnProperty.call(Tensor.prototype, 'matmul')) return;
  for (const [name, fn] of Object.entries(TENSOR_OPS) as [string, (...args: unknown[]) => Tensor | Tensor[]][]) {
    if ((LIST_OPS as readonly string[]).includes(name)) continue;
    Object.defineProperty(Tensor.prototype, name, {
      value(this: Tensor, ...args: unknown[]) {
        return fn.call(this, this, ...args);
      },
      configurable: true,
      writable: true,
    });
  }
  Object.defineProperty(Tensor.prototype, 'T', {
    get(this: Tensor) {
      return TENSOR_OPS.transpose.call(this, this);
    },
    configurable: true,
  });
}

/** What the library layers (nn, optim) see of a runtime: the context, the ops, and gradients. */
export interface OpsContext extends Context, TensorOps {
  grad(loss: Tensor, params: Tensor[]): Promise<Tensor[]>;
}
