// Slice, pad, concat, stack and split: copies between a tensor and boxes or bands of another. Slice and pad are
// each other's VJP; concat and stack take their gradients back with slices. Kernels are rank-generic (8 dimensions).
import { apply, checkTensors, defineOp, Tensor } from '../tensor/tensor.js';
import { checkShape, formatShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import sliceSource from '../../shaders/slice.wgsl?raw';
import padSource from '../../shaders/pad.wgsl?raw';
import concatSource from '../../shaders/concat.wgsl?raw';

const sliceShader = new Shader('slice', sliceSource);
const padShader = new Shader('pad', padSource);
const concatShader = new Shader('concat', concatSource);

/** The rank the copy kernels are written for: shapes reach them padded on the left to this many dimensions. */
const KERNEL_RANK = 8;

function padTo(values: readonly number[], fill: number): number[] {
  if (values.length > KERNEL_RANK)
    throw new Error(`slicing kernels support rank ≤ ${KERNEL_RANK}, got ${values.length}`);
  return [...new Array<number>(KERNEL_RANK - values.length).fill(fill), ...values];
}

function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/** The row-major coordinates of flat index `i` in `shape`. */
function coordsOf(i: number, shape: Shape): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return coords;
}

interface SliceParams {
  /** The box's corner and extents, one per input dimension. */
  begin: number[];
  size: number[];
  /** The output's shape: `size`, or the same elements under another rank (stack's VJP drops its axis). */
  outShape: Shape;
}

export const sliceOp = defineOp<SliceParams>({
  name: 'slice',
  shape([x], { begin, size, outShape }) {
    const fits =
      begin.length === x.length &&
      size.length === x.length &&
      x.every((d, i) => begin[i] >= 0 && size[i] >= 1 && begin[i] + size[i] <= d);
    if (!fits || sizeOf(outShape) !== sizeOf(size)) {
      throw new Error(`slice: box at [${begin.join(',')}] of size [${size.join(',')}] does not fit ${formatShape(x)}`);
    }
    return outShape;
  },
  cpu([x], { begin, size }) {
    const strides = stridesOf(x.shape);
    const out = new Float64Array(sizeOf(size));
    for (let i = 0; i < out.length; i++) {
      const coords = coordsOf(i, size);
      let ix = 0;
      for (let d = 0; d < coords.length; d++) ix += (coords[d] + begin[d]) * strides[d];
      out[i] = x.data[ix];
    }
    return out;
  },
  gpu(gpu, [x], { begin, size }, out) {
    const strides = stridesOf(x.shape);
    const base = begin.reduce((acc, b, d) => acc + b * strides[d], 0);
    const params = { size: sizeOf(size), base, shape: padTo(size, 1), strides: padTo(strides, 0) };
    gpu.dispatch({ name: 'slice', shader: sliceShader }, { x, out, params }, elementwiseGrid(params.size));
  },
  vjp: (g, [x], { begin, size }) => [padView(g, size, begin, x.shape, 0)],
});

interface PadParams {
  /** The input seen under this shape (same elements): the box written into the output. */
  view: Shape;
  before: number[];
  outShape: Shape;
  value: number;
}

export const padOp = defineOp<PadParams>({
  name: 'pad',
  shape([x], { view, before, outShape }) {
    const fits =
      view.length === outShape.length &&
      before.length === view.length &&
      view.every((d, i) => before[i] >= 0 && before[i] + d <= outShape[i]);
    if (!fits || sizeOf(view) !== sizeOf(x)) {
      throw new Error(
        `pad: ${formatShape(x)} as ${formatShape(view)} at [${before.join(',')}] does not fit ${formatShape(outShape)}`,
      );
    }
    return outShape;
  },
  cpu([x], { view, before, outShape, value }) {
    const out = new Float64Array(sizeOf(outShape)).fill(value);
    const outStrides = stridesOf(outShape);
    for (let i = 0; i < x.data.length; i++) {
      const coords = coordsOf(i, view);
      let o = 0;
      for (let d = 0; d < coords.length; d++) o += (coords[d] + before[d]) * outStrides[d];
      out[o] = x.data[i];
    }
    return out;
  },
  gpu(gpu, [x], { view, before, outShape, value }, out) {
    const size = sizeOf(outShape);
    const bits = new Uint32Array(Float32Array.of(value).buffer)[0];
    const params = {
      size,
      value: bits,
      shape: padTo(outShape, 1),
      inner: padTo(view, 1),
      before: padTo(before, 0),
      strides: padTo(stridesOf(view), 0),
    };
    gpu.dispatch({ name: 'pad', shader: padShader }, { x, out, params }, elementwiseGrid(size));
  },
  // The fill value is a constant: only the box carries a gradient.
  vjp: (g, [x], { view, before }) => [
    apply(g.owner, sliceOp, [g], { begin: before, size: [...view], outShape: x.shape }),
  ],
});

