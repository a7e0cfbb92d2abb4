// The N-D ops' CPU gradients against central finite differences in float64 (eps 1e-6, rtol 1e-6), as
// test/gradcheck.test.ts does for the other ops.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { randomArray, rng } from '../helpers.js';

const EPS = 1e-6;
const RTOL = 1e-6;
const ATOL = 1e-8;

/** L = Σ f(inputs) ⊙ R for a fixed random R: each input's analytic gradient against (L(x+eps) − L(x−eps)) / 2eps. */
async function gradcheck(inputs: number[][], f: (rt: Runtime, xs: Tensor[]) => Tensor, seed = 3) {
  const rt = await createRuntime({ backend: 'cpu' });
  const random = rng(seed);
  const values = inputs.map((shape) =>
    randomArray(
      shape.reduce((a, b) => a * b, 1),
      random,
    ),
  );
  let weights: Float64Array | null = null;
  const lossOf = (vals: Float64Array[], withGrad: boolean) => {
    const xs = vals.map((v, i) => rt.tensor(v, inputs[i], { requiresGrad: withGrad }));
    const y = f(rt, xs);
    weights ??= randomArray(y.size, rng(seed + 99));
    return { xs, loss: rt.sum(rt.mul(y, rt.tensor(weights, y.shape))) };
  };
  const { xs, loss } = lossOf(values, true);
  const grads = await rt.grad(loss, xs);
  for (let input = 0; input < inputs.length; input++) {
    expect(grads[input].shape, `gradient shape of input ${input}`).toEqual(inputs[input]);
    const analytic = await grads[input].dataF64();
    for (let e = 0; e < values[input].length; e++) {
      const shifted = (delta: number) =>
        values.map((v, i) => (i === input ? v.map((x, j) => (j === e ? x + delta : x)) : v));
      const plus = (await lossOf(shifted(EPS), false).loss.dataF64())[0];
      const minus = (await lossOf(shifted(-EPS), false).loss.dataF64())[0];
      const numeric = (plus - minus) / (2 * EPS);
      const tolerance = ATOL + RTOL * Math.max(Math.abs(numeric), Math.abs(analytic[e]), 1);
      expect(
        Math.abs(analytic[e] - numeric),
        `input ${input} element ${e}: analytic ${analytic[e]} vs numeric ${numeric}`,
      ).toBeLessThanOrEqual(tolerance);
    }
  }
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
