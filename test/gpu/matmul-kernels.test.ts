// Every matmul kernel of the family, forced whatever the adapter would choose, against the float64 reference.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import type { MatmulPlan } from '../../src/index.js';
import {
  absMatmul,
  cpuRuntime,
  dotBound,
  expectBitEqual,
  expectClose,
  f32,
  gpuRuntime,
  randomArray,
  read,
  rng,
  TRANSPOSES,
} from '../helpers.js';
import { matmulProblem, planName, runForced } from '../matmul-forced.js';

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

const BLOCKED: MatmulPlan[] = [
  { variant: 'direct', splits: 1, workgroup: [8, 8] },
  { variant: 'direct', splits: 1, workgroup: [4, 4] },
  // 4×8 outputs per invocation: the second column block's reads and stores, ragged in N.
  { variant: 'direct', splits: 1, workgroup: [4, 4], wide: true },
  // The software default below N = 32: a non-square wide block, 16×16.
  { variant: 'direct', splits: 1, workgroup: [2, 4], wide: true },
  // Register tiles: the software defaults (16×8 from M = 128 and above N = 16, 8×8 below M = 128, 8×4 below
  // N = 16), 16×4 and 4×8, on non-square workgroups too.
  { variant: 'register', splits: 1, workgroup: [4, 4], block: [16, 8] },
  { variant: 'register', splits: 1, workgroup: [4, 4], block: [8, 8] },
  { variant: 'register', splits: 1, workgroup: [2, 4], block: [8, 4] },
  { variant: 'register', splits: 1, workgroup: [4, 2], block: [4, 8] },
  { variant: 'register', splits: 1, workgroup: [2, 4], block: [4, 4] },
  { variant: 'tile64', splits: 1, tileK: 16 },
  { variant: 'tile128', splits: 1, tileK: 8 },
  { variant: 'tile128', splits: 1, tileK: 16 },
];

// [M, N, K]: ragged around every block size, K = 1 and K not a multiple of 4, the vec4 flags mixed
// (M % 4 = 0 with K odd, K % 4 = 0 with N odd), and shapes every block of some variant fits exactly.
const SHAPES: [number, number, number][] = [
  [2, 3, 1],
  [33, 65, 17],
  [20, 36, 7],
  [13, 9, 24],
  [128, 128, 32],
  [130, 67, 33],
  // Past one 64-row block of the 16×8 tiles, ragged (M % 16 = 3) and exact.
  [195, 40, 12],
];

// Split-K: K not a multiple of the split or of the k-step; the output a single block or a few.
const SPLIT_SHAPES: [number, number, number][] = [
  [20, 12, 150],
  [33, 17, 301],
  [64, 64, 256],
];

// GEMV: one output row or column, aligned and ragged.
const GEMV_SHAPES: [number, number, number][] = [
  [1, 67, 33],
  [1, 64, 128],
  [1, 5, 1],
  [70, 1, 65],
  [64, 1, 64],
];

/** op(A)·op(B) on the GPU under `plan` against the reference; returns the matmul dispatches it traced. */
async function check(plan: MatmulPlan, shape: [number, number, number], ta: boolean, tb: boolean) {
  const p = await matmulProblem(cpu, shape, ta, tb);
  const { out, dispatches } = await runForced(gpu, plan, p);
  expectClose(out, p.ref, p.bound, `${planName(plan)} ${shape.join('x')} ta=${ta} tb=${tb}`);
  return dispatches;
}

describe('each blocked kernel, every transpose, against the reference', () => {
  for (const plan of BLOCKED) {
    for (const [ta, tb] of TRANSPOSES) {
      it(`${planName(plan)} ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`, async () => {
        for (const shape of SHAPES) {
          const [d] = await check(plan, shape, ta, tb);
          expect(d.kernel).toBe(`matmul_${plan.variant}_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`);
        }
      });
    }
  }
});

// 16-row register blocks off the path above: the [16, 1] workgroup, the software default where only it tiles M and N
// exactly (M = 16·odd, N = 128·n), with every transpose; and 16×4 blocks (a plan only a user forces), with two. An
// exact shape and a ragged one each.
describe('the register kernel with 16-row blocks on other workgroups', () => {
  const cases: [MatmulPlan, readonly (readonly [boolean, boolean])[]][] = [
    [{ variant: 'register', splits: 1, workgroup: [16, 1], block: [16, 8] }, TRANSPOSES],
    [{ variant: 'register', splits: 1, workgroup: [2, 2], block: [16, 4] }, [TRANSPOSES[0], TRANSPOSES[3]]],
  ];
  for (const [plan, transposes] of cases)
    for (const [ta, tb] of transposes) {
      it(`${planName(plan)} ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`, async () => {
        for (const shape of [
          [48, 128, 20],
          [33, 65, 17],
        ] as [number, number, number][]) {
          const [d] = await check(plan, shape, ta, tb);
          expect(d.kernel).toBe(`matmul_register_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`);
        }
      });
    }
});

