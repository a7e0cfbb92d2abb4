// Every op's CPU gradient against central finite differences, all in float64 (GUIDE §3: eps ≈ 1e-6, rtol ≈ 1e-6).
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../src/index.js';
import { randomArray, rng } from './helpers.js';
import { BINARY_NAMES, UNARY_NAMES, type BinaryName, type UnaryName } from '../src/ops/elementwise.js';
import { ACTIVATION_CODES, type ActivationKind } from '../src/ops/activation.js';

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

interface Check {
  label: string;
  inputs: Input[];
  f: (rt: Runtime, xs: Tensor[]) => Tensor;
}

// Keyed by the op tables: an elementwise op without a finite-difference case does not compile.
const UNARY_CHECKS: Record<UnaryName, Check> = {
  relu: { label: 'relu', inputs: [{ shape: [4, 5] }], f: (rt, [x]) => rt.relu(x) },
  tanh: { label: 'tanh', inputs: [{ shape: [4, 5], lo: -3, hi: 3 }], f: (rt, [x]) => rt.tanh(x) },
  exp: { label: 'exp', inputs: [{ shape: [6] }], f: (rt, [x]) => rt.exp(x) },
  log: { label: 'log', inputs: [{ shape: [6], lo: 0.2, hi: 3 }], f: (rt, [x]) => rt.log(x) },
  neg: { label: 'neg', inputs: [{ shape: [2, 3] }], f: (rt, [x]) => rt.neg(x) },
  scale: { label: 'scale', inputs: [{ shape: [2, 3] }], f: (rt, [x]) => rt.scale(x, 1.5) },
  square: { label: 'square', inputs: [{ shape: [2, 3] }], f: (rt, [x]) => rt.square(x) },
};

/** An arithmetic op under each broadcasting pattern; the second operand stays in [lo, hi]. */
function broadcasts(op: 'add' | 'sub' | 'mul' | 'div', lo = -1, hi = 1): Check[] {
  const patterns: [string, number[], number[]][] = [
    ['same shape', [3, 4], [3, 4]],
    ['row vector [n]', [3, 4], [4]],
    ['column [m,1]', [3, 1], [3, 4]],
    ['scalar', [3, 4], []],
    ['scalar first', [], [3, 4]],
    ['both sides, [m,1] with [1,n]', [3, 1], [1, 4]],
  ];
  return patterns.map(([pattern, a, b]) => ({
    label: `${op}, ${pattern}`,
    inputs: [{ shape: a }, { shape: b, lo, hi }],
    f: (rt, [x, y]) => rt[op](x, y),
  }));
}

// The gradient helpers have no gradient of their own; their case is the op whose VJP they are.
const BINARY_CHECKS: Record<BinaryName, Check[]> = {
  add: broadcasts('add'),
  sub: broadcasts('sub'),
  mul: broadcasts('mul'),
  div: broadcasts('div', 0.5, 2),
  reluGrad: [{ label: 'reluGrad, through relu', inputs: [{ shape: [4, 5] }], f: (rt, [x]) => rt.relu(x) }],
  tanhGrad: [{ label: 'tanhGrad, through tanh', inputs: [{ shape: [4, 5], lo: -3, hi: 3 }], f: (rt, [x]) => rt.tanh(x) }],
  geluGrad: [
    {
      label: 'geluGrad, through linear with gelu',
      inputs: [{ shape: [3, 4] }, { shape: [4, 5] }, { shape: [5] }],
      f: (rt, [x, w, b]) => rt.linear(x, w, b, 'gelu'),
    },
  ],
};

describe('CPU gradients against finite differences (float64)', () => {
  for (const op of UNARY_NAMES) {
    const c = UNARY_CHECKS[op];
    it(c.label, () => gradcheck(c.label, c.inputs, c.f));
  }
  for (const op of BINARY_NAMES) {
    for (const c of BINARY_CHECKS[op]) it(c.label, () => gradcheck(c.label, c.inputs, c.f));
  }
  for (const activation of Object.keys(ACTIVATION_CODES) as ActivationKind[]) {
    it(`linear with transposeW (w stored [out, in]), ${activation}`, () =>
      gradcheck('linear wᵀ', [{ shape: [3, 4] }, { shape: [5, 4] }, { shape: [5] }], (rt, [x, w, b]) =>
        rt.linear(x, w, b, activation, { transposeW: true }),
      ));
  }
  it("linear with activation 'none', the identity", () =>
    gradcheck('linear none', [{ shape: [3, 4] }, { shape: [4, 2] }], (rt, [x, w]) => rt.linear(x, w, null, 'none')));
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
  it('a tensor used twice accumulates', () => gradcheck('x·x + x', [{ shape: [3, 3] }], (rt, [x]) => rt.add(rt.mul(x, x), x)));
  it('sum over everything', () => gradcheck('sum', [{ shape: [3, 4] }], (rt, [x]) => rt.sum(x)));
  it('sum over rows (axis 0)', () => gradcheck('sum0', [{ shape: [3, 4] }], (rt, [x]) => rt.sum(x, 0)));
  it('sum over columns (axis 1)', () => gradcheck('sum1', [{ shape: [3, 4] }], (rt, [x]) => rt.sum(x, 1)));
  it('mean over everything and over an axis', () =>
    gradcheck('mean', [{ shape: [3, 4] }], (rt, [x]) => rt.add(rt.mean(x, 0), rt.mean(x))));
  it('mean over columns (axis 1)', () => gradcheck('mean1', [{ shape: [3, 4] }], (rt, [x]) => rt.mean(x, 1)));
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

// ---- normalisation and dropout (src/ops/norm.ts, src/ops/dropout.ts) ----
describe('finite differences: layerNorm, rmsNorm, dropout', () => {
  it('layerNorm with γ and β, 3-D x', () =>
    gradcheck('layerNorm', [{ shape: [2, 3, 5] }, { shape: [5], lo: 0.5, hi: 2 }, { shape: [5] }], (rt, [x, g, b]) => rt.layerNorm(x, g, b)));
  it('layerNorm without γ and β, rows offset from 0', () =>
    gradcheck('layerNorm plain', [{ shape: [4, 6], lo: 2, hi: 5 }], (rt, [x]) => rt.layerNorm(x, null, null, { eps: 1e-3 })));
  it('layerNorm with β only, a single row', () => gradcheck('layerNorm β', [{ shape: [7] }, { shape: [7] }], (rt, [x, b]) => rt.layerNorm(x, null, b)));
  it('rmsNorm with γ', () => gradcheck('rmsNorm', [{ shape: [3, 4] }, { shape: [4] }], (rt, [x, g]) => rt.rmsNorm(x, g)));
  it('rmsNorm without γ, 3-D x', () => gradcheck('rmsNorm plain', [{ shape: [2, 2, 3] }], (rt, [x]) => rt.rmsNorm(x, null, { eps: 1e-2 })));
  it('dropout with a fixed seed', () => gradcheck('dropout', [{ shape: [4, 9] }], (rt, [x]) => rt.dropout(x, 0.3, { seed: 7 })));
  it('dropout from the runtime generator, under layerNorm', () =>
    gradcheck('dropout then layerNorm', [{ shape: [3, 8] }, { shape: [8] }], (rt, [x, g]) => rt.layerNorm(rt.dropout(x, 0.25, { seed: 3 }), g)));
});
