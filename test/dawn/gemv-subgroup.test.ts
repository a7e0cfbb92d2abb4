// The subgroup GEMV variant, in Node on Dawn, whose SwiftShader adapter offers `subgroups`: forced on every shape
// it serves, with and without the fused epilogue, against the float64 reference; and tuned against gemv.wgsl.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { create } from 'webgpu';
import { createRuntime, type Runtime } from '../../src/index.js';
import { absMatmul, dotBound, expectClose, f32, randomArray, read, relBound, rng } from '../helpers.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let gpu: Runtime;
let cpu: Runtime;

beforeAll(async () => {
  if (!process.env.VK_ICD_FILENAMES) {
    expect(
      existsSync(SWIFTSHADER_ICD),
      `no Vulkan driver for Dawn: install Debian's chromium or set VK_ICD_FILENAMES`,
    ).toBe(true);
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  gpu = await createRuntime({ backend: 'webgpu', gpu: create([]) });
  gpu.debug = { poisonOutputs: true, poisonTails: true };
  cpu = await createRuntime({ backend: 'cpu' });
});
afterEach(() => {
  if (gpu) gpu.matmulPlan = null;
});
afterAll(() => gpu?.destroy());

// [M, N, K, transposeA, transposeB]: one output row with Bᵀ, or one output column with A as stored. K ragged against
// any subgroup width (1, 3, 17, 65, …) so that lanes run past the end of a line, and K % 4 == 0 for the vec4 reads.
const SHAPES: [number, number, number, boolean, boolean][] = [
  [1, 1, 1, false, true],
  [1, 5, 33, false, true],
  [1, 70, 64, false, true],
  [67, 1, 516, false, false],
  [1, 17, 3, false, true],
  [1, 65, 130, true, true],
  [33, 1, 17, false, false],
  [130, 1, 1000, false, true],
  [3, 1, 65, false, false],
];

describe('gemv_subgroup', () => {
  it('runs on an adapter with subgroups', () => {
    expect(gpu.info.features).toContain('subgroups');
  });

  for (const [variant, [m, n, k, ta, tb]] of (['gemv_subgroup', 'gemv_subgroup_line'] as const).flatMap((v) =>
    SHAPES.map((s) => [v, s] as const),
  )) {
    it(`${variant} M=${m} N=${n} K=${k} ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}, plain and with bias + tanh`, async () => {
      const random = rng(m * 31 + n * 7 + k);
      const aShape = ta ? [k, m] : [m, k];
      const bShape = tb ? [n, k] : [k, n];
      const a = f32(randomArray(m * k, random));
      const b = f32(randomArray(k * n, random));
      const bias = f32(randomArray(n, random));
      const options = { transposeA: ta, transposeB: tb };
      gpu.matmulPlan = { variant, splits: 1 };
      const { value: out, dispatches } = await gpu.trace(() =>
        read(gpu.matmul(gpu.tensor(a, aShape), gpu.tensor(b, bShape), options)),
      );
      expect(dispatches.filter((d) => d.op === 'matmul').map((d) => d.kernel)).toEqual([
        `matmul_${variant}_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`,
      ]);
      const ref = await read(cpu.matmul(cpu.tensor(a, aShape), cpu.tensor(b, bShape), options));
      expectClose(out, ref, dotBound(absMatmul(a, aShape, b, bShape, ta, tb), k), 'matmul');

      if (ta) return; // the fused linear takes x as stored
      const fused = await read(
        gpu.linear(gpu.tensor(a, aShape), gpu.tensor(b, bShape), gpu.tensor(bias, [n]), 'tanh', { transposeW: tb }),
      );
      const refFused = await read(
        cpu.linear(cpu.tensor(a, aShape), cpu.tensor(b, bShape), cpu.tensor(bias, [n]), 'tanh', { transposeW: tb }),
      );
      expectClose(fused, refFused, relBound(refFused, 64, 4 * k * 2 ** -24 * 3), 'linear');
    });
  }

  it('is a tuning candidate only where it applies, and later matmuls of the shape use the tuned plan', async () => {
    const results = await gpu.tune([
      { m: 1, n: 256, k: 512, transposeA: false, transposeB: true },
      { m: 1, n: 256, k: 512, transposeA: false, transposeB: false },
    ]);
    const variants = results.map((r) => r.candidates.map((c) => c.plan.variant));
    expect(variants[0]).toContain('gemv_subgroup');
    expect(variants[0]).toContain('gemv_subgroup_line');
    expect(variants[1]).not.toContain('gemv_subgroup');
    expect(variants[1]).not.toContain('gemv_subgroup_line');
    // Which candidate wins is timing; what can be checked is that the winner is the one used afterwards, and correctly.
    for (const [i, transposeB] of [
      [0, true],
      [1, false],
    ] as const) {
      const random = rng(900 + i);
      const a = f32(randomArray(512, random));
      const b = f32(randomArray(256 * 512, random));
      const bShape = transposeB ? [256, 512] : [512, 256];
      const traced = await gpu.trace(() =>
        read(gpu.matmul(gpu.tensor(a, [1, 512]), gpu.tensor(b, bShape), { transposeB })),
      );
      const kernel = traced.dispatches.find((d) => d.op === 'matmul')!.kernel;
      expect(results[i].kernel.split(' ')[0], `shape ${i}`).toBe(kernel);
      const ref = await read(cpu.matmul(cpu.tensor(a, [1, 512]), cpu.tensor(b, bShape), { transposeB }));
      expectClose(
        traced.value,
        ref,
        dotBound(absMatmul(a, [1, 512], b, bShape, false, transposeB), 512),
        `tuned shape ${i}`,
      );
    }
    console.log(
      `SwiftShader, 1×512·(256×512)ᵀ: ${results[0].candidates.map((c) => `${c.kernel} ${c.ms.toFixed(2)} ms`).join('; ')}`,
    );
  });
});
