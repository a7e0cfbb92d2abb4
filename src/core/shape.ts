export type Shape = readonly number[];

/** Kernels see shapes padded to this rank: two vec4<u32> per shape or strides in a uniform. */
export const MAX_RANK = 8;

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** An op's shapes as errors print them, `[2,3] · [3,4] → [2,4]`; profiles join them tighter (`separator` '·'). */
export function describeShapes(inputs: readonly Shape[], out: Shape, separator = ' · '): string {
  return `${inputs.map(formatShape).join(separator)} → ${formatShape(out)}`;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws unless every dimension is a positive integer and the rank is supported. */
export function checkShape(op: string, shape: unknown): Shape {
  if (!Array.isArray(shape)) throw new Error(`${op}: shape must be an array of dimensions, got ${String(shape)}`);
  if (shape.length > MAX_RANK) {
    throw new Error(`${op}: shape ${formatShape(shape)} has rank ${shape.length}; at most ${MAX_RANK} is supported`);
  }
  shape.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new Error(
        `${op}: dimension ${i} of shape ${formatShape(shape)} is ${String(d)}; dimensions must be positive integers`,
      );
    }
  });
  return Object.freeze([...shape]);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting: align from the right; a dimension of 1 (or a missing one) stretches. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`,
      );
    }
    out.push(Math.max(da, db));
  }
  return out;
}

/** Row-major strides of `shape` seen through `outShape`: 0 where the dimension is broadcast. */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = outShape.length - shape.length + i;
    strides[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/** Pads shape and strides on the left to MAX_RANK so that kernels see one fixed rank. */
export function padLeft(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(MAX_RANK - values.length).fill(fill), ...values];
}

/** Row-major strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

/**
 * Where element `index` of a row-major `shape` is read from, given per-dimension `strides` (0 along a broadcast
 * dimension, permuted for a permute). The CPU twin of `stridedIndex` in shaders/prelude.wgsl.
 */
export function stridedIndex(index: number, shape: Shape, strides: readonly number[]): number {
  let rest = index;
  let at = 0;
  for (let d = shape.length - 1; d >= 0 && rest > 0; d--) {
    at += (rest % shape[d]) * strides[d];
    rest = Math.floor(rest / shape[d]);
  }
  return at;
}

export function normalizeAxis(op: string, axis: number, shape: Shape): number {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`${op}: axis ${axis} is out of range for shape ${formatShape(shape)}`);
  }
  return axis < 0 ? axis + rank : axis;
}
