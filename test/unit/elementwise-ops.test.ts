// The activations, powers, clamps, maximum/minimum and comparisons on the float64 reference: the values at the edges
// (negative bases, bounds, ties, huge inputs), what autodiff does with comparisons, and the errors bad constants give.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Tensor } from '../../src/index.js';

describe('elementwise ops on the reference', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const values = async (t: Tensor) => Array.from(await t.dataF64());

  it('pow is NumPy power: integer exponents of negative bases keep their sign, other exponents give NaN there', async () => {
    const x = rt.tensor([-2, -0.5, 3, 4], [4]);
    expect(await values(rt.pow(x, 3))).toEqual([-8, -0.125, 27, 64]);
    expect(await values(rt.pow(x, -2))).toEqual([0.25, 4, 1 / 9, 1 / 16]);
    expect(await values(rt.pow(x, 0))).toEqual([1, 1, 1, 1]);
    const roots = await values(rt.pow(x, 0.5));
    expect(roots.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(roots.slice(2)).toEqual([Math.sqrt(3), 2]);
  });

  it('pow’s gradient, integer and fractional exponents, and 0 for the exponent 0', async () => {
    const x = rt.tensor([-2, 0.5, 3], [3], { requiresGrad: true });
    const [d3] = await rt.grad(rt.sum(rt.pow(x, 3)), [x]);
    expect(await values(d3)).toEqual([12, 0.75, 27]);
    const [d0] = await rt.grad(rt.sum(rt.pow(x, 0)), [x]);
    expect(await values(d0)).toEqual([0, 0, 0]);
  });

  it('clamp passes the gradient strictly inside the bounds only; either bound may be infinite', async () => {
    const x = rt.tensor([-1, -0.5, 0, 0.5, 1], [5], { requiresGrad: true });
    const y = rt.clamp(x, -0.5, 0.5);
    expect(await values(y)).toEqual([-0.5, -0.5, 0, 0.5, 0.5]);
    const [dx] = await rt.grad(rt.sum(y), [x]);
    expect(await values(dx)).toEqual([0, 0, 1, 0, 0]);
    expect(await values(rt.clamp(x, 0, Infinity))).toEqual([0, 0, 0, 0.5, 1]);
  });

  it('leakyRelu has slope 0.01 below zero by default', async () => {
    expect(await values(rt.leakyRelu(rt.tensor([-2, 3], [2])))).toEqual([-0.02, 3]);
    expect(await values(rt.tensor([-2, 3], [2]).leakyRelu(0.5))).toEqual([-1, 3]);
  });

  it('abs has gradient 0 at 0', async () => {
    const x = rt.tensor([-2, 0, 3], [3], { requiresGrad: true });
    const [dx] = await rt.grad(rt.sum(rt.abs(x)), [x]);
    expect(await values(dx)).toEqual([-1, 0, 1]);
  });

  it('sigmoid, softplus and silu stay finite and accurate for huge |x|', async () => {
    const x = rt.tensor([-1e4, -50, 50, 1e4], [4]);
    const sigmoid = await values(rt.sigmoid(x));
    expect([sigmoid[0], sigmoid[2], sigmoid[3]]).toEqual([0, 1, 1]);
    expect(sigmoid[1] / Math.exp(-50)).toBeCloseTo(1, 14);
    const softplus = await values(rt.softplus(x));
    expect(softplus[0]).toBe(0);
    expect(softplus[1] / Math.exp(-50)).toBeCloseTo(1, 14);
    expect(softplus.slice(2)).toEqual([50, 1e4]);
    const silu = await values(rt.silu(x));
    expect([silu[0], silu[2], silu[3]]).toEqual([-0, 50, 1e4]);
    expect(silu[1] / (-50 * Math.exp(-50))).toBeCloseTo(1, 14);
  });

  it('gelu is the function the fused linear epilogue applies', async () => {
    const x = rt.tensor([0.5, -1, 2, 0.25, -0.75, 1.5], [2, 3]);
    const w = rt.tensor([1, -2, 0.5, 1, 2, -1], [3, 2]);
    expect(await values(rt.gelu(rt.matmul(x, w)))).toEqual(await values(rt.linear(x, w, null, 'gelu')));
  });

  it('maximum and minimum split the gradient in half on ties', async () => {
    const a = rt.tensor([1, 2, 3], [3], { requiresGrad: true });
    const b = rt.tensor([2, 2, 1], [3], { requiresGrad: true });
    expect(await values(rt.maximum(a, b))).toEqual([2, 2, 3]);
    const [da, db] = await rt.grad(rt.sum(rt.maximum(a, b)), [a, b]);
    expect([await values(da), await values(db)]).toEqual([
      [0, 0.5, 1],
      [1, 0.5, 0],
    ]);
    const [ma, mb] = await rt.grad(rt.sum(rt.minimum(a, b)), [a, b]);
    expect([await values(ma), await values(mb)]).toEqual([
      [1, 0.5, 0],
      [0, 0.5, 1],
    ]);
    expect(await values(rt.minimum(a, 1.5))).toEqual([1, 1.5, 1.5]);
  });

  it('comparisons give 1 or 0 and are constants to autodiff', async () => {
    const x = rt.tensor([-1, 0, 2], [3], { requiresGrad: true });
    const checks: [Tensor, number[]][] = [
      [rt.greater(x, 0), [0, 0, 1]],
      [rt.greaterEqual(x, 0), [0, 1, 1]],
      [rt.less(x, 0), [1, 0, 0]],
      [rt.lessEqual(x, 0), [1, 1, 0]],
      [rt.equal(x, 0), [0, 1, 0]],
      [x.greater(rt.tensor([-2, 0, 3], [3])), [1, 0, 0]],
    ];
    for (const [mask, expected] of checks) {
      expect(mask.requiresGrad).toBe(false);
      expect(await values(mask)).toEqual(expected);
    }
    const [dx] = await rt.grad(rt.sum(rt.mul(x, rt.greater(x, 0))), [x]);
    expect(await values(dx)).toEqual([0, 0, 1]);
  });

  it('every new op is a tensor method too', async () => {
    const x = rt.tensor([0.25, 0.5], [2]);
    const y = x.sigmoid().gelu().silu().softplus().sqrt().rsqrt().abs().sin().cos().pow(2).clamp(0, 1).leakyRelu();
    expect(y.shape).toEqual([2]);
    expect(x.maximum(0.3).minimum(0.4).max().shape).toEqual([]);
  });
});

