// The kernel choice and rt.tune()'s candidates (issue 12): the new variants are candidates only, never a default,
// and a candidate never declares more workgroup memory than the device has.
import { describe, expect, it } from 'vitest';
import {
  candidatePlans,
  chooseMatmulPlan,
  workgroupBytes,
  type AdapterTraits,
  type MatmulShape,
} from '../../src/ops/matmul-plan.js';

const shape = (m: number, n: number, k: number, transposeA = false, transposeB = false): MatmulShape => ({
  m,
  n,
  k,
  transposeA,
  transposeB,
});

const H200: AdapterTraits = { software: false, subgroups: true, workgroupStorage: 49152 };
const SWIFTSHADER: AdapterTraits = { software: true, subgroups: true, workgroupStorage: 32768 };
const SHAPES = [
  shape(4096, 4096, 4096),
  shape(4096, 4096, 4096, true, true),
  shape(1024, 784, 2048, false, true),
  shape(256, 64, 16384, true, false),
  shape(1, 4096, 4096),
  shape(1, 4096, 4096, false, true),
  shape(70, 1, 300),
  shape(33, 65, 17),
];

describe('matmul plans', () => {
  it('no default is a variant of issue 12: the same choice as before on a GPU and on SwiftShader', () => {
    for (const s of SHAPES) {
      for (const adapter of [H200, SWIFTSHADER]) {
        const plan = chooseMatmulPlan(s, adapter);
        expect(['warp128', 'warp64', 'gemv_subgroup_line']).not.toContain(plan.variant);
        expect(plan.prefetch).toBeUndefined();
        expect(plan.unrolledSum).toBeUndefined();
        if (plan.variant === 'gemv') expect(plan.splits).toBe(1);
      }
    }
  });

  it('software adapters: 16×8 register blocks from M = 128 above N = 16, 8×8 below M = 128, 8×4 up to N = 16', () => {
    const block = (m: number, n: number, k: number, ta = false) =>
      chooseMatmulPlan(shape(m, n, k, ta), SWIFTSHADER).block;
    expect(block(128, 256, 784)).toEqual([16, 8]); // the MLP's first layer, batch 128
    expect(block(784, 256, 128, true)).toEqual([16, 8]); // its weight gradient
    expect(block(512, 64, 256)).toEqual([16, 8]); // the transformer's projections, B·T = 512
    expect(block(127, 256, 64)).toEqual([8, 8]);
    expect(block(32, 32, 16)).toEqual([8, 8]); // attention scores, one head
    expect(block(512, 16, 64)).toEqual([8, 4]);
    expect(block(4, 64, 64)).toEqual([4, 8]);
    expect(candidatePlans(shape(128, 256, 784), SWIFTSHADER).map((p) => p.block)).toContainEqual([16, 8]);
    // The workgroup that tiles M and N exactly where [4, 4] does not: M = 784 = 49·16 with 128 columns a row.
    const workgroup = (m: number, n: number) => chooseMatmulPlan(shape(m, n, 128), SWIFTSHADER).workgroup;
    expect(workgroup(784, 256)).toEqual([16, 1]);
    expect(workgroup(800, 256)).toEqual([8, 2]);
    expect(workgroup(512, 256)).toEqual([4, 4]);
    expect(workgroup(785, 256)).toEqual([4, 4]);
  });

  it('rt.tune() gets every warp-tiled variant, and split candidates with the unrolled sum', () => {
    const plans = candidatePlans(shape(1024, 784, 2048, false, true), H200);
    const warps = plans.filter((p) => p.variant.startsWith('warp'));
    expect(warps.map((p) => `${p.variant} k${p.tileK} ${p.prefetch}`).sort()).toEqual([
      'warp128 k16 false',
      'warp128 k16 true',
      'warp128 k8 true',
      'warp64 k16 true',
    ]);
    const split = candidatePlans(shape(256, 64, 16384, true, false), H200).filter((p) => p.splits > 1);
    expect(split.some((p) => p.variant === 'warp64' && p.unrolledSum)).toBe(true);
  });

  it('a candidate fits the workgroup memory: two 128×16 double-buffered slabs need 32 KiB', () => {
    expect(workgroupBytes({ variant: 'warp128', splits: 1, tileK: 16, prefetch: true })).toBe(32768);
    expect(workgroupBytes({ variant: 'tile128', splits: 1, tileK: 16 })).toBe(16384);
    const small = candidatePlans(shape(512, 512, 512), { ...H200, workgroupStorage: 16384 });
    expect(small.some((p) => p.variant === 'warp128' && p.tileK === 16 && p.prefetch)).toBe(false);
    expect(small.every((p) => workgroupBytes(p) <= 16384)).toBe(true);
  });

  it('GEMV candidates: a K-split enough for 132 SMs, and the line-per-subgroup kernel where lines are contiguous', () => {
    const sweep = candidatePlans(shape(1, 4096, 4096), H200);
    const split = sweep.find((p) => p.variant === 'gemv' && p.splits > 1);
    // 64 workgroups of 64 outputs, times the splits, reach 264 (two per SM).
    expect(split && 64 * split.splits).toBeGreaterThanOrEqual(264);
    expect(sweep.map((p) => p.variant)).not.toContain('gemv_subgroup_line');
    const rowDot = candidatePlans(shape(1, 4096, 4096, false, true), H200).map((p) => p.variant);
    expect(rowDot).toContain('gemv_subgroup_line');
    expect(
      candidatePlans(shape(1, 4096, 4096, false, true), { ...H200, subgroups: false }).map((p) => p.variant),
    ).not.toContain('gemv_subgroup_line');
  });
});
