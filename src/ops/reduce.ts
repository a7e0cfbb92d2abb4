import { apply, defineOp, type OpDef, type Tensor } from '../tensor/tensor.js';
import {
  broadcastStrides,
  formatShape,
  normalizeAxis,
  padLeft,
  sameShape,
  sizeOf,
  stridedIndex,
  type Shape,
} from '../core/shape.js';
import { elementwiseGrid, grid1d } from '../core/kernel.js';
import { codesOf, Shader, wgslCodes } from '../core/shader.js';
import reduceSource from '../../shaders/reduce.wgsl?raw';
import broadcastSource from '../../shaders/broadcast.wgsl?raw';
import sumColumnsVec4Source from '../../shaders/sum_columns_vec4.wgsl?raw';

/** Reduces one row of a tensor: `count` elements of `x`, `stride` apart from `base`, in float64. */
type RowReducer = (x: Float64Array, base: number, stride: number, count: number, scale: number) => number;

/** The first index whose value `better` prefers to every earlier one: the first occurrence on ties. */
function firstBest(
  x: Float64Array,
  base: number,
  stride: number,
  count: number,
  better: (v: number, best: number) => boolean,
) {
  let index = 0;
  for (let r = 1; r < count; r++) if (better(x[base + r * stride], x[base + index * stride])) index = r;
  return index;
}

// Every reduction is one row here, and one `case` of shaders/reduce.wgsl: a row's position is its OP code there.
const REDUCERS = {
  sum: (x, base, stride, count, scale) => {
    let acc = 0;
    for (let r = 0; r < count; r++) acc += x[base + r * stride];
    return acc * scale;
  },
  max: (x, base, stride, count) => x[base + firstBest(x, base, stride, count, (v, best) => v > best) * stride],
  min: (x, base, stride, count) => x[base + firstBest(x, base, stride, count, (v, best) => v < best) * stride],
  logSumExp: (x, base, stride, count) => {
    let m = -Infinity;
    for (let r = 0; r < count; r++) m = Math.max(m, x[base + r * stride]);
    if (!Number.isFinite(m)) return m;
    let acc = 0;
    for (let r = 0; r < count; r++) acc += Math.exp(x[base + r * stride] - m);
    return m + Math.log(acc);
  },
  argmax: (x, base, stride, count) => firstBest(x, base, stride, count, (v, best) => v > best),
  argmin: (x, base, stride, count) => firstBest(x, base, stride, count, (v, best) => v < best),
} satisfies Record<string, RowReducer>;

export type ReducerName = keyof typeof REDUCERS;
export const REDUCER_CODES = codesOf(REDUCERS);
export const reduceShader = new Shader('reduce', reduceSource + wgslCodes(REDUCER_CODES));
const sumColumnsVec4Shader = new Shader('sum_columns_vec4', sumColumnsVec4Source);
/** The strided copy: broadcastTo's kernel, and permute's. */
export const broadcastShader = new Shader('broadcast', broadcastSource);

/** An axis, or a list of axes; negative ones count from the end. */
export type Axes = number | readonly number[];

export interface ReduceOptions {
  /** Keep each reduced axis as a dimension of 1, so that the result broadcasts against the input. */
  keepDims?: boolean;
}

export interface ReduceParams {
  /** The first reduced axis, or null for all of them. */
  axis: number | null;
  /** One past the last axis of the reduced run (a contiguous run of axes is reduced as one); axis + 1 if omitted. */
  until?: number;
  /** The output's shape: the input's without the reduced axes, or with them kept as 1. */
  outShape: Shape;
  /** Multiplies a sum (mean is a sum scaled by 1/n); the other reductions ignore it. */
  scale: number;
}

/** The input seen as [outer, reduce, inner] around the reduced run of axes. */
export function split(shape: Shape, axis: number | null, until = axis === null ? shape.length : axis + 1) {
  if (axis === null) return { outer: 1, reduce: sizeOf(shape), inner: 1 };
  return {
    outer: sizeOf(shape.slice(0, axis)),
    reduce: sizeOf(shape.slice(axis, until)),
    inner: sizeOf(shape.slice(until)),
  };
}

/** The input's shape with the reduced run (or every axis) kept as 1. */
export function keptShape(shape: Shape, axis: number | null, until = axis === null ? shape.length : axis + 1): Shape {
  return shape.map((d, i) => (axis === null || (i >= axis && i < until) ? 1 : d));
}

