import { apply, defineOp, Tensor } from '../tensor/tensor.js';
import { formatShape } from '../core/shape.js';
import { elementwiseGrid, grid1d } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { binary, checkSameShape, unary } from './elementwise.js';
import { mean } from './reduce.js';
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
    labelDot += y[row * n + j] * (x[row * n + j] - max);
  }
  return { max, sumExp, labelSum, labelDot };
}

function checkLogits(op: string, logits: readonly number[], labels: readonly number[]): void {
  if (logits.length !== 2) throw new Error(`${op}: logits must be 2-D [batch, classes], got ${formatShape(logits)}`);
  checkSameShape(op, logits, labels);
}

/** Per-row cross-entropy of softmax(logits) against label distributions: [m, n], [m, n] → [m]. */
export const softmaxCrossEntropyRowsOp = defineOp({
  name: 'softmaxCrossEntropy',
  shape([logits, labels]) {
    checkLogits('softmaxCrossEntropy', logits, labels);
    return [logits[0]];
  },
  cpu([x, y]) {
    const [m, n] = x.shape;
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const s = rowStats(x.data, y.data, i, n);
      out[i] = s.labelSum * Math.log(s.sumExp) - s.labelDot;
    }
    return out;
  },
  gpu(gpu, [logits, labels], _p, out) {
    const [m, n] = logits.shape;
    const { entry, workgroups } = rowLayout('forward', m, n);
    gpu.dispatch({ name: 'softmax_cross_entropy', shader: sceShader, entry }, { logits, labels, out, params: { m, n } }, workgroups);
  },
  // Labels are data: they get no gradient.
  vjp: (g, [logits, labels]) => [apply(g.owner, softmaxCrossEntropyGradOp, [logits, labels, g], undefined), null],
});

/** dLogits = rowGrad · ((Σ y) · softmax(x) − y). */
export const softmaxCrossEntropyGradOp = defineOp({
  name: 'softmaxCrossEntropyGrad',
  shape([logits, labels, rowGrad]) {
    checkLogits('softmaxCrossEntropyGrad', logits, labels);
    if (rowGrad.length !== 1 || rowGrad[0] !== logits[0]) {
      throw new Error(`softmaxCrossEntropyGrad: row gradient ${formatShape(rowGrad)} does not match logits ${formatShape(logits)}`);
    }
    return logits;
  },
  cpu([x, y, g]) {
    const [m, n] = x.shape;
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
    const [m, n] = logits.shape;
    const { entry, workgroups } = rowLayout('backward', m, n);
    gpu.dispatch({ name: 'softmax_cross_entropy_grad', shader: sceShader, entry }, { logits, labels, rowGrad, out, params: { m, n } }, workgroups);
  },
});

export const oneHotOp = defineOp<{ classes: number }>({
  name: 'oneHot',
  shape([indices], { classes }) {
    if (indices.length !== 1) throw new Error(`oneHot: class indices must be 1-D [batch], got ${formatShape(indices)}`);
    return [indices[0], classes];
  },
  cpu([indices], { classes }) {
    const out = new Float64Array(indices.data.length * classes);
    indices.data.forEach((c, i) => {
      if (Number.isInteger(c) && c >= 0 && c < classes) out[i * classes + c] = 1;
    });
    return out;
  },
  gpu(gpu, [indices], { classes }, out) {
    const m = indices.shape[0];
    gpu.dispatch({ name: 'one_hot', shader: oneHotShader }, { indices, out, params: { m, n: classes } }, elementwiseGrid(m * classes));
  },
});

export function oneHot(indices: Tensor, classes: number): Tensor {
  return apply(indices.owner, oneHotOp, [indices], { classes });
}

/**
 * Mean softmax cross-entropy of logits [m, n]. Labels are one-hot (or soft) [m, n], class indices as a tensor [m],
 * or class indices as an array of m integers. Stable for any logits: each row is shifted by its maximum.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor | readonly number[] | Int32Array): Tensor {
  if (logits.rank !== 2) throw new Error(`softmaxCrossEntropy: logits must be 2-D [batch, classes], got ${formatShape(logits.shape)}`);
  const [m, n] = logits.shape;
  let distributions: Tensor;
  if (labels instanceof Tensor) {
    if (labels.rank === 1 && labels.shape[0] !== m) {
      throw new Error(`softmaxCrossEntropy: ${labels.shape[0]} class indices for ${m} rows of logits ${formatShape(logits.shape)}`);
    }
    distributions = labels.rank === 1 ? oneHot(labels, n) : labels;
  } else {
    const classes = Array.from(labels as ArrayLike<number>);
    if (classes.length !== m) throw new Error(`softmaxCrossEntropy: ${classes.length} class indices for ${m} rows of logits ${formatShape(logits.shape)}`);
    const oneHotLabels = new Float32Array(m * n);
    classes.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c >= n) throw new Error(`softmaxCrossEntropy: label ${i} is ${c}; class indices must be integers in [0, ${n})`);
      oneHotLabels[i * n + c] = 1;
    });
    // These labels stay alive with the tape, which reads them in the backward pass.
    distributions = Tensor.from(logits.owner, [m, n], logits.owner.backend.upload(oneHotLabels, [m, n]));
  }
  return mean(apply(logits.owner, softmaxCrossEntropyRowsOp, [logits, distributions], undefined));
}

/** Mean squared error over all elements; shapes must match. */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  checkSameShape('mseLoss', pred.shape, target.shape);
  return mean(unary('square', binary('sub', pred, target)));
}
