// Every op's CPU gradient against central finite differences, all in float64 (eps ≈ 1e-6, rtol ≈ 1e-6).
import { describe, it } from 'vitest';
import { gradcheck, type Check } from '../gradcheck-helpers.js';
import { BINARY_NAMES, UNARY_NAMES, type BinaryName, type UnaryName } from '../../src/ops/elementwise.js';
import { ACTIVATION_CODES, type ActivationKind } from '../../src/ops/activation.js';

// Keyed by the op tables: an elementwise op without a finite-difference case does not compile.
const UNARY_CHECKS: Record<UnaryName, Check> = {
  relu: { label: 'relu', inputs: [{ shape: [4, 5] }], f: (rt, [x]) => rt.relu(x) },
  tanh: { label: 'tanh', inputs: [{ shape: [4, 5], lo: -3, hi: 3 }], f: (rt, [x]) => rt.tanh(x) },
  exp: { label: 'exp', inputs: [{ shape: [6] }], f: (rt, [x]) => rt.exp(x) },
  log: { label: 'log', inputs: [{ shape: [6], lo: 0.2, hi: 3 }], f: (rt, [x]) => rt.log(x) },
  neg: { label: 'neg', inputs: [{ shape: [2, 3] }], f: (rt, [x]) => rt.neg(x) },
  scale: { label: 'scale', inputs: [{ shape: [2, 3] }], f: (rt, [x]) => rt.scale(x, 1.5) },
  square: { label: 'square', inputs: [{ shape: [2, 3] }], f: (rt, [x]) => rt.square(x) },
  sigmoid: { label: 'sigmoid', inputs: [{ shape: [4, 5], lo: -4, hi: 4 }], f: (rt, [x]) => rt.sigmoid(x) },
  gelu: { label: 'gelu', inputs: [{ shape: [4, 5], lo: -3, hi: 3 }], f: (rt, [x]) => rt.gelu(x) },
  silu: { label: 'silu', inputs: [{ shape: [4, 5], lo: -4, hi: 4 }], f: (rt, [x]) => rt.silu(x) },
  softplus: { label: 'softplus', inputs: [{ shape: [4, 5], lo: -5, hi: 5 }], f: (rt, [x]) => rt.softplus(x) },
  sqrt: { label: 'sqrt', inputs: [{ shape: [6], lo: 0.2, hi: 3 }], f: (rt, [x]) => rt.sqrt(x) },
  rsqrt: { label: 'rsqrt', inputs: [{ shape: [6], lo: 0.2, hi: 3 }], f: (rt, [x]) => rt.rsqrt(x) },
  abs: { label: 'abs', inputs: [{ shape: [2, 5] }], f: (rt, [x]) => rt.abs(x) },
  sin: { label: 'sin', inputs: [{ shape: [2, 5], lo: -3, hi: 3 }], f: (rt, [x]) => rt.sin(x) },
  cos: { label: 'cos', inputs: [{ shape: [2, 5], lo: -3, hi: 3 }], f: (rt, [x]) => rt.cos(x) },
  pow: {
    label: 'pow, odd exponent of negative bases',
    inputs: [{ shape: [2, 5], lo: -2, hi: 2 }],
    f: (rt, [x]) => rt.pow(x, 3),
  },
  clamp: { label: 'clamp', inputs: [{ shape: [4, 5] }], f: (rt, [x]) => rt.clamp(x, -0.5, 0.4) },
  leakyRelu: { label: 'leakyRelu', inputs: [{ shape: [4, 5] }], f: (rt, [x]) => rt.leakyRelu(x, 0.2) },
  clampGradMask: {
    label: 'clampGradMask, through clamp',
    inputs: [{ shape: [4, 5] }],
    f: (rt, [x]) => rt.clamp(x, -0.3, 0.6),
  },
  leakyReluSlope: {
    label: 'leakyReluSlope, through leakyRelu',
    inputs: [{ shape: [4, 5] }],
    f: (rt, [x]) => rt.leakyRelu(x),
  },
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
  tanhGrad: [
    { label: 'tanhGrad, through tanh', inputs: [{ shape: [4, 5], lo: -3, hi: 3 }], f: (rt, [x]) => rt.tanh(x) },
  ],
  geluGrad: [
    {
      label: 'geluGrad, through linear with gelu',
      inputs: [{ shape: [3, 4] }, { shape: [4, 5] }, { shape: [5] }],
      f: (rt, [x, w, b]) => rt.linear(x, w, b, 'gelu'),
    },
  ],
  maximum: [
    {
      label: 'maximum, same shape',
      inputs: [{ shape: [3, 4] }, { shape: [3, 4] }],
      f: (rt, [a, b]) => rt.maximum(a, b),
    },
    {
      label: 'maximum, row vector [n]',
      inputs: [{ shape: [3, 4] }, { shape: [4] }],
      f: (rt, [a, b]) => rt.maximum(a, b),
    },
  ],
  minimum: [
    {
      label: 'minimum, same shape',
      inputs: [{ shape: [3, 4] }, { shape: [3, 4] }],
      f: (rt, [a, b]) => rt.minimum(a, b),
    },
    {
      label: 'minimum, column [m,1]',
      inputs: [{ shape: [3, 1] }, { shape: [3, 4] }],
      f: (rt, [a, b]) => rt.minimum(a, b),
    },
  ],
  // A comparison is a constant of the product: a's gradient is the 0/1 mask, b's is 0, as finite differences agree.
  greater: [comparison('greater')],
  greaterEqual: [comparison('greaterEqual')],
  less: [comparison('less')],
  lessEqual: [comparison('lessEqual')],
  equal: [comparison('equal')],
  sigmoidGrad: [
    {
      label: 'sigmoidGrad, through sigmoid',
      inputs: [{ shape: [4, 5], lo: -4, hi: 4 }],
      f: (rt, [x]) => rt.sigmoid(x),
    },
  ],
  siluGrad: [
    { label: 'siluGrad, through silu', inputs: [{ shape: [4, 5], lo: -4, hi: 4 }], f: (rt, [x]) => rt.silu(x) },
  ],
  absGrad: [{ label: 'absGrad, through abs', inputs: [{ shape: [4, 5] }], f: (rt, [x]) => rt.abs(x) }],
  maximumMask: [
    {
      label: 'maximumMask, through maximum',
      inputs: [{ shape: [4, 5] }, { shape: [5] }],
      f: (rt, [a, b]) => rt.maximum(a, b),
    },
  ],
};

