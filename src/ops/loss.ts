import { apply, defineOp, Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid, grid1d } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { binary, checkSameShape, unary } from './elementwise.js';
import { mean, sum } from './reduce.js';
import sceSource from '../../shaders/softmax_cross_entropy.wgsl?raw';
import oneHotSource from '../../shaders/one_hot.wgsl?raw';

const sceShader = new Shader('softmax_cross_entropy', sceSource);

// Up to this many classes one invocation walks a whole row; wider rows share a workgroup per row.
const NARROW_ROW = 32;

/** The kernel entry and grid for rows of n classes. */
function rowLayout(direction: 'forward' | 'backward', m: number, n: number) {
  return n <= NARROW_ROW
    ? { entry: `${direction}_by_row`, workgroups: elementwiseGrid(m) }
    : { entry: direction, workgroups: grid1d(m) };
}
const oneHotShader = new Shader('one_hot', oneHotSource);

/** The max-shifted row statistics both directions need, in float64. */
function rowStats(x: Float64Array, y: Float64Array, row: number, n: number) {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, x[row * n + j]);
  let sumExp = 0;
  let labelSum = 0;
  let labelDot = 0;
  for (let j = 0; j < n; j++) {
    sumExp += Math.exp(x[row * n + j] - max);
    labelSum += y[row * n + j];
    // A class with no label weight adds nothing, even at a logit of −∞ (where 0·−∞ would be NaN).
    if (y[row * n + j] !== 0) labelDot += y[row * n + j] * (x[row * n + j] - max);
  }
  return { max, sumExp, labelSum, labelDot };
}

function checkLogits(op: string, logits: readonly number[], labels: readonly number[]): void {
  if (logits.length < 1) throw new Error(`${op}: logits must be [..., classes], got a scalar ${formatShape(logits)}`);
  checkSameShape(op, logits, labels);
}

/** Logits [..., n] as m rows of n classes. */
function rows(shape: Shape) {
  const n = shape[shape.length - 1];
  return { m: sizeOf(shape) / n, n };
}

/** Per-position cross-entropy of softmax(logits) against label distributions: [..., n], [..., n] → [...]. */
export const softmaxCrossEntropyRowsOp = defineOp({
  name: 'softmaxCrossEntropy',
  shape([logits, labels]) {
    checkLogits('softmaxCrossEntropy', logits, labels);
    return logits.slice(0, -1);
  },
  cpu([x, y]) {
    const { m, n } = rows(x.shape);
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const s = rowStats(x.data, y.data, i, n);
      out[i] = s.labelSum * Math.log(s.sumExp) - s.labelDot;
    }
    return out;
  },
  gpu(gpu, [logits, labels], _p, out) {
    const { m, n } = rows(logits.shape);
    const { entry, workgroups } = rowLayout('forward', m, n);
    gpu.dispatch(
      { name: 'softmax_cross_entropy', shader: sceShader, entry },
      { logits, labels, out, params: { m, n } },
      workgroups,
    );
  },
  // Labels are data: they get no gradient.
  vjp: (g, [logits, labels]) => [apply(g.owner, softmaxCrossEntropyGradOp, [logits, labels, g], undefined), null],
});

/** dLogits = rowGrad · ((Σ y) · softmax(x) − y). */
export const softmaxCrossEntropyGradOp = defineOp({
  name: 'softmaxCrossEntropyGrad',
  shape([logits, labels, rowGrad]) {
    checkLogits('softmaxCrossEntropyGrad', logits, labels);
    if (!sameShape(rowGrad, logits.slice(0, -1))) {
      throw new Error(
        `softmaxCrossEntropyGrad: row gradient ${formatShape(rowGrad)} does not match logits ${formatShape(logits)}`,
      );
    }
    return logits;
  },
  cpu([x, y, g]) {
    const { m, n } = rows(x.shape);
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      const s = rowStats(x.data, y.data, i, n);
      for (let j = 0; j < n; j++) {
        const p = Math.exp(x.data[i * n + j] - s.max) / s.sumExp;
        out[i * n + j] = g.data[i] * (s.labelSum * p - y.data[i * n + j]);
      }
    }
    return out;
  },
  gpu(gpu, [logits, labels, rowGrad], _p, out) {
    const { m, n } = rows(logits.shape);
    const { entry, workgroups } = rowLayout('backward', m, n);
    gpu.dispatch(
      { name: 'softmax_cross_entropy_grad', shader: sceShader, entry },
      { logits, labels, rowGrad, out, params: { m, n } },
      workgroups,
    );
  },
});

interface OneHotParams {
  classes: number;
  /** Indices equal to this give a row of zeros. */
  ignoreIndex: number;
}

/** Class indices [...] → one-hot rows [..., classes]; an ignored or out-of-range index gives zeros. */
export const oneHotOp = defineOp<OneHotParams>({
  name: 'oneHot',
  shape([indices], { classes }) {
    if (!Number.isInteger(classes) || classes < 1) {
      throw new Error(`oneHot: classes must be a positive integer, got ${classes} for indices ${formatShape(indices)}`);
    }
    return [...indices, classes];
  },
  cpu([indices], { classes, ignoreIndex }) {
    const out = new Float64Array(indices.data.length * classes);
    indices.data.forEach((c, i) => {
      if (Number.isInteger(c) && c >= 0 && c < classes && c !== ignoreIndex) out[i * classes + c] = 1;
    });
    return out;
  },
  gpu(gpu, [indices], { classes, ignoreIndex }, out) {
    const m = sizeOf(indices.shape);
    const params = { m, n: classes, ignore: ignoreIndex };
    gpu.dispatch({ name: 'one_hot', shader: oneHotShader }, { indices, out, params }, elementwiseGrid(m * classes));
  },
});

