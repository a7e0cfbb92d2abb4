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
import { concat, pad, slice, split, stack } from './slicing.js';
import { gather, type Indices } from './gather.js';

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
    const owner = this instanceof Tensor ? this.owner : isContext(this) ? this : (given.find((a) => a instanceof Tensor) as Tensor | undefined)?.owner;
    if (owner) checkTensors(name, owner, given);
    return (fn as unknown as (...values: unknown[]) => Tensor | Tensor[])(...args);
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
  slice: publicOp('slice', 1, (a, begin, size) => slice(a, begin, size)),
  pad: publicOp('pad', 1, (a, paddings, value = 0) => pad(a, paddings, value)),
  concat: publicOp('concat', 0, (tensors, axis = 0) => concat(tensors, axis)),
  stack: publicOp('stack', 0, (tensors, axis = 0) => stack(tensors, axis)),
  split: publicOp('split', 1, (a, sizesOrCount, axis = 0) => split(a, sizesOrCount, axis)),
  gather: publicOp('gather', 1, (a, indices, axis = 0) => gather(a, indices, axis)),
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
    /** The 2-D transpose, as `t.transpose()`. */
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