/** Pads `x`, seen as `view`, into `outShape` with its corner at `before`. */
function padView(x: Tensor, view: Shape, before: number[], outShape: Shape, value: number): Tensor {
  return apply(x.owner, padOp, [x], { view, before, outShape, value });
}

interface ConcatParams {
  axis: number;
  /** Stack: every input becomes one index of a new axis at `axis`, instead of a band of an existing one. */
  stacked: boolean;
}

/** Each input as [outer, extent, inner] around the axis, and the output's extent along it. */
function bands(shapes: Shape[], { axis, stacked }: ConcatParams) {
  const first = shapes[0];
  const outer = sizeOf(first.slice(0, axis));
  const extents = shapes.map((s) => (stacked ? 1 : s[axis]));
  const inner = sizeOf(first.slice(stacked ? axis : axis + 1));
  const offsets = extents.map((_, i) => extents.slice(0, i).reduce((a, b) => a + b, 0));
  return { outer, extents, inner, offsets, total: extents.reduce((a, b) => a + b, 0) };
}

export const concatOp = defineOp<ConcatParams>({
  name: 'concat',
  shape(shapes, { axis, stacked }) {
    const op = stacked ? 'stack' : 'concat';
    const first = shapes[0];
    const all = shapes.map(formatShape).join(', ');
    shapes.forEach((s, i) => {
      const matches = s.length === first.length && s.every((d, k) => d === first[k] || (!stacked && k === axis));
      if (!matches) {
        const rule = stacked ? 'all shapes must be equal' : `shapes must be equal except along axis ${axis}`;
        throw new Error(
          `${op}: tensor ${i} ${formatShape(s)} does not match tensor 0 ${formatShape(first)} (${rule}): ${all}`,
        );
      }
    });
    if (stacked) return checkShape(op, [...first.slice(0, axis), shapes.length, ...first.slice(axis)]);
    return first.map((d, k) => (k === axis ? shapes.reduce((acc, s) => acc + s[axis], 0) : d));
  },
  cpu(inputs, params, outShape) {
    const { outer, extents, inner, offsets, total } = bands(
      inputs.map((x) => x.shape),
      params,
    );
    const out = new Float64Array(sizeOf(outShape));
    inputs.forEach((x, n) => {
      for (let o = 0; o < outer; o++)
        for (let r = 0; r < extents[n]; r++)
          for (let i = 0; i < inner; i++)
            out[(o * total + offsets[n] + r) * inner + i] = x.data[(o * extents[n] + r) * inner + i];
    });
    return out;
  },
  gpu(gpu, inputs, params, out) {
    const { extents, inner, offsets, total } = bands(
      inputs.map((x) => x.shape),
      params,
    );
    // One dispatch per input, each writing its own band: no kernel needs a variable number of bindings.
    inputs.forEach((x, n) => {
      const size = sizeOf(x.shape);
      const uniforms = { size, extent: extents[n], inner, total, offset: offsets[n] };
      gpu.dispatch(
        { name: params.stacked ? 'stack' : 'concat', shader: concatShader },
        { x, out, params: uniforms },
        elementwiseGrid(size),
        { input: n },
      );
    });
  },
  vjp: (g, inputs, params) => {
    const { offsets } = bands(
      inputs.map((x) => x.shape),
      params,
    );
    const { axis, stacked } = params;
    return inputs.map((x, n) => {
      const size = stacked ? [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)] : [...x.shape];
      const begin = size.map((_, d) => (d === axis ? offsets[n] : 0));
      return apply(g.owner, sliceOp, [g], { begin, size, outShape: x.shape });
    });
  },
});

/**
 * `size[d]` elements from `begin[d]` along each dimension d (−1: to the end). Shorter arrays than the rank leave
 * the remaining dimensions whole (begin 0, size −1), as TF.js does.
 */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[] = []): Tensor {
  const where = `${formatShape(x.shape)} at begin [${arrayText(begin)}] size [${arrayText(size)}]`;
  if (!Array.isArray(begin) || !Array.isArray(size))
    throw new Error(`slice: begin and size must be arrays of integers: ${where}`);
  if (begin.length > x.rank || size.length > x.rank)
    throw new Error(`slice: begin and size have more entries than the rank ${x.rank}: ${where}`);
  const fullBegin = x.shape.map((_, d) => begin[d] ?? 0);
  const fullSize = x.shape.map((dim, d) => {
    const s = size[d] ?? -1;
    return s === -1 ? dim - fullBegin[d] : s;
  });
  x.shape.forEach((dim, d) => {
    const [b, s] = [fullBegin[d], fullSize[d]];
    if (!Number.isInteger(b) || !Number.isInteger(s))
      throw new Error(`slice: begin and size must be integers: ${where}`);
    if (b < 0 || b >= dim) throw new Error(`slice: begin ${b} is outside dimension ${d} (extent ${dim}): ${where}`);
    if (s < 1)
      throw new Error(
        `slice: size ${s} along dimension ${d} would make a zero-size (or negative) dimension; sizes are ≥ 1 or −1: ${where}`,
      );
    if (b + s > dim) throw new Error(`slice: ${b} + ${s} passes the end of dimension ${d} (extent ${dim}): ${where}`);
  });
  return apply(x.owner, sliceOp, [x], { begin: fullBegin, size: fullSize, outShape: fullSize });
}