export function oneHot(indices: Tensor, classes: number, ignoreIndex = -1): Tensor {
  return apply(indices.owner, oneHotOp, [indices], { classes, ignoreIndex });
}

export type Reduction = 'mean' | 'sum' | 'none';

export interface SoftmaxCrossEntropyOptions {
  /**
   * Positions whose class index equals this (any integer, −100 as in PyTorch included) add nothing, and 'mean'
   * divides by the positions not ignored. Applies to class indices, not to one-hot labels.
   */
  ignoreIndex?: number;
  /** 'mean' (the default) over positions, 'sum', or 'none': the per-position losses [...]. */
  reduction?: Reduction;
}

/** Class indices as a tensor [...], an Int32Array, or a (nested) array; or one-hot labels [..., C] as a tensor. */
export type ClassLabels = Tensor | Int32Array | readonly (number | readonly unknown[])[];

/** A nested array of class indices, row-major, with its shape; ragged nesting is an error. */
function flattenLabels(labels: unknown, logits: Shape): { values: number[]; shape: number[] } {
  if (!Array.isArray(labels)) {
    const flat = Array.from(labels as ArrayLike<number>);
    return { values: flat, shape: [flat.length] };
  }
  if (labels.length > 0 && Array.isArray(labels[0])) {
    const parts = labels.map((l: unknown) => flattenLabels(l, logits));
    if (parts.some((p) => !sameShape(p.shape, parts[0].shape))) {
      throw new Error(`softmaxCrossEntropy: ragged nested labels for logits ${formatShape(logits)}`);
    }
    return { values: parts.flatMap((p) => p.values), shape: [labels.length, ...parts[0].shape] };
  }
  return { values: labels as number[], shape: [labels.length] };
}

const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'];

/**
 * Softmax cross-entropy of logits [..., C] against class indices [...] or one-hot (or soft) labels [..., C].
 * Stable for any logits: each row is shifted by its maximum.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: ClassLabels,
  options: SoftmaxCrossEntropyOptions = {},
): Tensor {
  const op = 'softmaxCrossEntropy';
  const reduction = options.reduction ?? 'mean';
  if (!REDUCTIONS.includes(reduction))
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
  const ignoreIndex = options.ignoreIndex;
  if (ignoreIndex !== undefined && !Number.isInteger(ignoreIndex))
    throw new Error(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  if (logits.rank < 1)
    throw new Error(`${op}: logits must be [..., classes], got a scalar ${formatShape(logits.shape)}`);
  const positions = logits.shape.slice(0, -1);
  const { m, n } = rows(logits.shape);
  let distributions: Tensor;
  // What 'mean' divides by: a number when the labels are known here, a tensor when only the device has them.
  let count: number | Tensor = m;
  if (labels instanceof Tensor) {
    if (sameShape(labels.shape, logits.shape)) {
      distributions = labels;
    } else if (sameShape(labels.shape, positions)) {
      distributions = oneHot(labels, n, ignoreIndex ?? -1);
      // Each position not ignored contributes one 1.
      if (ignoreIndex !== undefined) count = sum(distributions);
    } else {
      throw new Error(
        `${op}: labels ${formatShape(labels.shape)} are neither class indices ${formatShape(positions)} nor one-hot ${formatShape(logits.shape)} for logits ${formatShape(logits.shape)}`,
      );
    }
  } else {
    const { values, shape } = flattenLabels(labels, logits.shape);
    if (values.length !== m || (shape.length > 1 && !sameShape(shape, positions))) {
      throw new Error(
        `${op}: ${values.length} class indices ${formatShape(shape)} for ${m} positions ${formatShape(positions)} of logits ${formatShape(logits.shape)}`,
      );
    }
    const oneHotLabels = new Float32Array(m * n);
    let kept = 0;
    values.forEach((c, i) => {
      if (c === ignoreIndex) return;
      if (!Number.isInteger(c) || c < 0 || c >= n) {
        const allowed = ignoreIndex === undefined ? '' : ` (or the ignoreIndex ${ignoreIndex})`;
        throw new Error(
          `${op}: label ${i} is ${c}; class indices must be integers in [0, ${n})${allowed} for logits ${formatShape(logits.shape)}`,
        );
      }
      oneHotLabels[i * n + c] = 1;
      kept++;
    });
    count = kept;
    // These labels stay alive with the tape, which reads them in the backward pass.
    distributions = Tensor.from(logits.owner, logits.shape, logits.owner.backend.upload(oneHotLabels, logits.shape));
  }
  const losses = apply(logits.owner, softmaxCrossEntropyRowsOp, [logits, distributions], undefined);
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return sum(losses);
  if (typeof count !== 'number') return binary('div', sum(losses), count);
  // Every position ignored: 0/0, NaN, as in PyTorch.
  return count === m ? mean(losses) : sum(losses, undefined, { scale: count === 0 ? NaN : 1 / count });
}

/** Mean squared error over all elements; shapes must match. */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  checkSameShape('mseLoss', pred.shape, target.shape);
  return mean(unary('square', binary('sub', pred, target)));
}
