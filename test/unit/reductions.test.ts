// The axis reductions on the float64 reference: gradients against finite differences, what ties and keepDims do,
// and the errors bad axes give.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import { gradcheck, type Check } from '../gradcheck-helpers.js';

const GRADIENTS: Check[] = [
  {
    label: 'sum over a list of axes, keepDims',
    inputs: [{ shape: [2, 3, 4] }],
    f: (rt, [x]) => rt.sum(x, [0, 2], { keepDims: true }),
  },
  {
    label: 'sum over a negative axis of a 4-D tensor',
    inputs: [{ shape: [2, 1, 3, 2] }],
    f: (rt, [x]) => rt.sum(x, -2),
  },
  { label: 'mean over a contiguous run of axes', inputs: [{ shape: [2, 3, 4] }], f: (rt, [x]) => rt.mean(x, [1, 2]) },
  {
    label: 'mean over separate axes of a 4-D tensor, keepDims',
    inputs: [{ shape: [2, 3, 2, 3] }],
    f: (rt, [x]) => rt.mean(x, [0, 3], { keepDims: true }),
  },
  { label: 'max over an axis', inputs: [{ shape: [3, 4] }], f: (rt, [x]) => rt.max(x, 1) },
  { label: 'max over separate axes', inputs: [{ shape: [2, 3, 4] }], f: (rt, [x]) => rt.max(x, [0, 2]) },
  { label: 'max over everything', inputs: [{ shape: [3, 4] }], f: (rt, [x]) => rt.max(x) },
  { label: 'min over axis 0, keepDims', inputs: [{ shape: [3, 4] }], f: (rt, [x]) => rt.min(x, 0, { keepDims: true }) },
  {
    label: 'min over a run of axes of a 4-D tensor',
    inputs: [{ shape: [2, 2, 3, 2] }],
    f: (rt, [x]) => rt.min(x, [1, 2]),
  },
  {
    label: 'logSumExp over the last axis',
    inputs: [{ shape: [3, 5], lo: -4, hi: 4 }],
    f: (rt, [x]) => rt.logSumExp(x, -1),
  },
  {
    label: 'logSumExp over separate axes',
    inputs: [{ shape: [2, 3, 4], lo: -3, hi: 3 }],
    f: (rt, [x]) => rt.logSumExp(x, [0, 2]),
  },
  {
    label: 'logSumExp over everything, keepDims',
    inputs: [{ shape: [3, 4] }],
    f: (rt, [x]) => rt.logSumExp(x, undefined, { keepDims: true }),
  },
  { label: 'variance over an axis', inputs: [{ shape: [3, 5] }], f: (rt, [x]) => rt.variance(x, 1) },
  {
    label: 'variance with correction 1 over separate axes',
    inputs: [{ shape: [2, 3, 4] }],
    f: (rt, [x]) => rt.variance(x, [0, 2], { correction: 1 }),
  },
  { label: 'variance over everything', inputs: [{ shape: [4, 3] }], f: (rt, [x]) => rt.variance(x) },
  // Indices are constants: the product's gradient is the indices themselves.
  { label: 'argmax as a constant', inputs: [{ shape: [3, 4] }], f: (rt, [x]) => rt.mul(rt.max(x, 1), rt.argmax(x, 1)) },
];

describe('reduction gradients against finite differences (float64)', () => {
  for (const c of GRADIENTS) it(c.label, () => gradcheck(c.label, c.inputs, c.f));
});

