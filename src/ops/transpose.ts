import { defineOp } from '../tensor/tensor.js';
import { apply, type Tensor } from '../tensor/tensor.js';
import { contiguousStrides, formatShape, padLeft, sizeOf, stridedIndex } from '../core/shape.js';
import { elementwiseGrid, type Dispatcher, type GpuOperand } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { broadcastShader } from './reduce.js';
import source from '../../shaders/transpose.wgsl?raw';
import permuteSource from '../../shaders/permute.wgsl?raw';

const shader = new Shader('transpose', source);
const permuteVec4Shader = new Shader('permute', permuteSource);

/** A materialised 2-D transpose, for users who ask for one. Gradient paths use matmul's flags instead. */
export const transposeOp = defineOp({
  name: 'transpose',
  shape([x]) {
    if (x.length !== 2) throw new Error(`transpose: expects a 2-D tensor, got ${formatShape(x)}`);
    return [x[1], x[0]];
  },
  cpu([x]) {
    const [rows, cols] = x.shape;
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x.data[r * cols + c];
    return out;
  },
  gpu(gpu, [x], _p, out) {
    const [rows, cols] = x.shape;
    gpu.dispatch({ name: 'transpose', shader }, { x, out, params: { rows, cols } }, [
      Math.ceil(cols / 16),
      Math.ceil(rows / 16),
    ]);
  },
  vjp: (g) => [transposeLastTwo(g)],
});

interface PermuteParams {
  /** Output axis d is input axis axes[d]; already checked to be a permutation. */
  axes: readonly number[];
}

/** The input's strides read in output order: output element i comes from x[stridedIndex(i, outShape, these)]. */
function permutedStrides(inShape: readonly number[], axes: readonly number[]): number[] {
  const strides = contiguousStrides(inShape);
  return axes.map((a) => strides[a]);
}

export const permuteOp = defineOp<PermuteParams>({
  name: 'permute',
  shape: ([x], { axes }) => axes.map((a) => x[a]),
  cpu([x], { axes }, outShape) {
    const strides = permutedStrides(x.shape, axes);
    const out = new Float64Array(sizeOf(outShape));
    for (let i = 0; i < out.length; i++) out[i] = x.data[stridedIndex(i, outShape, strides)];
    return out;
  },
  gpu(gpu, [x], { axes }, out) {
    const last = axes.length - 1;
    if (axes[last] === last && x.shape[last] % 4 === 0) return permuteByVec4(gpu, x, out, axes);
    // The strided copy of broadcast.wgsl with no broadcast dimension: one invocation per output element, reading
    // x through the permuted strides, and no workgroup memory or barriers (slow on software adapters).
    const size = sizeOf(out.shape);
    const params = {
      size,
      shape: padLeft(out.shape, 1),
      strides: padLeft(permutedStrides(x.shape, axes), 0),
      scale: 1,
    };
    gpu.dispatch(
      { name: 'permute', shader: broadcastShader, constants: { HIGH_DIMS: out.shape.length > 4 } },
      { x, out, params },
      elementwiseGrid(size),
      {
        axes: axes.join(','),
      },
    );
  },
  vjp: (g, _x, { axes }) => {
    const inverse = new Array<number>(axes.length);
    axes.forEach((a, d) => (inverse[a] = d));
    return [permuteChecked(g, inverse)];
  },
});

/**
 * A permute that keeps the innermost axis in place, as a copy of vec4s: the same permute of x seen as vec4s, its
 * innermost length divided by 4.
 */
function permuteByVec4(gpu: Dispatcher, x: GpuOperand, out: GpuOperand, axes: readonly number[]): void {
  const inVec4 = [...x.shape];
  inVec4[inVec4.length - 1] /= 4;
  const shape = axes.map((a) => inVec4[a]);
  const strides = permutedStrides(inVec4, axes);
  const size = sizeOf(shape);
  gpu.dispatch(
    { name: 'permute_vec4', shader: permuteVec4Shader, constants: { HIGH_DIMS: shape.length > 4 } },
    { x, out, params: { size, shape: padLeft(shape, 1), strides: padLeft(strides, 0) } },
    elementwiseGrid(size),
    { axes: axes.join(',') },
  );
}

/** Checks that `axes` is a permutation of x's axes (negative ones count from the end) and returns it normalised. */
function checkPermutation(op: string, x: Tensor, axes: unknown): number[] {
  const rank = x.rank;
  if (!Array.isArray(axes) || axes.length !== rank) {
    throw new Error(
      `${op}: axes ${describeAxes(axes)} must list each of the ${rank} axes of ${formatShape(x.shape)} once`,
    );
  }
  const seen = new Set<number>();
  return axes.map((a: unknown) => {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(
        `${op}: axis ${String(a)} in ${describeAxes(axes)} is out of range for shape ${formatShape(x.shape)}`,
      );
    }
    const axis = a < 0 ? a + rank : a;
    if (seen.has(axis))
      throw new Error(
        `${op}: axes ${describeAxes(axes)} are not a permutation of the axes of ${formatShape(x.shape)}: axis ${axis} repeats`,
      );
    seen.add(axis);
    return axis;
  });
}

function describeAxes(axes: unknown): string {
  return Array.isArray(axes) ? `[${axes.map(String).join(',')}]` : String(axes);
}

function permuteChecked(x: Tensor, axes: number[]): Tensor {
  // A 2-D swap goes to the tiled transpose kernel, which coalesces both its reads and its writes.
  if (axes.length === 2 && axes[0] === 1) return apply(x.owner, transposeOp, [x], undefined);
  return apply(x.owner, permuteOp, [x], { axes });
}

/** Output axis d is x's axis axes[d]: a materialised copy. */
export function permute(x: Tensor, axes: readonly number[], op = 'permute'): Tensor {
  return permuteChecked(x, checkPermutation(op, x, axes));
}

function transposeLastTwo(x: Tensor): Tensor {
  if (x.rank < 2)
    throw new Error(`transpose: expects at least 2 dimensions to swap the last two, got ${formatShape(x.shape)}`);
  const axes = x.shape.map((_, i) => i);
  axes[x.rank - 2] = x.rank - 1;
  axes[x.rank - 1] = x.rank - 2;
  return permuteChecked(x, axes);
}

/** With no axes, swaps the last two dimensions (the 2-D transpose); with axes, it is `permute`. */
export function transpose(x: Tensor, axes?: readonly number[]): Tensor {
  return axes === undefined ? transposeLastTwo(x) : permute(x, axes, 'transpose');
}