describe('elementwise errors: named, with the shapes, and the runtime stays usable', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const cases: [string, () => unknown, RegExp][] = [
    [
      'pow with a string exponent',
      () => rt.pow(x, '2' as never),
      /pow: the exponent must be a number, got string \(for a tensor of shape \[2,3\]\)/,
    ],
    [
      'pow with a tensor exponent',
      () => rt.pow(x, rt.tensor([2], [1]) as never),
      /pow: the exponent must be a number, got Tensor/,
    ],
    ['pow with no exponent', () => rt.pow(x, undefined as never), /pow: the exponent must be a number, got undefined/],
    ['pow with a NaN exponent', () => rt.pow(x, NaN), /pow: the exponent must be a number, got NaN/],
    [
      'clamp with crossed bounds',
      () => rt.clamp(x, 2, 1),
      /clamp: min 2 is greater than max 1 \(for a tensor of shape \[2,3\]\)/,
    ],
    [
      'clamp with a missing bound',
      () => rt.clamp(x, 0, undefined as never),
      /clamp: the max must be a number, got undefined/,
    ],
    [
      'leakyRelu with a string slope',
      () => rt.leakyRelu(x, 'a' as never),
      /leakyRelu: the alpha must be a number, got string \(for a tensor of shape \[2,3\]\)/,
    ],
    [
      'maximum of shapes that do not broadcast',
      () => rt.maximum(x, rt.tensor([1, 2], [2])),
      /maximum: shapes \[2,3\] and \[2\] do not broadcast/,
    ],
    [
      'a comparison of shapes that do not broadcast',
      () => rt.less(x, rt.tensor([1, 2], [2])),
      /less: shapes \[2,3\] and \[2\] do not broadcast/,
    ],
  ];
  for (const [label, call, message] of cases) {
    it(label, async () => {
      const before = rt.memory().liveTensors;
      expect(call).toThrow(message);
      expect(rt.memory().liveTensors - before).toBeLessThanOrEqual(1); // only an operand made in the call
      expect(Array.from(await rt.sqrt(rt.tensor([4, 9], [2])).data())).toEqual([2, 3]);
    });
  }
});
