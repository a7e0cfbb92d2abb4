// maxPool2d and avgPool2d on the float64 CPU reference: hand-computed values, ties, padding, finite-difference
// gradients (gradcheck) for every kernel/stride/padding shape, and errors that leave the runtime usable.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import { gradcheck } from '../gradcheck-helpers.js';

async function stillWorks(rt: Runtime) {
  const y = rt.maxPool2d(rt.tensor([1, 4, 3, 2], [1, 1, 2, 2]), 2);
  expect(Array.from(await y.data())).toEqual([4]);
}

describe('pooling, CPU reference', () => {
  // x [1, 1, 3, 4]: 1..12 row-major, with a few values moved so that windows disagree.
  const values = [1, 9, 3, 4, 5, 6, 12, 8, 2, 10, 11, 7];

  it('maxPool2d 2×2, stride 2 floors the output: [1,1,1,2]', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const y = rt.maxPool2d(rt.tensor(values, [1, 1, 3, 4]), 2);
    expect(y.shape).toEqual([1, 1, 1, 2]);
    expect(Array.from(await y.dataF64())).toEqual([9, 12]);
  });

  it('avgPool2d [2,3], stride 1, padding [1,1] divides by the full window, padding included', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const y = rt.avgPool2d(rt.tensor(values, [1, 1, 3, 4]), [2, 3], { stride: 1, padding: [1, 1] });
    // Ho = 3 + 2 − 2 + 1 = 4, Wo = 4 + 2 − 3 + 1 = 4.
    expect(y.shape).toEqual([1, 1, 4, 4]);
    const out = await y.dataF64();
    // Window (0, 0) covers rows −1..0 and columns −1..1: only x[0][0] + x[0][1] are real.
    expect(out[0]).toBeCloseTo((1 + 9) / 6, 15);
    // Window (1, 1) covers rows 0..1 and columns 0..2.
    expect(out[5]).toBeCloseTo((1 + 9 + 3 + 5 + 6 + 12) / 6, 15);
  });

  it('padding never wins a max window: all-negative input stays negative', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([-3, -1, -4, -2], [1, 1, 2, 2]);
    const y = await rt.maxPool2d(x, 3, { stride: 1, padding: 1 }).dataF64();
    expect(Array.from(y)).toEqual([-1, -1, -1, -1]);
  });

  it('the max gradient goes to the first maximal element of each window, row-major', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    // Each 2×2 window holds ties: window 0 has 5 at (0,1) and (1,0); window 1 has 7 four times.
    const x = rt.tensor([1, 5, 7, 7, 5, 2, 7, 7], [1, 1, 2, 4], { requiresGrad: true });
    const [dx] = await rt.grad(rt.sum(rt.mul(rt.maxPool2d(x, 2), rt.tensor([10, 20], [1, 1, 1, 2]))), [x]);
    expect(Array.from(await dx.dataF64())).toEqual([0, 10, 20, 0, 0, 0, 0, 0]);
  });

  it('overlapping windows each send their gradient to their own maximum', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 3, 2, 0], [1, 1, 1, 4], { requiresGrad: true });
    // [1, 2] windows with stride 1: maxima at 3, 3, 2.
    const [dx] = await rt.grad(rt.sum(rt.maxPool2d(x, [1, 2], { stride: 1 })), [x]);
    expect(Array.from(await dx.dataF64())).toEqual([0, 2, 1, 0]);
  });

  it('tensor methods', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor(values, [1, 1, 3, 4]);
    expect(Array.from(await x.avgPool2d(2).dataF64())).toEqual([(1 + 9 + 5 + 6) / 4, (3 + 4 + 12 + 8) / 4]);
    expect(Array.from(await x.maxPool2d([3, 2], { stride: [1, 2] }).dataF64())).toEqual([10, 12]);
  });
});

describe('pooling gradients against central differences (gradcheck)', () => {
  const configs = [
    { kernel: 2, options: {} },
    { kernel: 3, options: { stride: 2, padding: 1 } },
    { kernel: 2, options: { stride: 1 } },
    {
      kernel: [2, 3] as [number, number],
      options: { stride: [1, 2] as [number, number], padding: [1, 1] as [number, number] },
    },
  ];
  for (const { kernel, options } of configs) {
    const label = `kernel ${JSON.stringify(kernel)}, ${JSON.stringify(options)}`;
    it(`maxPool2d ${label}`, () =>
      gradcheck(`maxPool2d ${label}`, [{ shape: [2, 3, 5, 7] }], (rt, [x]) => rt.maxPool2d(x, kernel, options)));
    it(`avgPool2d ${label}`, () =>
      gradcheck(`avgPool2d ${label}`, [{ shape: [1, 2, 5, 4] }], (rt, [x]) => rt.avgPool2d(x, kernel, options)));
  }
});

describe('pooling errors', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const x = () => rt.zeros([1, 2, 4, 5]);
  const cases: [string, () => unknown, RegExp][] = [
    ['non-4-D x', () => rt.maxPool2d(rt.zeros([2, 4, 5]), 2), /maxPool2d: x must be 4-D \[N, C, H, W\], got \[2,4,5\]/],
    [
      'window larger than the input',
      () => rt.avgPool2d(x(), [5, 2]),
      /avgPool2d: the window 5×2 is larger than the padded input 4×5 \(x \[1,2,4,5\], padding \[0, 0\]\)/,
    ],
    ['zero stride', () => rt.maxPool2d(x(), 2, { stride: 0 }), /maxPool2d: stride must be .* positive integers, got 0/],
    [
      'negative stride',
      () => rt.avgPool2d(x(), 2, { stride: [1, -1] }),
      /avgPool2d: stride must be .* positive integers, got \[1,-1\] for x \[1,2,4,5\]/,
    ],
    [
      'padding more than half the kernel',
      () => rt.maxPool2d(x(), 2, { padding: 2 }),
      /maxPool2d: padding \[2, 2\] must be at most half the window 2×2/,
    ],
    ['fractional kernel', () => rt.maxPool2d(x(), 1.5), /maxPool2d: kernel must be .* positive integers, got 1.5/],
    ['negative padding', () => rt.avgPool2d(x(), 2, { padding: -1 }), /avgPool2d: padding must be .* non-negative/],
  ];
  for (const [name, call, message] of cases) {
    it(name, async () => {
      await expect(async () => call()).rejects.toThrow(message);
      await stillWorks(rt);
    });
  }
});
