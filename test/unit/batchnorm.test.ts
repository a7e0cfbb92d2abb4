// batchNorm2d on the float64 CPU reference: values against direct per-channel loops, running statistics against
// hand-computed values, finite-difference gradients (gradcheck) in training and eval, and errors.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import { gradcheck } from '../gradcheck-helpers.js';
import { randomArray, rng } from '../helpers.js';

async function stillWorks(rt: Runtime) {
  const y = rt.matmul(rt.tensor([1, 2], [1, 2]), rt.tensor([3, 4], [2, 1]));
  expect(Array.from(await y.data())).toEqual([11]);
}

describe('batchNorm2d, CPU reference', () => {
  it('training normalises each channel over N·H·W with the biased variance, then applies γ and β', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const shape = [2, 3, 2, 3];
    const xs = randomArray(36, rng(3), 990, 1010);
    const gamma = [0.5, -2, 1.5];
    const beta = [1, 0, -3];
    const y = await rt
      .batchNorm2d(rt.tensor(xs, shape), rt.tensor(gamma), rt.tensor(beta), null, null, { eps: 1e-5 })
      .dataF64();
    for (let c = 0; c < 3; c++) {
      const members: number[] = [];
      for (let n = 0; n < 2; n++) for (let s = 0; s < 6; s++) members.push((n * 3 + c) * 6 + s);
      const mean = members.reduce((a, i) => a + xs[i], 0) / 12;
      const variance = members.reduce((a, i) => a + (xs[i] - mean) ** 2, 0) / 12;
      for (const i of members) {
        const expected = ((xs[i] - mean) / Math.sqrt(variance + 1e-5)) * gamma[c] + beta[c];
        expect(Math.abs(y[i] - expected)).toBeLessThan(1e-9);
      }
    }
  });

  it('updates the running statistics in place: (1 − m)·running + m·batch, the variance unbiased', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    // Channel 0 holds 1, 2, 3, 6 (mean 3, biased variance 3.5, unbiased 14/3); channel 1 holds 0, 0, 0, 4.
    const x = rt.tensor([1, 2, 0, 0, 3, 6, 0, 4], [2, 2, 1, 2]);
    const runningMean = rt.tensor([0.5, -1]);
    const runningVar = rt.tensor([2, 1]);
    rt.batchNorm2d(x, null, null, runningMean, runningVar, { momentum: 0.25 });
    const mean = await runningMean.dataF64();
    const variance = await runningVar.dataF64();
    expect(mean[0]).toBeCloseTo(0.75 * 0.5 + 0.25 * 3, 14);
    expect(mean[1]).toBeCloseTo(0.75 * -1 + 0.25 * 1, 14);
    expect(variance[0]).toBeCloseTo(0.75 * 2 + 0.25 * (14 / 3), 14);
    // Channel 1: mean 1, squared deviations 1 + 1 + 1 + 9 = 12, unbiased 4.
    expect(variance[1]).toBeCloseTo(0.75 * 1 + 0.25 * 4, 14);
    // A second step blends again from the updated values; the default momentum is 0.1.
    rt.batchNorm2d(x, null, null, runningMean, runningVar);
    expect((await runningMean.dataF64())[0]).toBeCloseTo(0.9 * (0.75 * 0.5 + 0.25 * 3) + 0.1 * 3, 14);
  });

  it('eval uses the running statistics and leaves them alone', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 2, 3, 4], [1, 2, 1, 2]);
    const runningMean = rt.tensor([1, -1]);
    const runningVar = rt.tensor([4, 0.25]);
    const y = await rt
      .batchNorm2d(x, rt.tensor([2, 1]), rt.tensor([0, 1]), runningMean, runningVar, { training: false, eps: 0 })
      .dataF64();
    expect(Array.from(y)).toEqual([0, 1, 9, 11]);
    expect(Array.from(await runningMean.dataF64())).toEqual([1, -1]);
    expect(Array.from(await runningVar.dataF64())).toEqual([4, 0.25]);
  });

  it('is a tensor method', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const y = await rt.tensor([1, 3], [2, 1, 1, 1]).batchNorm2d(null, null, null, null, { eps: 0 }).dataF64();
    expect(Array.from(y)).toEqual([-1, 1]);
  });
});