/** A reduction over a run of axes: the CPU row reducer and the `reduce` kernel, with the given VJP. */
export function reduceOp(name: ReducerName, vjp?: OpDef<ReduceParams>['vjp']): OpDef<ReduceParams> {
  const reduceRow: RowReducer = REDUCERS[name];
  return defineOp<ReduceParams>({
    name,
    shape([x], { axis, until, outShape }) {
      const { reduce } = split(x, axis, until);
      if (sizeOf(outShape) * reduce !== sizeOf(x)) {
        throw new Error(`${name}: cannot reduce ${formatShape(x)} over axis ${axis} into ${formatShape(outShape)}`);
      }
      return outShape;
    },
    cpu([x], { axis, until, scale }) {
      const { outer, reduce, inner } = split(x.shape, axis, until);
      const out = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++)
          out[o * inner + i] = reduceRow(x.data, o * reduce * inner + i, inner, reduce, scale);
      }
      return out;
    },
    gpu(gpu, [x], { axis, until, scale }, out) {
      const { outer, reduce, inner } = split(x.shape, axis, until);
      // One invocation per output, walking its row with no barriers, unless a long row has few outputs to share
      // the work: side-by-side outputs (column sums) read coalesced, short rows are not worth a workgroup, and
      // software adapters run barriers slowly (a training step's bias gradients took 2.4 ms on SwiftShader as
      // workgroup sums; row reductions of [256, 1024] took 4 ms per output against 14 ms (sum) to 58 ms
      // (logSumExp) per workgroup, read back included). Long rows over few outputs get a workgroup each.
      const byColumn = inner >= 64 || reduce <= 64 || (reduce <= 4096 && (inner > 1 || gpu.software));
      const detail = {
        axis: axis === null ? 'all' : until === undefined || until === axis + 1 ? axis : `${axis}..${until - 1}`,
      };
      // Column sums four at a time, in the same order (bench/NOTES.md: vec4 reads cost half on SwiftShader).
      if (name === 'sum' && byColumn && inner % 4 === 0) {
        gpu.dispatch(
          { name: 'sum_columns', shader: sumColumnsVec4Shader },
          { x, out, params: { outer, reduce, inner, scale } },
          elementwiseGrid((outer * inner) / 4),
          { ...detail, perInvocation: 4 },
        );
        return;
      }
      gpu.dispatch(
        {
          name: byColumn ? `${name}_columns` : name,
          shader: reduceShader,
          entry: byColumn ? 'columns' : 'main',
          constants: { OP: REDUCER_CODES[name] },
        },
        { x, out, params: { outer, reduce, inner, scale } },
        byColumn ? elementwiseGrid(outer * inner) : grid1d(outer * inner),
        byColumn ? { ...detail, perInvocation: 1 } : detail,
      );
    },
    vjp,
  });
}

// Every summed element receives the upstream gradient, times the scale.
export const sumOp = reduceOp('sum', (g, [x], { axis, until, scale }) => [
  broadcastTo(g, x.shape, keptShape(x.shape, axis, until), scale),
]);

interface BroadcastParams {
  shape: Shape;
  /** How the input's values are laid out for broadcasting: same data, dimensions of 1 where they repeat. */
  view: Shape;
  scale: number;
}

export const broadcastToOp = defineOp<BroadcastParams>({
  name: 'broadcastTo',
  shape([x], { shape, view }) {
    const fits =
      view.length <= shape.length && view.every((d, i) => d === 1 || d === shape[shape.length - view.length + i]);
    if (sizeOf(view) !== sizeOf(x) || !fits) {
      throw new Error(`broadcastTo: cannot broadcast ${formatShape(x)} to ${formatShape(shape)}`);
    }
    return shape;
  },
  cpu([x], { shape, view, scale }) {
    const strides = broadcastStrides(view, shape);
    const out = new Float64Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = x.data[stridedIndex(i, shape, strides)] * scale;
    return out;
  },
  gpu(gpu, [x], { shape, view, scale }, out) {
    const size = sizeOf(shape);
    const params = { size, shape: padLeft(shape, 1), strides: padLeft(broadcastStrides(view, shape), 0), scale };
    gpu.dispatch(
      { name: 'broadcast', shader: broadcastShader, constants: { HIGH_DIMS: shape.length > 4 } },
      { x, out, params },
      elementwiseGrid(size),
    );
  },
  vjp: (g, [x], { view, scale }) => [sumTo(g, view, x.shape, scale)],
});

