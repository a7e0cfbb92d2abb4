// The new elementwise ops at their edges on the GPU, against the float64 reference, with poisoned outputs: powers of
// negative bases, huge inputs to sigmoid/softplus/silu, sin and cos far from zero, infinite clamp bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, relBound, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

/** f on both runtimes from the same float32 values: [gpu, reference]. */
async function both(
  values: Float32Array,
  f: (rt: Runtime, x: Tensor) => Tensor,
): Promise<[Float64Array, Float64Array]> {
  const run = async (rt: Runtime) => read(f(rt, rt.tensor(values, [values.length])));
  return [await run(gpu), await run(cpu)];
}

describe('elementwise edges on the GPU against the reference', () => {
  const bases = f32([...randomArray(65, rng(1), -3, 3), -2, -1, -0.5, 0.5, 1, 2]);

  for (const exponent of [3, 2, -1, -2, 7, 0]) {
    it(`pow, integer exponent ${exponent}, negative bases included`, async () => {
      const [g, c] = await both(bases, (rt, x) => rt.pow(x, exponent));
      expectClose(g, c, relBound(c, 4 * Math.abs(exponent) + 4), `pow ${exponent}`);
    });
  }

  for (const exponent of [0.5, 2.5, -1.5]) {
    it(`pow, fractional exponent ${exponent}: NaN exactly for negative bases`, async () => {
      const [g, c] = await both(bases, (rt, x) => rt.pow(x, exponent));
      expect(Array.from(g, Number.isNaN)).toEqual(Array.from(c, Number.isNaN));
      const finite = (v: Float64Array) => v.filter((_, i) => !Number.isNaN(c[i]));
      expectClose(finite(g), finite(c), relBound(finite(c), 64), `pow ${exponent}`);
    });
  }

  it('sigmoid, softplus and silu are finite and accurate for |x| up to 1e4', async () => {
    const x = f32([-1e4, -100, -50, -20, -5, 5, 20, 50, 100, 1e4]);
    for (const op of ['sigmoid', 'softplus', 'silu'] as const) {
      const [g, c] = await both(x, (rt, t) => rt[op](t));
      expect(Array.from(g).every(Number.isFinite), op).toBe(true);
      // Relative accuracy even where the value is tiny (softplus(−50) = e⁻⁵⁰); denormals may flush to zero.
      expectClose(g, c, relBound(c, 512, 1e-37), op);
    }
  });

  it('sin and cos stay within a few ulps far from zero (WGSL only promises 2⁻¹¹ absolute)', async () => {
    const x = f32(randomArray(1000, rng(2), -1000, 1000));
    for (const op of ['sin', 'cos'] as const) {
      const [g, c] = await both(x, (rt, t) => rt[op](t));
      expectClose(g, c, relBound(c, 16, 2e-7), op);
    }
  });

  it('clamp with an infinite bound, and leakyRelu’s default slope', async () => {
    const x = f32(randomArray(65, rng(3), -2, 2));
    const [g1, c1] = await both(x, (rt, t) => rt.clamp(t, -Infinity, 0.5));
    expectClose(g1, c1, 0, 'clamp');
    const [g2, c2] = await both(x, (rt, t) => rt.leakyRelu(t));
    expectClose(g2, c2, relBound(c2, 1), 'leakyRelu');
  });

  it('gelu matches the fused linear epilogue', async () => {
    const x = gpu.tensor(f32(randomArray(17 * 3, rng(4))), [17, 3]);
    const w = gpu.tensor(f32(randomArray(3 * 33, rng(5))), [3, 33]);
    const fused = await read(gpu.linear(x, w, null, 'gelu'));
    const separate = await read(gpu.gelu(gpu.matmul(x, w)));
    expectClose(separate, fused, relBound(fused, 64), 'gelu');
  });

  it('comparisons on the GPU give constants to autodiff', async () => {
    const x = gpu.tensor(f32([-1, 0, 2]), [3], { requiresGrad: true });
    const mask = gpu.greaterEqual(x, 0);
    expect(mask.requiresGrad).toBe(false);
    const [dx] = await gpu.grad(gpu.sum(gpu.mul(x, mask)), [x]);
    expect(Array.from(await dx.data())).toEqual([0, 1, 1]);
  });
});
