// Every op, forward and backward, on the GPU against the float64 CPU reference, with poisoned outputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, relBound, rng } from '../helpers.js';
import {
  BINARY_NAMES,
  UNARY_NAMES,
  binary,
  unary,
  type BinaryName,
  type UnaryName,
} from '../../src/ops/elementwise.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

interface Case {
  name: string;
  inputs: { shape: number[]; lo?: number; hi?: number }[];
  f: (rt: Runtime, xs: Tensor[]) => Tensor;
  /** The longest sum behind one output or gradient element, for the tolerance. */
  reduction: number;
  /** Elementwise ops whose error does not grow with a sum. */
  ulps?: number;
  /** Gradient helpers have no VJP of their own: only their forward is compared. */
  forwardOnly?: boolean;
}

const SIZES = [1, 3, 17, 33, 65];

// One case per elementwise op, keyed by the op tables: an op without a case here does not compile.
const UNARY_CASES: Record<UnaryName, (m: number, n: number) => Case> = {
  relu: (m, n) => ({ name: `relu [${m},${n}]`, inputs: [{ shape: [m, n] }], f: (rt, [x]) => rt.relu(x), reduction: 1 }),
  tanh: (m, n) => ({
    name: `tanh [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -3, hi: 3 }],
    f: (rt, [x]) => rt.tanh(x),
    reduction: 1,
    ulps: 4096,
  }),
  exp: (m, n) => ({
    name: `exp [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -2, hi: 2 }],
    f: (rt, [x]) => rt.exp(x),
    reduction: 1,
    ulps: 512,
  }),
  log: (m, n) => ({
    name: `log [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: 0.1, hi: 4 }],
    f: (rt, [x]) => rt.log(x),
    reduction: 1,
    ulps: 512,
  }),
  neg: (m, n) => ({ name: `neg [${m},${n}]`, inputs: [{ shape: [m, n] }], f: (rt, [x]) => rt.neg(x), reduction: 1 }),
  scale: (m, n) => ({
    name: `scale [${m},${n}]`,
    inputs: [{ shape: [m, n] }],
    f: (rt, [x]) => rt.scale(x, 0.75),
    reduction: 1,
  }),
  square: (m, n) => ({
    name: `square [${m},${n}]`,
    inputs: [{ shape: [m, n] }],
    f: (rt, [x]) => rt.square(x),
    reduction: 1,
  }),
  sigmoid: (m, n) => ({
    name: `sigmoid [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -6, hi: 6 }],
    f: (rt, [x]) => rt.sigmoid(x),
    reduction: 1,
    ulps: 64,
  }),
  gelu: (m, n) => ({
    name: `gelu [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -3, hi: 3 }],
    f: (rt, [x]) => rt.gelu(x),
    reduction: 1,
    ulps: 4096,
  }),
  silu: (m, n) => ({
    name: `silu [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -6, hi: 6 }],
    f: (rt, [x]) => rt.silu(x),
    reduction: 1,
    ulps: 64,
  }),
  softplus: (m, n) => ({
    name: `softplus [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -6, hi: 6 }],
    f: (rt, [x]) => rt.softplus(x),
    reduction: 1,
    ulps: 512,
  }),
  sqrt: (m, n) => ({
    name: `sqrt [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: 0.1, hi: 4 }],
    f: (rt, [x]) => rt.sqrt(x),
    reduction: 1,
    ulps: 16,
  }),
  rsqrt: (m, n) => ({
    name: `rsqrt [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: 0.1, hi: 4 }],
    f: (rt, [x]) => rt.rsqrt(x),
    reduction: 1,
    ulps: 32,
  }),
  abs: (m, n) => ({ name: `abs [${m},${n}]`, inputs: [{ shape: [m, n] }], f: (rt, [x]) => rt.abs(x), reduction: 1 }),
  sin: (m, n) => ({
    name: `sin [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -3, hi: 3 }],
    f: (rt, [x]) => rt.sin(x),
    reduction: 1,
    ulps: 16,
  }),
  cos: (m, n) => ({
    name: `cos [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -3, hi: 3 }],
    f: (rt, [x]) => rt.cos(x),
    reduction: 1,
    ulps: 16,
  }),
  pow: (m, n) => ({
    name: `pow ³ [${m},${n}]`,
    inputs: [{ shape: [m, n], lo: -2, hi: 2 }],
    f: (rt, [x]) => rt.pow(x, 3),
    reduction: 1,
    ulps: 16,
  }),
  clamp: (m, n) => ({
    name: `clamp [${m},${n}]`,
    inputs: [{ shape: [m, n] }],
    f: (rt, [x]) => rt.clamp(x, -0.5, 0.4),
    reduction: 1,
  }),
  leakyRelu: (m, n) => ({
    name: `leakyRelu [${m},${n}]`,
    inputs: [{ shape: [m, n] }],
    f: (rt, [x]) => rt.leakyRelu(x, 0.1),
    reduction: 1,
  }),
  clampGradMask: (m, n) => ({
    name: `clampGradMask [${m},${n}]`,
    inputs: [{ shape: [m, n] }],
    f: (_rt, [x]) => unary('clampGradMask', x, -0.5, 0.4),
    reduction: 1,
    forwardOnly: true,
  }),
  leakyReluSlope: (m, n) => ({
    name: `leakyReluSlope [${m},${n}]`,
    inputs: [{ shape: [m, n] }],
    f: (_rt, [x]) => unary('leakyReluSlope', x, 0.1),
    reduction: 1,
    forwardOnly: true,
  }),
};

const BINARY_CASES: Record<BinaryName, (m: number, n: number) => Case> = {
  add: (m, n) => ({
    name: `add [${m},${n}] + [${n}]`,
    inputs: [{ shape: [m, n] }, { shape: [n] }],
    f: (rt, [a, b]) => rt.add(a, b),
    reduction: m,
  }),
  sub: (m, n) => ({
    name: `sub [${m},1] − [${m},${n}]`,
    inputs: [{ shape: [m, 1] }, { shape: [m, n] }],
    f: (rt, [a, b]) => rt.sub(a, b),
    reduction: n,
  }),
  mul: (m, n) => ({
    name: `mul [${m},${n}] · scalar`,
    inputs: [{ shape: [m, n] }, { shape: [] }],
    f: (rt, [a, b]) => rt.mul(a, b),
    reduction: m * n,
  }),
  div: (m, n) => ({
    name: `div [${m},${n}] / [${n}]`,
    inputs: [{ shape: [m, n] }, { shape: [n], lo: 0.5, hi: 2 }],
    f: (rt, [a, b]) => rt.div(a, b),
    reduction: m,
    ulps: 32,
  }),
  reluGrad: (m, n) => gradHelper('reluGrad', m, n, 1),
  tanhGrad: (m, n) => gradHelper('tanhGrad', m, n, 1),
  geluGrad: (m, n) => gradHelper('geluGrad', m, n, 4096),
  maximum: (m, n) => ({
    name: `maximum [${m},${n}], [${n}]`,
    inputs: [{ shape: [m, n] }, { shape: [n] }],
    f: (rt, [a, b]) => rt.maximum(a, b),
    reduction: m,
  }),
  minimum: (m, n) => ({
    name: `minimum [${m},1], [${m},${n}]`,
    inputs: [{ shape: [m, 1] }, { shape: [m, n] }],
    f: (rt, [a, b]) => rt.minimum(a, b),
    reduction: n,
  }),
  // Against maximum(a, b) or minimum(a, b), so that half the pairs tie and the ≥, ≤ and = paths are exercised.
  greater: (m, n) => comparison('greater', m, n, (rt, a, b) => rt.greater(a, b)),
  greaterEqual: (m, n) => comparison('greaterEqual', m, n, (rt, a, b) => rt.greaterEqual(a, rt.maximum(a, b))),
  less: (m, n) => comparison('less', m, n, (rt, a, b) => rt.less(a, b)),
  lessEqual: (m, n) => comparison('lessEqual', m, n, (rt, a, b) => rt.lessEqual(a, rt.minimum(a, b))),
  equal: (m, n) => comparison('equal', m, n, (rt, a, b) => rt.equal(a, rt.maximum(a, b))),
  sigmoidGrad: (m, n) => gradHelper('sigmoidGrad', m, n, 8),
  siluGrad: (m, n) => gradHelper('siluGrad', m, n, 256),
  absGrad: (m, n) => gradHelper('absGrad', m, n, 1),
  maximumMask: (m, n) => gradHelper('maximumMask', m, n, 1),
};

function comparison(op: BinaryName, m: number, n: number, f: (rt: Runtime, a: Tensor, b: Tensor) => Tensor): Case {
  return {
    name: `${op} [${m},${n}], [${n}]`,
    inputs: [{ shape: [m, n] }, { shape: [n] }],
    f: (rt, [a, b]) => f(rt, a, b),
    reduction: 1,
    ulps: 0,
    forwardOnly: true,
  };
}

function gradHelper(op: BinaryName, m: number, n: number, ulps: number): Case {
  const inputs = [{ shape: [m, n] }, { shape: [m, n], lo: -3, hi: 3 }];
  return {
    name: `${op} [${m},${n}]`,
    inputs,
    f: (_rt, [g, x]) => binary(op, g, x),
    reduction: 1,
    ulps,
    forwardOnly: true,
  };
}

// Ragged pairs, then two whose size is a multiple of 4 (the elementwise ops run four elements per invocation there).
const PAIRS = [...SIZES.map((m, i) => [m, SIZES[(i + 2) % SIZES.length]]), [4, 17], [65, 4]];
const cases: Case[] = [];
for (const [m, n] of PAIRS) {
  cases.push(
    ...BINARY_NAMES.map((op) => BINARY_CASES[op](m, n)),
    ...UNARY_NAMES.map((op) => UNARY_CASES[op](m, n)),
    { name: `sum [${m},${n}]`, inputs: [{ shape: [m, n] }], f: (rt, [x]) => rt.sum(x), reduction: m * n },
    { name: `sum axis 0 [${m},${n}]`, inputs: [{ shape: [m, n] }], f: (rt, [x]) => rt.sum(x, 0), reduction: m },
    { name: `sum axis 1 [${m},${n}]`, inputs: [{ shape: [m, n] }], f: (rt, [x]) => rt.sum(x, 1), reduction: n },
    {
      name: `mean axis 0 and all [${m},${n}]`,
      inputs: [{ shape: [m, n] }],
      f: (rt, [x]) => rt.add(rt.mean(x, 0), rt.mean(x)),
      reduction: m * n,
    },
    { name: `transpose [${m},${n}]`, inputs: [{ shape: [m, n] }], f: (rt, [x]) => rt.transpose(x), reduction: 1 },
    {
      name: `mseLoss [${m},${n}]`,
      inputs: [{ shape: [m, n] }, { shape: [m, n] }],
      f: (rt, [p, t]) => rt.mseLoss(p, t),
      reduction: m * n,
    },
    {
      name: `softmaxCrossEntropy [${m},${n}] one-hot`,
      inputs: [{ shape: [m, n], lo: -6, hi: 6 }],
      f: (rt, [x]) => {
        const labels = new Float32Array(m * n);
        for (let i = 0; i < m; i++) labels[i * n + ((i * 7) % n)] = 1;
        return rt.softmaxCrossEntropy(x, rt.tensor(labels, [m, n]));
      },
      reduction: m * n,
      ulps: 64,
    },
    {
      name: `softmaxCrossEntropy [${m},${n}] class indices`,
      inputs: [{ shape: [m, n], lo: -6, hi: 6 }],
      f: (rt, [x]) =>
        rt.softmaxCrossEntropy(
          x,
          rt.tensor(
            Array.from({ length: m }, (_, i) => (i * 5) % n),
            [m],
          ),
        ),
      reduction: m * n,
      ulps: 64,
    },
  );
}

/** Runs the case on one runtime: the output, and the gradient of Σ output ⊙ R for each input. */
async function run(rt: Runtime, c: Case, seed: number) {
  const random = rng(seed);
  const xs = c.inputs.map((i) =>
    rt.tensor(
      f32(
        randomArray(
          i.shape.reduce((a, b) => a * b, 1),
          random,
          i.lo,
          i.hi,
        ),
      ),
      i.shape,
      { requiresGrad: !c.forwardOnly },
    ),
  );
  const y = c.f(rt, xs);
  const r = rt.tensor(f32(randomArray(y.size, random)), y.shape);
  const grads = c.forwardOnly ? [] : await rt.grad(rt.sum(rt.mul(y, r)), xs);
  return { y: await read(y), grads: await Promise.all(grads.map(read)), shapes: grads.map((g) => g.shape) };
}

/** Error bound: a few ulps per element, growing with the length of the sums behind it; values are O(1). */
function bound(expected: Float64Array, c: Case): Float64Array {
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  return relBound(expected, c.ulps ?? 8, 1e-6 + 8 * c.reduction * 2 ** -24 * scale);
}

describe('ops on the GPU against the reference, forward and backward', () => {
  cases.forEach((c, index) => {
    it(c.name, async () => {
      const g = await run(gpu, c, index + 1);
      const r = await run(cpu, c, index + 1);
      expectClose(g.y, r.y, bound(r.y, c), `${c.name}: forward`);
      g.grads.forEach((grad, i) => {
        expect(g.shapes[i]).toEqual(c.inputs[i].shape);
        expectClose(grad, r.grads[i], bound(r.grads[i], c), `${c.name}: gradient of input ${i}`);
      });
    });
  });

  it('softmax cross-entropy is stable for huge logits', async () => {
    const logits = [1000, -1000, 0, 3e4, 3e4, -3e4];
    const loss = await read(gpu.softmaxCrossEntropy(gpu.tensor(logits, [2, 3]), [0, 1]));
    const ref = await read(cpu.softmaxCrossEntropy(cpu.tensor(logits, [2, 3]), [0, 1]));
    expect(Number.isFinite(loss[0])).toBe(true);
    expectClose(loss, ref, 1e-3);
  });

  it('a large reduction spans many workgroups and stays exact to float32 rounding', async () => {
    const n = 200_000;
    const values = f32(randomArray(n, rng(5)));
    const s = await read(gpu.sum(gpu.tensor(values, [n])));
    const ref = await read(cpu.sum(cpu.tensor(values, [n])));
    expectClose(s, ref, 8 * Math.log2(n) * 2 ** -24 * n);
  });

  it('column sums over many columns (the bias gradient) match, across several workgroups', async () => {
    const [m, n] = [130, 300];
    const values = f32(randomArray(m * n, rng(6)));
    const { value: s, dispatches } = await gpu.trace(async () => read(gpu.sum(gpu.tensor(values, [m, n]), 0)));
    expect(dispatches.map((d) => d.kernel)).toContain('sum_columns');
    const ref = await read(cpu.sum(cpu.tensor(values, [m, n]), 0));
    expectClose(s, ref, 8 * m * 2 ** -24 * m);
  });
});
