import { defineOp } from '../tensor/tensor.js';
import { apply, type Tensor } from '../tensor/tensor.js';
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
import { Shader } from '../core/shader.js';
import reduceSource from '../../shaders/reduce.wgsl?raw';
import broadcastSource from '../../shaders/broadcast.wgsl?raw';

const reduceShader = new Shader('reduce', reduceSource);
/** The strided copy: broadcastTo's kernel, and permute's. */
export const broadcastShader = new Shader('broadcast', broadcastSource);

interface SumParams {
  /** The axis summed over, or null for all of them. */
  axis: number | null;
  /** The output's shape: the input's without the axis, or with it kept as 1. */
  outShape: Shape;
  scale: number;
}

/** The input seen as [outer, reduce, inner] around the summed axis. */
function split(shape: Shape, axis: number | null) {
  if (axis === null) return { outer: 1, reduce: sizeOf(shape), inner: 1 };
  return { outer: sizeOf(shape.slice(0, axis)), reduce: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/** The input's shape with the summed axis (or every axis) kept as 1. */
function keptShape(shape: Shape, axis: number | null): Shape {
  return shape.map((d, i) => (axis === null || i === axis ? 1 : d));
}

export const sumOp = defineOp<SumParams>({
  name: 'sum',
  shape([x], { axis, outShape }) {
    const { reduce } = split(x, axis);
    if (sizeOf(outShape) * reduce !== sizeOf(x)) {
      throw new Error(`sum: cannot sum ${formatShape(x)} over axis ${axis} into ${formatShape(outShape)}`);
    }
    return outShape;
  },
  cpu([x], { axis, scale }) {
    const { outer, reduce, inner } = split(x.shape, axis);
    const out = new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let r = 0; r < reduce; r++) acc += x.data[(o * reduce + r) * inner + i];
        out[o * inner + i] = acc * scale;
      }
    }
    return out;
  },
  gpu(gpu, [x], { axis, scale }, out) {
    const { outer, reduce, inner } = split(x.shape, axis);
    // Side-by-side outputs (column sums): one invocation each, reading coalesced, with no barriers (which software
    // adapters run slowly; a training step's bias gradients took 2.4 ms on SwiftShader as workgroup sums).
    // Long sums into few outputs share a workgroup per output instead.
    const byColumn = inner >= 64 || (inner > 1 && reduce <= 4096);
    gpu.dispatch(
      { name: byColumn ? 'sum_columns' : 'sum', shader: reduceShader, entry: byColumn ? 'columns' : 'main' },
      { x, out, params: { outer, reduce, inner, scale } },
      byColumn ? elementwiseGrid(outer * inner) : grid1d(outer * inner),
      { axis: axis ?? 'all' },
    );
  },
  // Every summed element receives the upstream gradient, times the scale.
  vjp: (g, [x], { axis, scale }) => [broadcastTo(g, x.shape, keptShape(x.shape, axis), scale)],
});

interface BroadcastParams {
  shape: Shape;
  /** How the input's values are laid out for broadcasting: same data, dimensions of 1 where they repeat. */
  view: Shape;
  scale: number;
}

export const broadcastToOp = defineOp<BroadcastParams>({
  name: 'broadcastTo',
  shape([x], { shape, view }) {
    const fits = view.length <= shape.length && view.every((d, i) => d === 1 || d === shape[shape.length - view.length + i]);
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
    gpu.dispatch({ name: 'broadcast', shader: broadcastShader }, { x, out, params }, elementwiseGrid(size));
  },
  vjp: (g, [x], { view, scale }) => [sumTo(g, view, x.shape, scale)],
});

/** Sums over `axis`, or over everything when it is omitted; `scale` multiplies the result (mean uses 1/n). */
export function sum(x: Tensor, axis?: number, options: { keepDims?: boolean; scale?: number } = {}): Tensor {
  const ax = axis === undefined ? null : normalizeAxis('sum', axis, x.shape);
  const kept = keptShape(x.shape, ax);
  const outShape = options.keepDims ? kept : ax === null ? [] : x.shape.filter((_, i) => i !== ax);
  return apply(x.owner, sumOp, [x], { axis: ax, outShape, scale: options.scale ?? 1 });
}

export function mean(x: Tensor, axis?: number, options: { keepDims?: boolean } = {}): Tensor {
  const ax = axis === undefined ? undefined : normalizeAxis('mean', axis, x.shape);
  const count = ax === undefined ? x.size : x.shape[ax];
  return sum(x, ax, { ...options, scale: 1 / count });
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
    return apply(g.owner, sumOp, [current], { axis, outShape: last ? finalShape : [...shape], scale: last ? scale : 1 });
  }, g);
}

function padToRank(shape: Shape, rank: number): Shape {
  return [...new Array<number>(Math.max(0, rank - shape.length)).fill(1), ...shape];
}
