// Reductions beyond sum and mean: max, min, logSumExp, variance, argmax, argmin, over any set of axes.
import { apply, defineOp, type Tensor } from '../tensor/tensor.js';
import { formatShape, sizeOf } from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { binary, unary } from './elementwise.js';
import {
  broadcastTo,
  keptShape,
  reduceAlong,
  reducedAxes,
  reducedCount,
  reduceOp,
  split,
  sumOp,
  type Axes,
  type ReduceOptions,
  type ReduceParams,
} from './reduce.js';
import reduceGradSource from '../../shaders/reduce_grad.wgsl?raw';

const reduceGradShader = new Shader('reduce_grad', reduceGradSource);

type RunParams = Pick<ReduceParams, 'axis' | 'until'>;

/**
 * The VJP of max and min: [x, picked (the result), g] → x's shape, with each g on the first element of its row that
 * equals the result, and 0 elsewhere. On ties the gradient is not split: it all goes to the first.
 */
export const selectFirstOp = defineOp<RunParams>({
  name: 'selectFirst',
  shape([x, picked, g], { axis, until }) {
    const { outer, inner } = split(x, axis, until);
    if (sizeOf(picked) !== outer * inner || sizeOf(g) !== outer * inner) {
      throw new Error(
        `selectFirst: ${formatShape(picked)} and ${formatShape(g)} are not reductions of ${formatShape(x)} over axis ${axis}`,
      );
    }
    return x;
  },
  cpu([x, picked, g], { axis, until }) {
    const { outer, reduce, inner } = split(x.shape, axis, until);
    const out = new Float64Array(x.data.length);
    for (let o = 0; o < outer * inner; o++) {
      const base = Math.floor(o / inner) * reduce * inner + (o % inner);
      for (let r = 0; r < reduce; r++) {
        if (x.data[base + r * inner] === picked.data[o]) {
          out[base + r * inner] = g.data[o];
          break;
        }
      }
    }
    return out;
  },
  gpu(gpu, [x, picked, g], { axis, until }, out) {
    const { outer, reduce, inner } = split(x.shape, axis, until);
    gpu.dispatch(
      { name: 'select_first', shader: reduceGradShader },
      { x, picked, g, out, params: { outer, reduce, inner } },
      elementwiseGrid(outer * inner),
    );
  },
});

const toFirstPicked: NonNullable<ReturnType<typeof reduceOp>['vjp']> = (g, [x], { axis, until }, picked) => [
  apply(x.owner, selectFirstOp, [x, picked, g], { axis, until }),
];

const maxOp = reduceOp('max', toFirstPicked);
const minOp = reduceOp('min', toFirstPicked);
// d/dx log Σ eˣ = softmax(x) = e^(x − lse), with the result broadcast back along the reduced run.
const logSumExpOp = reduceOp('logSumExp', (g, [x], { axis, until }, lse) => {
  const kept = keptShape(x.shape, axis, until);
  const relabel = (t: Tensor) => broadcastTo(t, kept, kept);
  return [binary('mul', relabel(g), unary('exp', binary('sub', x, relabel(lse))))];
});
// Indices are data: no VJP, so the tape treats them as constants.
const argmaxOp = reduceOp('argmax');
const argminOp = reduceOp('argmin');

export function max(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceAlong(maxOp, x, reducedAxes('max', axis, x.shape), options.keepDims);
}

export function min(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceAlong(minOp, x, reducedAxes('min', axis, x.shape), options.keepDims);
}

export function logSumExp(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceAlong(logSumExpOp, x, reducedAxes('logSumExp', axis, x.shape), options.keepDims);
}

export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the count in the denominator: 0 (the default) for the population variance, 1 for the sample. */
  correction?: number;
}

/** Two passes, composed: the mean first, then the mean of squared deviations, which loses nothing to a large offset. */
export function variance(x: Tensor, axis?: Axes, options: VarianceOptions = {}): Tensor {
  const { correction = 0, keepDims = false } = options;
  const axes = reducedAxes('variance', axis, x.shape);
  const count = reducedCount(x.shape, axes);
  if (typeof correction !== 'number' || !(correction >= 0)) {
    throw new Error(
      `variance: correction must be a number ≥ 0, got ${String(correction)} (for shape ${formatShape(x.shape)})`,
    );
  }
  if (count - correction <= 0) {
    throw new Error(
      `variance: correction ${correction} leaves no degrees of freedom for ${count} element(s) per output of ${formatShape(x.shape)}`,
    );
  }
  return x.owner.tidy(() => {
    const deviations = binary('sub', x, reduceAlong(sumOp, x, axes, true, 1 / count));
    return reduceAlong(sumOp, unary('square', deviations), axes, keepDims, 1 / (count - correction));
  });
}

function singleAxis(op: string, x: Tensor, axis: unknown): number[] | null {
  if (axis !== undefined && typeof axis !== 'number') {
    throw new Error(
      `${op}: axis must be a single number (or omitted, for the flattened tensor), got ${Array.isArray(axis) ? 'an array' : typeof axis} for shape ${formatShape(x.shape)}`,
    );
  }
  return reducedAxes(op, axis, x.shape);
}

export function argmax(x: Tensor, axis?: number, options: ReduceOptions = {}): Tensor {
  return reduceAlong(argmaxOp, x, singleAxis('argmax', x, axis), options.keepDims);
}

export function argmin(x: Tensor, axis?: number, options: ReduceOptions = {}): Tensor {
  return reduceAlong(argminOp, x, singleAxis('argmin', x, axis), options.keepDims);
}
