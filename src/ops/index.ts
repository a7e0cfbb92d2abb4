// The op list: every public op once, with its documentation. The Runtime's op methods and the Tensor's chaining
// methods are both made from this table, so that neither can miss an op.
import { checkTensors, Tensor } from '../tensor/tensor.js';
import type { Context } from '../tensor/tensor.js';
import { matmul, type MatmulOptions } from './matmul.js';
import { linear, type Activation, type LinearOptions } from './linear.js';
import { transpose } from './transpose.js';
import { binary, unary } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { mseLoss, softmaxCrossEntropy } from './loss.js';
import { layerNorm, rmsNorm, type LayerNormOptions, type RmsNormOptions } from './norm.js';
import { dropout, type DropoutOptions } from './dropout.js';

type Operand = Tensor | number;

/**
 * Checks the arguments under the op's public name, then runs it: the first `tensors` arguments must be live
 * tensors of the runtime it was called on (`rt.op(...)`) or of the tensor it was called on (`t.op(...)`).
 */
function publicOp<F extends (...args: never[]) => Tensor>(name: string, tensors: number, fn: F): F {
  return function (this: unknown, ...args: unknown[]): Tensor {
    const given = args.filter((a, i) => i < tensors || a instanceof Tensor);
    const owner = this instanceof Tensor ? this.owner : isContext(this) ? this : (given.find((a) => a instanceof Tensor) as Tensor | undefined)?.owner;
    if (owner) checkTensors(name, owner, given);
    return (fn as unknown as (...values: unknown[]) => Tensor)(...args);
  } as unknown as F;
}

function isContext(value: unknown): value is Context {
  return typeof value === 'object' && value !== null && 'backend' in value && 'adopt' in value;
}

/** Every op as a runtime method, `rt.matmul(a, b)`; and, from its first operand, as a tensor method. */
export interface TensorOps {
  /** op(A)·op(B) for 2-D operands; the flags read A as [K, M] or B as [N, K] without copying. */
  matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor;
  /**
   * act(x·w + bias) in one matmul kernel, the bias and activation applied in its epilogue. x [batch, in],
   * w [in, out] (or [out, in] with `transposeW`), bias [out] or null. Differentiable for every activation.
   */
  linear(x: Tensor, w: Tensor, bias?: Tensor | null, activation?: Activation, options?: LinearOptions): Tensor;
  /** A materialised 2-D transpose. */
  transpose(a: Tensor): Tensor;
  /** Elementwise a + b, broadcasting NumPy-style (a row vector [n] over [m, n], a scalar over anything). */
  add(a: Operand, b: Operand): Tensor;
  sub(a: Operand, b: Operand): Tensor;
  mul(a: Operand, b: Operand): Tensor;
  div(a: Operand, b: Operand): Tensor;
  relu(a: Tensor): Tensor;
  tanh(a: Tensor): Tensor;
  exp(a: Tensor): Tensor;
  log(a: Tensor): Tensor;
  neg(a: Tensor): Tensor;
  square(a: Tensor): Tensor;
  /** a · factor, for a constant factor. */
  scale(a: Tensor, factor: number): Tensor;
  /** The sum over `axis`, or over every element (a scalar) when it is omitted. Axis 0 sums the rows. */
  sum(a: Tensor, axis?: number): Tensor;
  mean(a: Tensor, axis?: number): Tensor;
  /** Mean squared error over all elements. */
  mseLoss(pred: Tensor, target: Tensor): Tensor;
  /**
   * Mean softmax cross-entropy of logits [m, n]. Labels are one-hot [m, n], or class indices
   * (a tensor [m], or an array of m integers).
   */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor | readonly number[] | Int32Array): Tensor;
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
}

export const TENSOR_OPS: TensorOps = {
  matmul: publicOp('matmul', 2, (a, b, options = {}) => matmul(a, b, options)),
  linear: publicOp('linear', 2, (x, w, bias, activation = 'identity', options = {}) => linear(x, w, bias, activation, options)),
  transpose: publicOp('transpose', 1, (a) => transpose(a)),
  add: publicOp('add', 0, (a, b) => binary('add', a, b)),
  sub: publicOp('sub', 0, (a, b) => binary('sub', a, b)),
  mul: publicOp('mul', 0, (a, b) => binary('mul', a, b)),
  div: publicOp('div', 0, (a, b) => binary('div', a, b)),
  relu: publicOp('relu', 1, (a) => unary('relu', a)),
  tanh: publicOp('tanh', 1, (a) => unary('tanh', a)),
  exp: publicOp('exp', 1, (a) => unary('exp', a)),
  log: publicOp('log', 1, (a) => unary('log', a)),
  neg: publicOp('neg', 1, (a) => unary('neg', a)),
  square: publicOp('square', 1, (a) => unary('square', a)),
  scale: publicOp('scale', 1, (a, factor) => {
    if (typeof factor !== 'number') throw new Error(`scale: the factor must be a number, got ${typeof factor}`);
    return unary('scale', a, factor);
  }),
  sum: publicOp('sum', 1, (a, axis) => sum(a, axis)),
  mean: publicOp('mean', 1, (a, axis) => mean(a, axis)),
  mseLoss: publicOp('mseLoss', 2, (pred, target) => mseLoss(pred, target)),
  softmaxCrossEntropy: publicOp('softmaxCrossEntropy', 1, (logits, labels) => softmaxCrossEntropy(logits, labels)),
  layerNorm: publicOp('layerNorm', 1, (x, gamma, beta, options) => layerNorm(x, gamma, beta, options)),
  rmsNorm: publicOp('rmsNorm', 1, (x, gamma, options) => rmsNorm(x, gamma, options)),
  dropout: publicOp('dropout', 1, (x, p, options) => dropout(x, p, options)),
};

/** Every op as a method of its first operand: `x.matmul(w).add(b).relu()`. */
export type TensorMethods = {
  [K in keyof TensorOps]: TensorOps[K] extends (first: Tensor, ...rest: infer R) => Tensor ? (...rest: R) => Tensor : never;
};

declare module '../tensor/tensor.js' {
  interface Tensor extends TensorMethods {
    /** The 2-D transpose, as `t.transpose()`. */
    readonly T: Tensor;
  }
}

/** Installs the chaining methods on Tensor (idempotent); the runtime calls it when it is made. */
export function installTensorMethods(): void {
  if (Object.prototype.hasOwnProperty.call(Tensor.prototype, 'matmul')) return;
  for (const [name, fn] of Object.entries(TENSOR_OPS) as [string, (...args: unknown[]) => Tensor][]) {
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