/** Pads with `value`: paddings holds one [before, after] pair of non-negative integers per dimension, in order. */
export function pad(x: Tensor, paddings: readonly (readonly number[])[], value = 0): Tensor {
  const text = Array.isArray(paddings)
    ? paddings.map((p) => (Array.isArray(p) ? `[${p.join(',')}]` : String(p))).join(',')
    : String(paddings);
  const where = `${formatShape(x.shape)} with paddings [${text}]`;
  if (!Array.isArray(paddings) || paddings.length !== x.rank) {
    throw new Error(`pad: paddings must hold one [before, after] pair per dimension (${x.rank}): ${where}`);
  }
  paddings.forEach((p, d) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new Error(
        `pad: the padding of dimension ${d} must be [before, after] with non-negative integers: ${where}`,
      );
    }
  });
  if (typeof value !== 'number') throw new Error(`pad: the value must be a number, got ${typeof value}: ${where}`);
  const outShape = x.shape.map((dim, d) => paddings[d][0] + dim + paddings[d][1]);
  return padView(
    x,
    x.shape,
    paddings.map((p) => p[0]),
    outShape,
    value,
  );
}

function checkList(op: string, tensors: readonly Tensor[]): Tensor[] {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new Error(
      `${op}: needs a non-empty array of tensors, got ${Array.isArray(tensors) ? 'an empty array' : typeof tensors}`,
    );
  const first = tensors.find((t) => t instanceof Tensor);
  if (!first) throw new Error(`${op}: element 0 of the list is not a Tensor`);
  checkTensors(op, first.owner, tensors);
  return [...tensors];
}

/** Joins tensors along an existing axis; shapes must agree on every other axis. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const list = checkList('concat', tensors);
  const rank = list[0].rank;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`concat: axis ${axis} is out of range for ${list.map((t) => formatShape(t.shape)).join(', ')}`);
  }
  return apply(list[0].owner, concatOp, list, { axis: axis < 0 ? axis + rank : axis, stacked: false });
}

/** Stacks tensors of one shape along a new axis at `axis` (−1: last), of extent the number of tensors. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  const list = checkList('stack', tensors);
  const rank = list[0].rank + 1;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(
      `stack: axis ${axis} is out of range for a new axis of ${list.map((t) => formatShape(t.shape)).join(', ')}`,
    );
  }
  return apply(list[0].owner, concatOp, list, { axis: axis < 0 ? axis + rank : axis, stacked: true });
}

/**
 * Splits along `axis` into `count` equal pieces (a number, which must divide the extent), or into pieces of the given
 * sizes (an array; one entry may be −1, for the rest). Every piece has at least one element along the axis.
 */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  if (!Number.isInteger(axis) || axis < -x.rank || axis >= x.rank)
    throw new Error(`split: axis ${axis} is out of range for shape ${formatShape(x.shape)}`);
  const ax = axis < 0 ? axis + x.rank : axis;
  const extent = x.shape[ax];
  const where = `${formatShape(x.shape)} along axis ${ax} (extent ${extent})`;
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    const count = sizesOrCount;
    if (!Number.isInteger(count) || count < 1 || extent % count !== 0) {
      throw new Error(
        `split: cannot split ${where} into ${count} equal pieces; the count must be a positive integer that divides ${extent}`,
      );
    }
    sizes = new Array<number>(count).fill(extent / count);
  } else if (Array.isArray(sizesOrCount) && sizesOrCount.length > 0) {
    sizes = [...sizesOrCount];
    const given = `sizes [${sizes.join(',')}]`;
    if (!sizes.every((s) => Number.isInteger(s) && (s >= 1 || s === -1))) {
      throw new Error(
        `split: ${given} for ${where} must be positive integers (one may be −1); a piece of size 0 is not allowed`,
      );
    }
    const rest = sizes.filter((s) => s === -1).length;
    if (rest > 1) throw new Error(`split: ${given} for ${where} have more than one −1`);
    const known = sizes.reduce((acc, s) => (s === -1 ? acc : acc + s), 0);
    if (rest === 1) {
      if (known >= extent) throw new Error(`split: ${given} for ${where} leave nothing for the −1 piece`);
      sizes = sizes.map((s) => (s === -1 ? extent - known : s));
    } else if (known !== extent) {
      throw new Error(`split: ${given} for ${where} sum to ${known}, not ${extent}`);
    }
  } else {
    throw new Error(`split: expects a count or a non-empty array of sizes for ${where}`);
  }
  let offset = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, d) => (d === ax ? offset : 0));
    const size = x.shape.map((dim, d) => (d === ax ? s : dim));
    offset += s;
    return apply(x.owner, sliceOp, [x], { begin, size, outShape: size });
  });
}

function arrayText(values: unknown): string {
  return Array.isArray(values) ? values.join(',') : String(values);
}
