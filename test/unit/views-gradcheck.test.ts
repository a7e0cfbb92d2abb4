// The N-D ops' CPU gradients against central finite differences in float64 (eps 1e-6, rtol 1e-6), as
// test/gradcheck.test.ts does for the other ops.
import { describe, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { gradcheck as sharedGradcheck } from '../gradcheck-helpers.js';

/** The shared finite-difference check (test/gradcheck-helpers.ts), on inputs given by their shapes. */
function gradcheck(inputs: number[][], f: (rt: Runtime, xs: Tensor[]) => Tensor, seed = 3) {
  return sharedGradcheck(
    '',
    inputs.map((shape) => ({ shape })),
    f,
    seed,
  );
}

/** A condition with zeros and non-zeros (of both signs), fixed: it gets no gradient. */
function condition(rt: Runtime, shape: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return rt.tensor(
    Array.from({ length: size }, (_, i) => [0, 1, -2][i % 3]),
    shape,
  );
}

describe('N-D op gradients against finite differences (float64)', () => {
  it('reshape with -1', () =>
    gradcheck([[2, 3, 2]], (rt, [x]) => rt.mul(rt.reshape(x, [3, -1]), rt.tensor([1, 2, 3, 4], [4]))));
  it('flatten of middle axes', () => gradcheck([[2, 3, 2]], (rt, [x]) => rt.exp(rt.flatten(x, 1))));
  it('expandDims then a broadcast product', () =>
    gradcheck(
      [
        [3, 2],
        [4, 1, 1],
      ],
      (rt, [x, y]) => rt.mul(rt.expandDims(x, 0), y),
    ));
  it('squeeze of given axes and of all', () =>
    gradcheck([[1, 3, 1, 2]], (rt, [x]) => rt.add(rt.squeeze(x, [0, -2]), rt.squeeze(rt.square(x)))));
  it('permute of a rank-4 tensor', () => gradcheck([[2, 3, 1, 2]], (rt, [x]) => rt.tanh(rt.permute(x, [3, 0, 2, 1]))));
  it('transpose of a rank-3 tensor (the last two axes)', () =>
    gradcheck([[2, 3, 4]], (rt, [x]) => rt.square(rt.transpose(x))));
  it('transpose of a rank-2 tensor with axes [1, 0]', () =>
    gradcheck([[3, 4]], (rt, [x]) => rt.square(rt.transpose(x, [1, 0]))));
  it('broadcastTo of a column into rank 3', () =>
    gradcheck([[3, 1]], (rt, [x]) => rt.square(rt.broadcastTo(x, [2, 3, 4]))));
  it('where, a and b broadcast', () =>
    gradcheck([[2, 3], [3]], (rt, [a, b]) => rt.square(rt.where(condition(rt, [4, 2, 1]), a, b))));
  it('where with a number for b', () =>
    gradcheck([[2, 3]], (rt, [a]) => rt.exp(rt.where(condition(rt, [2, 3]), a, 0.5))));
  it('a rank-8 broadcast product', () =>
    gradcheck(
      [
        [2, 1, 2, 1, 1, 2, 1, 1],
        [1, 2, 1, 1, 2, 1],
      ],
      (rt, [a, b]) => rt.mul(a, b),
    ));
});
