// Ops whose output is a view: the same storage under another shape. None of them runs a kernel or copies; each
// gradient is the upstream gradient viewed back in the input's shape.
import { applyView, defineView, Tensor } from '../tensor/tensor.js';
import {
  broadcastShapes,
  checkShape,
  formatShape,
  normalizeAxis,
  sameShape,
  sizeOf,
  type Shape,
} from '../core/shape.js';
import { broadcastTo as broadcastToKernel } from './reduce.js';

interface ViewParams {
  shape: Shape;
}

/** A view op under its public name, so that errors and the tape name the op the user called. */
function viewOp(name: string) {
  return defineView<ViewParams>({
    name,
    shape: (_input, { shape }) => shape,
    vjp: (g, [x]) => [reshape(g, x.shape)],
  });
}

const VIEWS = {
  reshape: viewOp('reshape'),
  flatten: viewOp('flatten'),
  expandDims: viewOp('expandDims'),
  squeeze: viewOp('squeeze'),
};

/** `x` under `shape` (same size; one dimension may be -1, inferred), sharing its storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (!Array.isArray(shape)) throw new Error(`reshape: shape must be an array of dimensions, got ${typeof shape}`);
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1)
    throw new Error(`reshape: at most one dimension may be -1, got ${formatShape(shape)} for ${formatShape(x.shape)}`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  let target = shape;
  if (inferred === 1) {
    if (!(known > 0) || x.size % known !== 0) {
      throw new Error(
        `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`,
      );
    }
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  const dims = checkShape('reshape', target);
  if (sizeOf(dims) !== x.size) {
    throw new Error(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)} (${sizeOf(dims)} elements)`,
    );
  }
  return applyView(VIEWS.reshape, x, { shape: dims });
}

/** Merges axes startAxis..endAxis (inclusive) into one; a scalar becomes [1]. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.rank === 0) return applyView(VIEWS.flatten, x, { shape: [1] });
  const start = normalizeAxis('flatten', startAxis, x.shape);
  const end = normalizeAxis('flatten', endAxis, x.shape);
  if (start > end) {
    throw new Error(
      `flatten: start axis ${startAxis} comes after end axis ${endAxis} for shape ${formatShape(x.shape)}`,
    );
  }
  const shape = [...x.shape.slice(0, start), sizeOf(x.shape.slice(start, end + 1)), ...x.shape.slice(end + 1)];
  return applyView(VIEWS.flatten, x, { shape });
}

/** Inserts an axis of size 1 at `axis` of the result (-1 appends one). */
export function expandDims(x: Tensor, axis: number): Tensor {
  const rank = x.rank + 1;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(
      `expandDims: axis ${axis} is out of range for shape ${formatShape(x.shape)} (from ${-rank} to ${rank - 1})`,
    );
  }
  const at = axis < 0 ? axis + rank : axis;
  const shape = checkShape('expandDims', [...x.shape.slice(0, at), 1, ...x.shape.slice(at)]);
  return applyView(VIEWS.expandDims, x, { shape });
}

/** Removes the given axes, which must have size 1, or every axis of size 1 when none is given. */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  let drop: Set<number>;
  if (axis === undefined) {
    drop = new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  } else {
    const axes = typeof axis === 'number' ? [axis] : axis;
    if (!Array.isArray(axes))
      throw new Error(`squeeze: axis must be a number or an array of numbers, got ${typeof axis}`);
    drop = new Set();
    for (const a of axes) {
      const ax = normalizeAxis('squeeze', a, x.shape);
      if (drop.has(ax)) throw new Error(`squeeze: axis ${a} is given twice for shape ${formatShape(x.shape)}`);
      if (x.shape[ax] !== 1)
        throw new Error(`squeeze: axis ${a} of shape ${formatShape(x.shape)} has size ${x.shape[ax]}, not 1`);
      drop.add(ax);
    }
  }
  return applyView(VIEWS.squeeze, x, { shape: x.shape.filter((_, i) => !drop.has(i)) });
}

/**
 * `x` repeated NumPy-style to `shape`: a materialised copy (a kernel), whose gradient is the sum over the broadcast
 * axes. Broadcasting to its own shape gives a view, so that the result is always a tensor of its own.
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const target = checkShape('broadcastTo', shape);
  const fits = x.rank <= target.length && sameShape(broadcastShapes('broadcastTo', x.shape, target), target);
  if (!fits) throw new Error(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(target)}`);
  if (sameShape(x.shape, target)) return reshape(x, target);
  return broadcastToKernel(x, target);
}