describe('reductions on the reference', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const values = async (t: { dataF64(): Promise<Float64Array> }) => Array.from(await t.dataF64());

  it('reduce over any axes, with or without the reduced dimensions kept', async () => {
    const x = rt.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    expect(rt.sum(x, [0, 2]).shape).toEqual([3]);
    expect(await values(rt.sum(x, [0, 2]))).toEqual([1 + 2 + 7 + 8, 3 + 4 + 9 + 10, 5 + 6 + 11 + 12]);
    expect(rt.sum(x, [0, 2], { keepDims: true }).shape).toEqual([1, 3, 1]);
    expect(rt.mean(x, -1, { keepDims: true }).shape).toEqual([2, 3, 1]);
    expect(await values(rt.mean(x, -1))).toEqual([1.5, 3.5, 5.5, 7.5, 9.5, 11.5]);
    expect(await values(rt.max(x, [1, 2]))).toEqual([6, 12]);
    expect(await values(rt.min(x, 0))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rt.max(x).shape).toEqual([]);
    expect(rt.max(x, undefined, { keepDims: true }).shape).toEqual([1, 1, 1]);
    expect(await values(rt.argmax(x, 1))).toEqual([2, 2, 2, 2]);
    expect(await values(rt.argmin(x))).toEqual([0]);
    expect(await values(rt.argmax(x))).toEqual([11]);
    expect(rt.argmax(x, 0, { keepDims: true }).shape).toEqual([1, 3, 2]);
    expect(x.sum(1).shape).toEqual([2, 2]);
  });

  it('an empty list of axes reduces nothing', async () => {
    const x = rt.tensor([1, -2, 3], [3]);
    expect(await values(rt.sum(x, []))).toEqual([1, -2, 3]);
    expect(await values(rt.variance(x, []))).toEqual([0, 0, 0]);
  });

  it('ties: max and min send the gradient to the first extreme; argmax and argmin give the first index', async () => {
    const x = rt.tensor([1, 3, 3, 2, 0, 0, 3, 0], [2, 4], { requiresGrad: true });
    expect(await values(rt.argmax(x, 1))).toEqual([1, 2]);
    expect(await values(rt.argmin(x, 1))).toEqual([0, 0]);
    expect(await values(rt.argmax(x))).toEqual([1]);
    const [dmax] = await rt.grad(rt.sum(rt.max(x, 1)), [x]);
    expect(await values(dmax)).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
    const [dmin] = await rt.grad(rt.sum(rt.min(x, 1)), [x]);
    expect(await values(dmin)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    // Over everything, the first in row-major order, even when reduced in two steps (axes 0 and 2 of [2, 2, 2]).
    const [dall] = await rt.grad(rt.max(x), [x]);
    expect(await values(dall)).toEqual([0, 1, 0, 0, 0, 0, 0, 0]);
    const cube = rt.tensor([0, 5, 1, 2, 5, 0, 1, 1], [2, 2, 2], { requiresGrad: true });
    const [dcube] = await rt.grad(rt.sum(rt.max(cube, [0, 2])), [cube]);
    expect(await values(dcube)).toEqual([0, 1, 0, 1, 0, 0, 0, 0]);
  });

  it('argmax and argmin give constants: no tape, no gradient', async () => {
    const x = rt.tensor([1, 3, 2], [3], { requiresGrad: true });
    expect(rt.argmax(x).requiresGrad).toBe(false);
    expect(rt.argmin(x, 0).requiresGrad).toBe(false);
  });

  it('logSumExp is finite for logits of ±1e4, and −∞ rows give −∞', async () => {
    const y = await values(rt.logSumExp(rt.tensor([1e4, 1e4, -1e4, -1e4 - 1], [2, 2]), 1));
    expect(y[0]).toBeCloseTo(1e4 + Math.log(2), 9);
    expect(y[1]).toBeCloseTo(-1e4 + Math.log(1 + Math.exp(-1)), 9);
    expect(await values(rt.logSumExp(rt.tensor([-Infinity, -Infinity], [2])))).toEqual([-Infinity]);
  });

  it('variance: population by default, sample with correction 1, and exact for rows offset by 1e3', async () => {
    const x = rt.tensor([1, 2, 3, 4], [4]);
    expect(await values(rt.variance(x))).toEqual([1.25]);
    expect((await values(rt.variance(x, 0, { correction: 1 })))[0]).toBeCloseTo(5 / 3, 14);
    const offset = rt.tensor([1e3 + 1, 1e3 + 2, 1e3 + 3, 1e3 + 4], [1, 4]);
    expect(await values(rt.variance(offset, 1))).toEqual([1.25]);
  });
});

describe('reduction errors: named, with the shapes, and the runtime stays usable', async () => {
  const rt: Runtime = await createRuntime({ backend: 'cpu' });
  const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const cases: [string, () => unknown, RegExp][] = [
    ['axis out of range', () => rt.max(x, 2), /max: axis 2 is out of range for shape \[2,3\]/],
    ['negative axis out of range', () => rt.logSumExp(x, -3), /logSumExp: axis -3 is out of range for shape \[2,3\]/],
    ['axis out of range in a list', () => rt.sum(x, [0, 5]), /sum: axis 5 is out of range for shape \[2,3\]/],
    ['an axis twice', () => rt.mean(x, [1, -1]), /mean: axis 1 is given twice in \[1,-1\] for shape \[2,3\]/],
    ['a fractional axis', () => rt.min(x, 0.5), /min: axis 0.5 is out of range for shape \[2,3\]/],
    [
      'an axis of the wrong type',
      () => rt.sum(x, '1' as never),
      /sum: axis must be a number or an array of numbers, got string for shape \[2,3\]/,
    ],
    [
      'argmax over a list',
      () => rt.argmax(x, [0, 1] as never),
      /argmax: axis must be a single number .* got an array for shape \[2,3\]/,
    ],
    ['argmin axis out of range', () => rt.argmin(x, 3), /argmin: axis 3 is out of range for shape \[2,3\]/],
    [
      'variance with a negative correction',
      () => rt.variance(x, 1, { correction: -1 }),
      /variance: correction must be a number ≥ 0, got -1 \(for shape \[2,3\]\)/,
    ],
    [
      'variance with no degrees of freedom',
      () => rt.variance(x, 0, { correction: 2 }),
      /variance: correction 2 leaves no degrees of freedom for 2 element\(s\) per output of \[2,3\]/,
    ],
  ];
  for (const [label, call, message] of cases) {
    it(label, async () => {
      const before = rt.memory().liveTensors;
      expect(call).toThrow(message);
      expect(rt.memory().liveTensors).toBe(before);
      expect(Array.from(await rt.sum(x, 1).data())).toEqual([6, 15]);
    });
  }
});
