// Every op's CPU gradient against central finite differences, all in float64 (GUIDE §3: eps ≈ 1e-6, rtol ≈ 1e-6).
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../src/index.js';
import { randomArray, rng } from './helpers.js';

const EPS = 1e-6;
const RTOL = 1e-6;
const ATOL = 1e-8;

interface Input {
  shape: number[];
  lo?: number;
  hi?: number;
}

/**
 * Builds L = Σ f(inputs) ⊙ R for a fixed random R, takes its analytic gradient, and compares each input's
 * gradient with (L(x + eps) − L(x − eps)) / 2eps element by element.
 */
async function gradcheck(label: string, inputs: Input[], f: (rt: Runtime, xs: Tensor[]) => Tensor, seed = 1) {
  const rt = await createRuntime({ backend: 'cpu' });
  const random = rng(seed);
  const values = inputs.map((i) => randomArray(i.shape.reduce((a, b) => a * b, 1), random, i.lo ?? -1, i.hi ?? 1));
  let weights: Float64Array | null = null;

  const lossOf = async (vals: Float64Array[], withGrad: boolean) => {
    const xs = vals.map((v, i) => rt.tensor(v, inputs[i].shape, { requiresGrad: withGrad }));
    const y = f(rt, xs);
    weights ??= randomArray(y.size, rng(seed + 99));
    const loss = rt.sum(rt.mul(y, rt.tensor(weights, y.shape)));
    return { xs, loss };
  };

  const { xs, loss } = await lossOf(values, true);
  const grads = await rt.grad(loss, xs);
  for (let input = 0; input < inputs.length; input++) {
    const analytic = await grads[input].dataF64();
    expect(grads[input].shape, `${label}: gradient shape of input ${input}`).toEqual(inputs[input].shape);
    for (let e = 0; e < values[input].length; e++) {
      const shifted = (delta: number) => values.map((v, i) => (i === input ? v.map((x, j) => (j === e ? x + delta : x)) : v));
      const plus = (await (await lossOf(shifted(EPS), false)).loss.dataF64())[0];
      const minus = (await (await lossOf(shifted(-EPS), false)).loss.dataF64())[0];
      const numeric = (plus - minus) / (2 * EPS);
      const tolerance = ATOL + RTOL * Math.max(Math.abs(numeric), Math.abs(analytic[e]), 1);
      expect(Math.abs(analytic[e] - numeric), `${label}: input ${input} element ${e}: analytic ${analytic[e]} vs numeric ${numeric}`).toBeLessThanOrEqual(tolerance);
    }
  }
}

describe('CPU gradients against finite differences (float64)', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`matmul transposeA=${ta} transposeB=${tb}`, () =>
      gradcheck('matmul', [{ shape: ta ? [4, 3] : [3, 4] }, { shape: tb ? [5, 4] : [4, 5] }], (rt, [a, b]) =>
        rt.matmul(a, b, { transposeA: ta, transposeB: tb }),
      ));
  }
  it('matmul with K = 1 and a single row', () => gradcheck('matmul', [{ shape: [1, 1] }, { shape: [1, 3] }], (rt, [a, b]) => rt.matmul(a, b)));
  it('transpose', () => gradcheck('transpose', [{ shape: [3, 5] }], (rt, [x]) => rt.transpose(x)));
  it('add with a row vector broadcast', () => gradcheck('add', [{ shape: [4, 3] }, { shape: [3] }], (rt, [a, b]) => rt.add(a, b)));
  it('add with a column broadcast', () => gradcheck('add', [{ shape: [4, 1] }, { shape: [4, 3] }], (rt, [a, b]) => rt.add(a, b)));
  it('sub', () => gradcheck('sub', [{ shape: [3, 2] }, { shape: [2] }], (rt, [a, b]) => rt.sub(a, b)));
  it('mul with a scalar tensor', () => gradcheck('mul', [{ shape: [3, 2] }, { shape: [] }], (rt, [a, b]) => rt.mul(a, b)));
  it('div', () => gradcheck('div', [{ shape: [3, 4] }, { shape: [4], lo: 0.5, hi: 2 }], (rt, [a, b]) => rt.div(a, b)));
  it('a tensor used twice accumulates', () => gradcheck('x·x + x', [{ shape: [3, 3] }], (rt, [x]) => rt.add(rt.mul(x, x), x)));
  it('relu', () => gradcheck('relu', [{ shape: [4, 5] }], (rt, [x]) => rt.relu(x)));
  it('tanh', () => gradcheck('tanh', [{ shape: [4, 5], lo: -3, hi: 3 }], (rt, [x]) => rt.tanh(x)));
  it('exp', () => gradcheck('exp', [{ shape: [6] }], (rt, [x]) => rt.exp(x)));
  it('log', () => gradcheck('log', [{ shape: [6], lo: 0.2, hi: 3 }], (rt, [x]) => rt.log(x)));
  it('neg, square and scale', () => gradcheck('neg/square/scale', [{ shape: [2, 3] }], (rt, [x]) => rt.scale(rt.square(rt.neg(x)), 1.5)));
  it('sum over everything', () => gradcheck('sum', [{ shape: [3, 4] }], (rt, [x]) => rt.sum(x)));
  it('sum over rows (axis 0)', () => gradcheck('sum0', [{ shape: [3, 4] }], (rt, [x]) => rt.sum(x, 0)));
  it('sum over columns (axis 1)', () => gradcheck('sum1', [{ shape: [3, 4] }], (rt, [x]) => rt.sum(x, 1)));
  it('mean over everything and over an axis', () =>
    gradcheck('mean', [{ shape: [3, 4] }], (rt, [x]) => rt.add(rt.mean(x, 0), rt.mean(x))));
  it('mseLoss', () => gradcheck('mse', [{ shape: [5, 2] }, { shape: [5, 2] }], (rt, [p, t]) => rt.mseLoss(p, t)));
  it('softmaxCrossEntropy with one-hot labels', () =>
    gradcheck('sce', [{ shape: [4, 3], lo: -4, hi: 4 }], (rt, [x]) =>
      rt.softmaxCrossEntropy(x, rt.tensor([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0], [4, 3])),
    ));
  it('softmaxCrossEntropy with class indices', () =>
    gradcheck('sce-idx', [{ shape: [3, 5], lo: -4, hi: 4 }], (rt, [x]) => rt.softmaxCrossEntropy(x, [4, 0, 2])));
  it('a two-layer MLP', () =>
    gradcheck(
      'mlp',
      [{ shape: [5, 3] }, { shape: [3, 4] }, { shape: [4] }, { shape: [4, 2] }],
      (rt, [x, w1, b1, w2]) => rt.matmul(rt.tanh(rt.add(rt.matmul(x, w1), b1)), w2),
    ));
});