// The direct kernel's non-square workgroup, a rt.tune() candidate: a square one cannot show its x and y swapped.
describe('the direct kernel with workgroup [8, 4], every transpose', () => {
  const plan: MatmulPlan = { variant: 'direct', splits: 1, workgroup: [8, 4] };
  for (const [ta, tb] of TRANSPOSES) {
    it(`${planName(plan)} ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`, async () => {
      for (const shape of SHAPES) {
        const [d] = await check(plan, shape, ta, tb);
        expect(d.kernel).toBe(`matmul_direct_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`);
      }
    });
  }
});

describe('split-K: partial sums per K range, then a second pass in a fixed order', () => {
  for (const base of BLOCKED) {
    const plan = { ...base, splits: 3 };
    // The transposed reads are each variant's own code, checked above; SwiftShader compiles tiled kernels slowly,
    // so those get the weight-gradient transposes (Aᵀ·B, and A·Bᵀ for a transposed weight) only.
    const transposes = base.variant === 'direct' || base.variant === 'register' ? TRANSPOSES : TRANSPOSES.slice(1, 3);
    it(`${planName(plan)}, ${transposes.length} transposes`, async () => {
      for (const [ta, tb] of transposes) {
        for (const shape of SPLIT_SHAPES) {
          const dispatches = await check(plan, shape, ta, tb);
          expect(dispatches.map((d) => d.kernel)).toEqual([
            `matmul_${plan.variant}_splitk_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`,
            'matmul_splitk_sum',
          ]);
        }
      }
    });
  }

  it('gives bit-identical results on repeated runs', async () => {
    const [m, n, k] = [24, 20, 999];
    const random = rng(5);
    const aData = f32(randomArray(k * m, random));
    const bData = f32(randomArray(k * n, random));
    const a = gpu.tensor(aData, [k, m]);
    const b = gpu.tensor(bData, [k, n]);
    gpu.matmulPlan = { variant: 'direct', splits: 7, workgroup: [8, 8] };
    const first = await gpu.matmul(a, b, { transposeA: true }).data();
    // Repeats agreeing prove nothing if every run is NaN (unwritten) or equally wrong: the first is checked too.
    const ref = await read(cpu.matmul(cpu.tensor(aData, [k, m]), cpu.tensor(bData, [k, n]), { transposeA: true }));
    expectClose(first, ref, dotBound(absMatmul(aData, [k, m], bData, [k, n], true, false), k), 'split 7, K = 999');
    for (let i = 0; i < 3; i++)
      expectBitEqual(await gpu.matmul(a, b, { transposeA: true }).data(), first, `repeat ${i}`);
  });
});

describe('GEMV for a single output row or column', () => {
  for (const [ta, tb] of TRANSPOSES) {
    it(`${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`, async () => {
      for (const shape of GEMV_SHAPES) {
        const [d] = await check({ variant: 'gemv', splits: 1 }, shape, ta, tb);
        expect(d.kernel).toBe(`matmul_gemv_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`);
      }
    });
  }
});

describe('the kernel choice', () => {
  it('never changes results beyond the float32 tolerance: every variant agrees on one product', async () => {
    const [m, n, k] = [40, 52, 300];
    const random = rng(11);
    const a = f32(randomArray(m * k, random));
    const b = f32(randomArray(n * k, random));
    const ref = await read(cpu.matmul(cpu.tensor(a, [m, k]), cpu.tensor(b, [n, k]), { transposeB: true }));
    const bound = dotBound(absMatmul(a, [m, k], b, [n, k], false, true), k);
    for (const plan of [...BLOCKED, { ...BLOCKED[0], splits: 4 }, { ...BLOCKED[3], splits: 4 }]) {
      gpu.matmulPlan = plan;
      const out = await read(gpu.matmul(gpu.tensor(a, [m, k]), gpu.tensor(b, [n, k]), { transposeB: true }));
      expectClose(out, ref, bound, planName(plan));
    }
  });

  it('rt.tune() times the candidates and its choice still matches the reference', async () => {
    const shape = { m: 48, n: 40, k: 64, transposeA: false, transposeB: true };
    const [result] = await gpu.tune([shape], 1);
    expect(result.candidates.length).toBeGreaterThan(1);
    expect(result.kernel.startsWith('matmul_')).toBe(true);
    const traced = await check(result.plan, [48, 40, 64], false, true);
    const chosen = await gpu.trace(() =>
      gpu.matmul(
        gpu.tensor(new Float32Array(48 * 64).fill(1), [48, 64]),
        gpu.tensor(new Float32Array(40 * 64).fill(1), [40, 64]),
        { transposeB: true },
      ),
    );
    expect(chosen.dispatches.find((d) => d.op === 'matmul')!.kernel).toBe(traced[0].kernel);
    expect(Array.from(await chosen.value.data()).every((v) => v === 64)).toBe(true);
  });
});
