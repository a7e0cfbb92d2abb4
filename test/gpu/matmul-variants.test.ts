// The review-driven variants of the matmul family (issue 12), each forced against the float64 reference, and the
// risks SwiftShader hides: several tiles and K-steps in every direction (run twice, bit-identical), a GEMV past the
// per-dimension workgroup limit, the unrolled split-K sum's fixed order.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MatmulPlan, Runtime } from '../../src/index.js';
import {
  cpuRuntime,
  expectBitEqual,
  expectClose,
  f32,
  gpuRuntime,
  randomArray,
  read,
  relBound,
  rng,
  TRANSPOSES,
} from '../helpers.js';
import { matmulProblem, planName, runForced, type MatmulProblem } from '../matmul-forced.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterEach(() => {
  if (gpu) gpu.matmulPlan = null;
});
afterAll(() => gpu?.destroy());

const WARP: MatmulPlan[] = [
  { variant: 'warp64', splits: 1, tileK: 16, prefetch: true },
  { variant: 'warp128', splits: 1, tileK: 8, prefetch: true },
  { variant: 'warp128', splits: 1, tileK: 16, prefetch: true },
  { variant: 'warp128', splits: 1, tileK: 16, prefetch: false },
];

const TILED: MatmulPlan[] = [
  { variant: 'tile64', splits: 1, tileK: 16 },
  { variant: 'tile128', splits: 1, tileK: 8 },
  { variant: 'tile128', splits: 1, tileK: 16 },
  ...WARP,
];

// [M, N, K]: ragged around every block, K = 1 and K odd, the vec4 flags mixed, N % 4 == 0 (vec4 stores) and not.
const SHAPES: [number, number, number][] = [
  [2, 3, 1],
  [33, 65, 17],
  [20, 36, 7],
  [13, 9, 24],
  [130, 67, 33],
];

// Several tiles in each direction and several K-steps, for the 64 and the 128 tiles: ragged, and a multiple of
// both tiles and k-steps (no bounds checks compiled in).
const MULTI_TILE: [number, number, number][] = [
  [259, 197, 75],
  [256, 384, 64],
];

const flags = (ta: boolean, tb: boolean) => `${ta ? 't' : 'n'}${tb ? 't' : 'n'}`;
const problem = (shape: [number, number, number], ta: boolean, tb: boolean) => matmulProblem(cpu, shape, ta, tb);
async function run(plan: MatmulPlan, p: MatmulProblem) {
  const { out, dispatches } = await runForced(gpu, plan, p);
  return { out, kernels: dispatches.map((d) => d.kernel) };
}

describe('warp-tiled kernels, every transpose, against the reference', () => {
  for (const plan of WARP) {
    for (const [ta, tb] of TRANSPOSES) {
      it(`${planName(plan)} ${flags(ta, tb)}`, async () => {
        for (const shape of SHAPES) {
          const p = await problem(shape, ta, tb);
          const { out, kernels } = await run(plan, p);
          expectClose(out, p.ref, p.bound, `${planName(plan)} ${shape.join('x')} ${flags(ta, tb)}`);
          expect(kernels).toEqual([`matmul_${plan.variant}_${flags(ta, tb)}`]);
        }
      });
    }
  }

  it('the fused epilogue (bias + GELU) through warp128, N ragged and N % 4 == 0', async () => {
    gpu.matmulPlan = WARP[2];
    for (const [m, n, k] of [
      [70, 45, 33],
      [40, 132, 20],
    ]) {
      const random = rng(m + n + k);
      const [x, w, bias] = [randomArray(m * k, random), randomArray(k * n, random), randomArray(n, random)].map(f32);
      const out = await read(gpu.linear(gpu.tensor(x, [m, k]), gpu.tensor(w, [k, n]), gpu.tensor(bias, [n]), 'gelu'));
      const ref = await read(cpu.linear(cpu.tensor(x, [m, k]), cpu.tensor(w, [k, n]), cpu.tensor(bias, [n]), 'gelu'));
      expectClose(out, ref, relBound(ref, 64, 8 * k * 2 ** -24 * 3), `linear gelu ${m}x${n}x${k}`);
    }
  });
});

