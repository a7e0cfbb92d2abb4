// Gather along one axis, and its gradient: a scatter-add computed as a gather over the indices, one output element
// per invocation summing its matches in index order, so that it is deterministic (no float atomics).
import { apply, defineOp, Tensor, type OpDef } from '../tensor/tensor.js';
import { checkShape, formatShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import source from '../../shaders/gather.wgsl?raw';

const shader = new Shader('gather', source);

/** Integer indices: nested arrays of any depth, an Int32Array, or a tensor of integer values. */
export type Indices = Tensor | number | Int32Array | readonly IndexArray[];
type IndexArray = number | readonly IndexArray[];

interface GatherParams {
  axis: number;
}

/** `a` as [outer, extent, inner] around the axis. */
function around(shape: Shape, axis: number) {
  return { outer: sizeOf(shape.slice(0, axis)), extent: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

// Indices travel as float32 on the GPU, which holds every integer exactly only up to 2²⁴.
const EXACT_F32_INTEGERS = 2 ** 24;

function badIndex(op: string, index: number, position: number, a: Shape, axis: number): string | null {
  if (index >= EXACT_F32_INTEGERS)
    return `${op}: index ${index} at position ${position} is not below 2^24, the float32 limit of exact indices (axis ${axis} of ${formatShape(a)})`;
  if (Number.isInteger(index) && index >= 0 && index < a[axis]) return null;
  return `${op}: index ${index} at position ${position} is not an integer in [0, ${a[axis]}) for axis ${axis} of ${formatShape(a)}`;
}

export const gatherOp: OpDef<GatherParams> = defineOp<GatherParams>({
  name: 'gather',
  shape([a, indices], { axis }) {
    return checkShape('gather', [...a.slice(0, axis), ...indices, ...a.slice(axis + 1)]);
  },
  cpu([a, indices], { axis }, outShape) {
    const { outer, extent, inner } = around(a.shape, axis);
    const count = indices.data.length;
    indices.data.forEach((index, j) => {
      const bad = badIndex('gather', index, j, a.shape, axis);
      if (bad) throw new Error(bad);
    });
    const out = new Float64Array(sizeOf(outShape));
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < count; j++)
        for (let i = 0; i < inner; i++)
          out[(o * count + j) * inner + i] = a.data[(o * extent + indices.data[j]) * inner + i];
    return out;
  },
  // Inputs 2 and 3, when present, are the inverse map `matchesOf` makes for the backward pass; the forward ignores them.
  gpu(gpu, [a, indices], { axis }, out) {
    const { extent, inner } = around(a.shape, axis);
    const size = sizeOf(out.shape);
    const params = { size, count: sizeOf(indices.shape), extent, inner };
    gpu.dispatch({ name: 'gather', shader }, { a, indices, out, params }, elementwiseGrid(size), { axis });
  },
  // Indices (and their inverse map) are data: they get no gradient.
  vjp: (g, [a, ...indexData], { axis }) => [
    apply(g.owner, gatherGradOp, [g, ...indexData], { axis, shape: a.shape }),
    ...indexData.map(() => null),
  ],
});

interface ScatterParams {
  axis: number;
  /** The shape of the gathered tensor, which the gradient takes. */
  shape: Shape;
}

/**
 * The VJP of gather: g [outer, count, inner] summed into [outer, extent, inner] at the indices. Inputs: g, indices,
 * and optionally the inverse map from `matchesOf` (starts [extent + 1], positions [count]). Each output element
 * visits only its own matches: through that map, or without it through chains of equal indices that two passes
 * link on the device. Either way it adds the same terms in the same order (ascending position), so the two give the
 * same bits, run after run.
 */
export const gatherGradOp: OpDef<ScatterParams> = defineOp<ScatterParams>({
  name: 'gatherGrad',
  shape([g, indices, starts, positions], { axis, shape }) {
    if (
      starts &&
      (starts.length !== 1 ||
        starts[0] !== shape[axis] + 1 ||
        positions?.length !== 1 ||
        positions[0] !== sizeOf(indices))
    ) {
      throw new Error(
        `gatherGrad: the inverse map ${formatShape(starts)}, ${formatShape(positions ?? [])} does not fit indices ${formatShape(indices)} into ${formatShape(shape)} on axis ${axis}`,
      );
    }
    const expected = [...shape.slice(0, axis), ...indices, ...shape.slice(axis + 1)];
    if (g.length !== expected.length || g.some((d, i) => d !== expected[i])) {
      throw new Error(
        `gatherGrad: gradient ${formatShape(g)} does not match indices ${formatShape(indices)} gathered from ${formatShape(shape)} on axis ${axis}`,
      );
    }
    return shape;
  },
  cpu([g, indices], { axis, shape }) {
    const { outer, extent, inner } = around(shape, axis);
    const count = indices.data.length;
    const out = new Float64Array(sizeOf(shape));
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < count; j++) {
        const r = indices.data[j];
        if (!Number.isInteger(r) || r < 0 || r >= extent) continue;
        for (let i = 0; i < inner; i++) out[(o * extent + r) * inner + i] += g.data[(o * count + j) * inner + i];
      }
    return out;
  },
  gpu(gpu, [g, indices, starts, positions], { axis, shape }, out) {
    const { extent, inner } = around(shape, axis);
    const size = sizeOf(shape);
    const params = { size, count: sizeOf(indices.shape), extent, inner };
    if (starts && positions) {
      const kernel = { name: 'gather_grad_sorted', shader, entry: 'scatter_sorted' };
      gpu.dispatch(kernel, { g, starts, positions, out, params }, elementwiseGrid(size), { axis });
    } else {
      // Chains of equal indices, linked on the device, stand in for the host's inverse map.
      const head = gpu.scratch(extent);
      const next = gpu.scratch(params.count);
      const heads = { name: 'gather_grad_heads', shader, entry: 'first_match' };
      gpu.dispatch(heads, { indices, head, params }, elementwiseGrid(extent), { axis });
      const links = { name: 'gather_grad_links', shader, entry: 'next_match' };
      gpu.dispatch(links, { indices, next, params }, elementwiseGrid(params.count), { axis });
      const walk = { name: 'gather_grad', shader, entry: 'scatter_linked' };
      gpu.dispatch(walk, { g, head, next, out, params }, elementwiseGrid(size), { axis });
    }
  },
  // Linear in g: its own VJP gathers the incoming gradient back (second derivatives of gather).
  vjp: (gg, [, indices, ...map], { axis }) => [
    apply(gg.owner, gatherOp, [gg, indices], { axis }),
    null,
    ...map.map(() => null),
  ],
});

/**
 * For each row r of the gathered axis, the positions j with indices[j] = r, ascending: positions[starts[r] ..
 * starts[r + 1]). A counting sort on the host, where array indices already are.
 */
function matchesOf(values: readonly number[], extent: number): { starts: number[]; positions: number[] } {
  const starts = new Array<number>(extent + 1).fill(0);
  for (const r of values) starts[r + 1]++;
  for (let r = 0; r < extent; r++) starts[r + 1] += starts[r];
  const next = starts.slice(0, extent);
  const positions = new Array<number>(values.length);
  values.forEach((r, j) => (positions[next[r]++] = j));
  return { starts, positions };
}

/** The shape and row-major values of nested index arrays; throws unless they are rectangular. */
function flattenIndices(
  indices: number | Int32Array | readonly IndexArray[],
  a: Shape,
): { shape: number[]; values: number[] } {
  if (typeof indices === 'number') return { shape: [], values: [indices] };
  if (indices instanceof Int32Array) return { shape: [indices.length], values: Array.from(indices) };
  const shape: number[] = [];
  for (let level: unknown = indices; Array.isArray(level); level = level[0]) shape.push(level.length);
  const values: number[] = [];
  const walk = (node: unknown, depth: number) => {
    if (depth === shape.length) {
      if (typeof node !== 'number')
        throw new Error(
          `gather: indices for ${formatShape(a)} must be numbers in nested arrays of one shape ${formatShape(shape)}`,
        );
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new Error(
        `gather: indices for ${formatShape(a)} are ragged: nested arrays must have one shape ${formatShape(shape)}`,
      );
    }
    node.forEach((child) => walk(child, depth + 1));
  };
  walk(indices, 0);
  return { shape, values };
}

/**
 * Picks entries of `a` along `axis` by integer index: the result has shape a.shape[:axis] + indices.shape +
 * a.shape[axis+1:]. Indices given as numbers are checked here; a tensor of indices is checked by the CPU
 * reference, and on the GPU a bad index (not an integer in range) gives NaN instead of reading out of bounds.
 */
export function gather(a: Tensor, indices: Indices, axis = 0): Tensor {
  if (!Number.isInteger(axis) || axis < -a.rank || axis >= a.rank)
    throw new Error(`gather: axis ${axis} is out of range for shape ${formatShape(a.shape)}`);
  const ax = axis < 0 ? axis + a.rank : axis;
  if (indices instanceof Tensor) return apply(a.owner, gatherOp, [a, indices], { axis: ax });
  if (typeof indices !== 'number' && !(indices instanceof Int32Array) && !Array.isArray(indices)) {
    throw new Error(`gather: indices must be integers (an array, an Int32Array or a tensor), got ${typeof indices}`);
  }
  const { shape, values } = flattenIndices(indices, a.shape);
  checkShape('gather', shape);
  values.forEach((index, j) => {
    const bad = badIndex('gather', index, j, a.shape, ax);
    if (bad) throw new Error(bad);
  });
  checkShape('gather', [...a.shape.slice(0, ax), ...shape, ...a.shape.slice(ax + 1)]);
  // Uploaded only once every check has passed; the tape keeps them for the backward pass.
  const upload = (data: readonly number[], dims: Shape) =>
    Tensor.from(a.owner, dims, a.owner.backend.upload(data, dims));
  const indexData = [upload(values, shape)];
  // Known on the host, the indices can be inverted here, so that the gradient's kernel visits only each row's
  // matches: O(size of a + size of g) instead of O(size of a · number of indices). Positions travel as float32 too.
  if (a.requiresGrad && a.owner.gradEnabled && values.length < EXACT_F32_INTEGERS) {
    const { starts, positions } = matchesOf(values, a.shape[ax]);
    indexData.push(upload(starts, [starts.length]), upload(positions, [positions.length]));
  }
  return apply(a.owner, gatherOp, [a, ...indexData], { axis: ax });
}