function comparison(op: 'greater' | 'greaterEqual' | 'less' | 'lessEqual' | 'equal'): Check {
  return {
    label: `${op}, as a constant in a · (a ${op} b)`,
    inputs: [{ shape: [3, 4] }, { shape: [4] }],
    f: (rt, [a, b]) => rt.mul(a, rt[op](a, b)),
  };
}

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
  it('matmul with K = 1 and a single row', () =>
    gradcheck('matmul', [{ shape: [1, 1] }, { shape: [1, 3] }], (rt, [a, b]) => rt.matmul(a, b)));
  it('transpose', () => gradcheck('transpose', [{ shape: [3, 5] }], (rt, [x]) => rt.transpose(x)));
  it('a tensor used twice accumulates', () =>
    gradcheck('x·x + x', [{ shape: [3, 3] }], (rt, [x]) => rt.add(rt.mul(x, x), x)));
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
    gradcheck('mlp', [{ shape: [5, 3] }, { shape: [3, 4] }, { shape: [4] }, { shape: [4, 2] }], (rt, [x, w1, b1, w2]) =>
      rt.matmul(rt.tanh(rt.add(rt.matmul(x, w1), b1)), w2),
    ));
});

// ---- normalisation and dropout (src/ops/norm.ts, src/ops/dropout.ts) ----
describe('finite differences: layerNorm, rmsNorm, dropout', () => {
  it('layerNorm with γ and β, 3-D x', () =>
    gradcheck('layerNorm', [{ shape: [2, 3, 5] }, { shape: [5], lo: 0.5, hi: 2 }, { shape: [5] }], (rt, [x, g, b]) =>
      rt.layerNorm(x, g, b),
    ));
  it('layerNorm without γ and β, rows offset from 0', () =>
    gradcheck('layerNorm plain', [{ shape: [4, 6], lo: 2, hi: 5 }], (rt, [x]) =>
      rt.layerNorm(x, null, null, { eps: 1e-3 }),
    ));
  it('layerNorm with β only, a single row', () =>
    gradcheck('layerNorm β', [{ shape: [7] }, { shape: [7] }], (rt, [x, b]) => rt.layerNorm(x, null, b)));
  it('rmsNorm with γ', () =>
    gradcheck('rmsNorm', [{ shape: [3, 4] }, { shape: [4] }], (rt, [x, g]) => rt.rmsNorm(x, g)));
  it('rmsNorm without γ, 3-D x', () =>
    gradcheck('rmsNorm plain', [{ shape: [2, 2, 3] }], (rt, [x]) => rt.rmsNorm(x, null, { eps: 1e-2 })));
  it('dropout with a fixed seed', () =>
    gradcheck('dropout', [{ shape: [4, 9] }], (rt, [x]) => rt.dropout(x, 0.3, { seed: 7 })));
  it('dropout from the runtime generator, under layerNorm', () =>
    gradcheck('dropout then layerNorm', [{ shape: [3, 8] }, { shape: [8] }], (rt, [x, g]) =>
      rt.layerNorm(rt.dropout(x, 0.25, { seed: 3 }), g),
    ));
});
