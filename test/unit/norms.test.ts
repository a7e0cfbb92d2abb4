// layerNorm, rmsNorm and dropout on the float64 CPU reference: values, the generator's sequence, and errors.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import { maskBits } from '../../src/ops/dropout.js';
import { randomArray, rng } from '../helpers.js';

async function stillWorks(rt: Runtime) {
  const y = rt.matmul(rt.tensor([1, 2], [1, 2]), rt.tensor([3, 4], [2, 1]));
  expect(Array.from(await y.data())).toEqual([11]);
}

describe('layerNorm and rmsNorm, CPU reference', () => {
  it('layerNorm rows have mean β and standard deviation |γ| (up to eps)', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor(randomArray(2 * 3 * 50, rng(4), 990, 1010), [2, 3, 50]);
    const y = await rt.layerNorm(x, null, null, { eps: 0 }).dataF64();
    for (let r = 0; r < 6; r++) {
      const row = y.subarray(r * 50, (r + 1) * 50);
      const mean = row.reduce((a, b) => a + b, 0) / 50;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 50;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(Math.abs(variance - 1)).toBeLessThan(1e-12);
    }
  });

  it('rmsNorm is x/√(mean(x²) + eps)·γ', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const y = await rt.rmsNorm(rt.tensor([3, 4], [1, 2]), rt.tensor([2, -1], [2]), { eps: 0 }).dataF64();
    const rms = Math.sqrt((9 + 16) / 2);
    expect(y[0]).toBeCloseTo((3 / rms) * 2, 14);
    expect(y[1]).toBeCloseTo((4 / rms) * -1, 14);
  });
});

describe('dropout, CPU reference', () => {
  const ones = (rt: Runtime, n: number) => rt.ones([n]);

  it('keeps about 1 − p of the elements, scaled by 1/(1 − p), and a seed fixes the mask', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const a = await rt.dropout(ones(rt, 20000), 0.3, { seed: 11 }).dataF64();
    const b = await rt.dropout(ones(rt, 20000), 0.3, { seed: 11 }).dataF64();
    const c = await rt.dropout(ones(rt, 20000), 0.3, { seed: 12 }).dataF64();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const kept = a.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-15)).toBe(true);
    expect(Math.abs(kept.length / 20000 - 0.7)).toBeLessThan(0.015);
  });

  it('mask bits are uniform enough: each of 16 buckets within 10% of its share', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 32000; i++) buckets[maskBits(5, 0, i) >>> 28]++;
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });

  it('without a seed, calls draw fresh masks that the runtime seed makes reproducible', async () => {
    const masks = async (seed: number) => {
      const rt = await createRuntime({ backend: 'cpu', seed });
      return [await rt.dropout(ones(rt, 256), 0.5).dataF64(), await rt.dropout(ones(rt, 256), 0.5).dataF64()].map((m) =>
        Array.from(m),
      );
    };
    const [first, second] = await masks(42);
    expect(first).not.toEqual(second);
    expect(await masks(42)).toEqual([first, second]);
    const [other] = await masks(43);
    expect(other).not.toEqual(first);
  });

  it('p = 0 and training: false are the identity, with no new tensor', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 2, 3]);
    expect(rt.dropout(x, 0)).toBe(x);
    expect(rt.dropout(x, 0.5, { training: false })).toBe(x);
    expect(x.dropout(0.9, { training: false })).toBe(x);
  });
});

describe('errors', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const cases: [string, () => unknown, RegExp][] = [
    ['dropout p = 1', () => rt.dropout(rt.zeros([2, 3]), 1), /dropout: p must be in \[0, 1\), got 1 for x \[2,3\]/],
    ['dropout p < 0', () => rt.dropout(rt.zeros([2]), -0.1), /dropout: p must be in \[0, 1\), got -0.1/],
    ['dropout p NaN', () => rt.dropout(rt.zeros([2]), NaN), /dropout: p must be in \[0, 1\), got NaN/],
    ['dropout seed', () => rt.dropout(rt.zeros([2]), 0.5, { seed: 1.5 }), /dropout: seed must be an integer/],
    [
      'layerNorm γ shape',
      () => rt.layerNorm(rt.zeros([2, 3]), rt.ones([4])),
      /layerNorm: gamma \[4\] must be \[3\], the last axis of x \[2,3\]/,
    ],
    [
      'layerNorm β shape',
      () => rt.layerNorm(rt.zeros([2, 3]), null, rt.ones([1, 3])),
      /layerNorm: beta \[1,3\] must be \[3\], the last axis of x \[2,3\]/,
    ],
    [
      'layerNorm scalar',
      () => rt.layerNorm(rt.tensor([1], [])),
      /layerNorm: x must have at least one axis, got a scalar \[\]/,
    ],
    [
      'layerNorm eps',
      () => rt.layerNorm(rt.zeros([2, 3]), null, null, { eps: -1 }),
      /layerNorm: eps must be a finite number ≥ 0, got -1/,
    ],
    [
      'rmsNorm γ shape',
      () => rt.rmsNorm(rt.zeros([5, 2]), rt.ones([5])),
      /rmsNorm: gamma \[5\] must be \[2\], the last axis of x \[5,2\]/,
    ],
    [
      'createRuntime seed',
      () => createRuntime({ backend: 'cpu', seed: -1 }),
      /createRuntime: seed must be an integer in \[0, 2³²\), got -1/,
    ],
  ];
  for (const [name, call, message] of cases) {
    it(name, async () => {
      await expect(async () => call()).rejects.toThrow(message);
      await stillWorks(rt);
    });
  }
});