describe('several tiles and K-steps in every direction, every tiled kernel and transpose: run twice, bit-identical', () => {
  for (const plan of TILED) {
    it(planName(plan), async () => {
      for (const [ta, tb] of TRANSPOSES) {
        for (const shape of MULTI_TILE) {
          const p = await problem(shape, ta, tb);
          const first = await run(plan, p);
          expectClose(first.out, p.ref, p.bound, `${planName(plan)} ${shape.join('x')} ${flags(ta, tb)}`);
          expect(first.kernels).toEqual([`matmul_${plan.variant}_${flags(ta, tb)}`]);
          expectBitEqual((await run(plan, p)).out, first.out, `${planName(plan)} ${shape.join('x')} rerun`);
        }
      }
    });
  }
});

describe('split-K with the warp kernels and the unrolled second pass', () => {
  for (const base of [WARP[0], WARP[2]]) {
    const plan: MatmulPlan = { ...base, splits: 3, unrolledSum: true };
    it(planName(plan), async () => {
      for (const [ta, tb] of TRANSPOSES.slice(1, 3)) {
        for (const shape of [
          [20, 12, 150],
          [33, 17, 301],
        ] as [number, number, number][]) {
          const p = await problem(shape, ta, tb);
          const { out, kernels } = await run(plan, p);
          expectClose(out, p.ref, p.bound, `${planName(plan)} ${shape.join('x')} ${flags(ta, tb)}`);
          expect(kernels).toEqual([`matmul_${plan.variant}_splitk_${flags(ta, tb)}`, 'matmul_splitk_sum_unrolled']);
        }
      }
    });
  }

  it('the unrolled sum adds the slabs in the same order as the plain one: the same bits, 8 + 3 slabs', async () => {
    const p = await problem([24, 20, 999], true, false);
    const plain = await run({ variant: 'direct', splits: 11, workgroup: [4, 4] }, p);
    const unrolled = await run({ variant: 'direct', splits: 11, workgroup: [4, 4], unrolledSum: true }, p);
    expect(plain.kernels).toEqual(['matmul_direct_splitk_tn', 'matmul_splitk_sum']);
    expect(unrolled.kernels).toEqual(['matmul_direct_splitk_tn', 'matmul_splitk_sum_unrolled']);
    expectClose(unrolled.out, p.ref, p.bound, 'unrolled');
    expectBitEqual(unrolled.out, plain.out, 'unrolled against plain');
  });
});

describe('GEMV', () => {
  it('split along K into ranges summed in order, every transpose', async () => {
    for (const [ta, tb] of TRANSPOSES) {
      for (const shape of [
        [1, 67, 333],
        [1, 64, 256],
        [70, 1, 201],
      ] as [number, number, number][]) {
        const p = await problem(shape, ta, tb);
        const { out, kernels } = await run({ variant: 'gemv', splits: 3, unrolledSum: true }, p);
        expectClose(out, p.ref, p.bound, `gemv split3 ${shape.join('x')} ${flags(ta, tb)}`);
        expect(kernels).toEqual([`matmul_gemv_splitk_${flags(ta, tb)}`, 'matmul_splitk_sum_unrolled']);
      }
    }
  });

  it('past 65535 workgroups in x: 1×3·3×4,200,017 on a 2-D grid, every output checked', async () => {
    const [m, n, k] = [1, 4_200_017, 3];
    const random = rng(77);
    const a = f32(randomArray(m * k, random));
    const b = f32(randomArray(k * n, random));
    gpu.matmulPlan = { variant: 'gemv', splits: 1 };
    const traced = await gpu.trace(() => gpu.matmul(gpu.tensor(a, [m, k]), gpu.tensor(b, [k, n])));
    expect(traced.dispatches.find((d) => d.op === 'matmul')!.kernel).toBe('matmul_gemv_nn');
    const out = await traced.value.data();
    expect(out.length).toBe(n);
    // The reference product, inline: the CPU runtime's would take its float64 copies of 12.6 M elements.
    let worst = -1;
    for (let j = 0; j < n; j++) {
      const ref = a[0] * b[j] + a[1] * b[n + j] + a[2] * b[2 * n + j];
      const bound =
        1e-6 + 4 * 3 * 2 ** -24 * (Math.abs(a[0] * b[j]) + Math.abs(a[1] * b[n + j]) + Math.abs(a[2] * b[2 * n + j]));
      if (!(Math.abs(out[j] - ref) <= bound)) {
        worst = j;
        break;
      }
    }
    expect(worst, `first wrong output (of ${n})`).toBe(-1);
  });
});