describe('batchNorm2d gradients against central differences (gradcheck)', () => {
  const channel = (lo: number, hi: number) => ({ shape: [3], lo, hi });
  it('training: x, γ, β', () =>
    gradcheck('batchNorm2d training', [{ shape: [2, 3, 3, 2] }, channel(0.5, 1.5), channel(-1, 1)], (rt, [x, g, b]) =>
      rt.batchNorm2d(x, g, b, null, null),
    ));
  it('training with running statistics, N = 1, C = 1, offset far from 0', () =>
    gradcheck('batchNorm2d training N = 1', [{ shape: [1, 1, 3, 5], lo: 99, hi: 101 }], (rt, [x]) =>
      rt.batchNorm2d(x, null, null, rt.zeros([1]), rt.ones([1]), { eps: 1e-3 }),
    ));
  it('training: γ without β', () =>
    gradcheck('batchNorm2d γ only', [{ shape: [3, 3, 1, 2] }, channel(-2, 2)], (rt, [x, g]) =>
      rt.batchNorm2d(x, g, null, null, null),
    ));
  it('eval: x, γ, β', () =>
    gradcheck('batchNorm2d eval', [{ shape: [2, 3, 2, 3] }, channel(0.5, 1.5), channel(-1, 1)], (rt, [x, g, b]) =>
      rt.batchNorm2d(x, g, b, rt.tensor([0.1, -0.2, 0.3]), rt.tensor([0.5, 1, 2]), { training: false }),
    ));
});

describe('batchNorm2d errors', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const x = () => rt.ones([2, 3, 2, 2]);
  const cases: [string, () => unknown, RegExp][] = [
    [
      'non-4-D x',
      () => rt.batchNorm2d(rt.ones([2, 3, 4]), null, null, null, null),
      /batchNorm2d: x must be 4-D \[N, C, H, W\], got \[2,3,4\]/,
    ],
    [
      'γ channels',
      () => rt.batchNorm2d(x(), rt.ones([2]), null, null, null),
      /batchNorm2d: gamma \[2\] must be \[3\], the channels of x \[2,3,2,2\]/,
    ],
    [
      'running variance channels',
      () => rt.batchNorm2d(x(), null, null, rt.zeros([3]), rt.ones([4])),
      /batchNorm2d: runningVar \[4\] must be \[3\], the channels of x \[2,3,2,2\]/,
    ],
    [
      'eval without running statistics',
      () => rt.batchNorm2d(x(), null, null, null, null, { training: false }),
      /batchNorm2d: eval mode \(training: false\) needs runningMean and runningVar/,
    ],
    [
      'one value per channel in training',
      () => rt.batchNorm2d(rt.ones([1, 3, 1, 1]), null, null, null, null),
      /batchNorm2d: training needs more than one value per channel, got x \[1,3,1,1\]/,
    ],
    [
      'momentum',
      () => rt.batchNorm2d(x(), null, null, null, null, { momentum: 2 }),
      /batchNorm2d: momentum must be in \[0, 1\], got 2/,
    ],
    [
      'eps',
      () => rt.batchNorm2d(x(), null, null, null, null, { eps: -1 }),
      /batchNorm2d: eps must be a finite number ≥ 0/,
    ],
    [
      'only one running statistic',
      () => rt.batchNorm2d(x(), null, null, rt.zeros([3]), null),
      /batchNorm2d: give both runningMean and runningVar, or neither/,
    ],
  ];
  for (const [name, call, message] of cases) {
    it(name, async () => {
      await expect(async () => call()).rejects.toThrow(message);
      await stillWorks(rt);
    });
  }

  it('a failed call leaves the running statistics untouched', async () => {
    const runningMean = rt.tensor([1, 2, 3]);
    const runningVar = rt.tensor([1, 1, 1]);
    expect(() => rt.batchNorm2d(x(), rt.ones([4]), null, runningMean, runningVar)).toThrow(/gamma \[4\]/);
    expect(Array.from(await runningMean.dataF64())).toEqual([1, 2, 3]);
  });
});