/** The reduced axes, sorted and distinct, or null for all of them (`axis` omitted). */
export function reducedAxes(op: string, axis: Axes | undefined, shape: Shape): number[] | null {
  if (axis === undefined) return null;
  if (typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new Error(
      `${op}: axis must be a number or an array of numbers, got ${typeof axis} for shape ${formatShape(shape)}`,
    );
  }
  const axes = (typeof axis === 'number' ? [axis] : (axis as readonly number[])).map((a) =>
    normalizeAxis(op, a, shape),
  );
  axes.forEach((a, i) => {
    if (axes.indexOf(a) !== i)
      throw new Error(`${op}: axis ${a} is given twice in [${String(axis)}] for shape ${formatShape(shape)}`);
  });
  return axes.sort((a, b) => a - b);
}

/** How many elements each output of a reduction over `axes` combines. */
export function reducedCount(shape: Shape, axes: number[] | null): number {
  return axes === null ? sizeOf(shape) : sizeOf(axes.map((a) => shape[a]));
}

/** The shape a reduction over `axes` gives. */
export function reducedShape(shape: Shape, axes: number[] | null, keepDims = false): Shape {
  if (keepDims) return shape.map((d, i) => (axes === null || axes.includes(i) ? 1 : d));
  return axes === null ? [] : shape.filter((_, i) => !axes.includes(i));
}

/**
 * Applies a reduction over any set of axes: each contiguous run of them at once, from the last run to the first,
 * with the runs reduced so far kept as 1 (the layout is the same); the last step is labelled with the final shape.
 * Sums, maxima and log-sum-exps compose that way, and the first maximum of each step is the first overall.
 */
export function reduceAlong(
  op: OpDef<ReduceParams>,
  x: Tensor,
  axes: number[] | null,
  keepDims = false,
  scale = 1,
): Tensor {
  const outShape = reducedShape(x.shape, axes, keepDims);
  if (axes === null) return apply(x.owner, op, [x], { axis: null, outShape, scale });
  if (axes.length === 0) return broadcastTo(x, x.shape, x.shape, scale);
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  const shape = [...x.shape];
  return runs.reverse().reduce((current, [axis, until], i) => {
    for (let d = axis; d < until; d++) shape[d] = 1;
    const last = i === runs.length - 1;
    return apply(x.owner, op, [current], {
      axis,
      until,
      outShape: last ? outShape : [...shape],
      scale: last ? scale : 1,
    });
  }, x);
}

/** Sums over `axis` (one or several), or over everything when it is omitted; `scale` multiplies the result (mean uses 1/n). */
export function sum(x: Tensor, axis?: Axes, options: ReduceOptions & { scale?: number } = {}): Tensor {
  return reduceAlong(sumOp, x, reducedAxes('sum', axis, x.shape), options.keepDims, options.scale ?? 1);
}

export function mean(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  const axes = reducedAxes('mean', axis, x.shape);
  return reduceAlong(sumOp, x, axes, options.keepDims, 1 / reducedCount(x.shape, axes));
}

export function broadcastTo(x: Tensor, shape: Shape, view: Shape = x.shape, scale = 1): Tensor {
  if (scale === 1 && sameShape(x.shape, shape)) return x;
  return apply(x.owner, broadcastToOp, [x], { shape, view, scale });
}

/**
 * Sums a broadcast gradient back down to `target` (right-aligned, NumPy-style), one axis at a time,
 * and labels the result `finalShape` (same data layout, possibly another rank).
 */
export function sumTo(g: Tensor, target: Shape, finalShape: Shape = target, scale = 1): Tensor {
  const padded = padToRank(target, g.rank);
  const axes = g.shape.flatMap((d, i) => (padded[i] === 1 && d !== 1 ? [i] : []));
  if (axes.length === 0) {
    if (scale === 1 && sameShape(g.shape, finalShape)) return g;
    return apply(g.owner, broadcastToOp, [g], { shape: finalShape, view: finalShape, scale });
  }
  const shape = [...g.shape];
  return axes.reduce((current, axis, i) => {
    shape[axis] = 1;
    const last = i === axes.length - 1;
    return apply(g.owner, sumOp, [current], {
      axis,
      outShape: last ? finalShape : [...shape],
      scale: last ? scale : 1,
    });
  }, g);
}

function padToRank(shape: Shape, rank: number): Shape {
  return [...new Array<number>(Math.max(0, rank - shape.length)).fill(1), ...shape];
}
