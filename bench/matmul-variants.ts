// The matmul variants of issue 12 side by side with today's kernels (`--variants`), and `rt.tune()` on the issue's
// shapes (the `tune` group). Runs in Node and in a page.
import { createRuntime, type MatmulPlan, type MatmulShape } from '../src/index.js';
import type { BenchContext, BenchRow } from './types.js';

export function describePlan(p: MatmulPlan): string {
  return [
    p.tileK && `k${p.tileK}`,
    p.workgroup && `wg${p.workgroup.join('x')}`,
    p.wide && 'wide',
    p.prefetch && 'prefetch',
    p.splits > 1 && `split${p.splits}`,
    p.unrolledSum && 'unrolled-sum',
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * The plans timed beside the automatic choice for a case: for a GEMV the sweep, its K-split and (lines contiguous,
 * subgroups) both subgroup kernels; otherwise today's tiles and the warp-tiled ones, with the chosen split count.
 */
export function variantPlans(c: MatmulShape, chosen: MatmulPlan, subgroups: boolean): MatmulPlan[] {
  if (c.m === 1 || c.n === 1) {
    const lines = c.m === 1 ? c.n : c.m;
    const splits = Math.max(2, Math.min(Math.ceil(264 / Math.ceil(lines / 64)), Math.floor(c.k / 256), 64));
    const plans: MatmulPlan[] = [
      { variant: 'gemv', splits: 1 },
      { variant: 'gemv', splits, unrolledSum: true },
    ];
    const rowDot = c.m === 1 ? c.transposeB : !c.transposeA;
    if (subgroups && rowDot)
      plans.push({ variant: 'gemv_subgroup', splits: 1 }, { variant: 'gemv_subgroup_line', splits: 1 });
    return plans;
  }
  const splits = chosen.splits;
  const split = splits > 1 ? { splits, unrolledSum: true } : { splits: 1 };
  return [
    { variant: 'tile128', tileK: 16, splits },
    { variant: 'tile128', tileK: 8, splits },
    { variant: 'tile64', tileK: 16, splits },
    { variant: 'warp128', tileK: 16, prefetch: true, ...split },
    { variant: 'warp128', tileK: 16, prefetch: false, ...split },
    { variant: 'warp128', tileK: 8, prefetch: true, ...split },
    { variant: 'warp64', tileK: 16, prefetch: true, ...split },
  ];
}

const shape = (m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): MatmulShape => ({
  m,
  n,
  k,
  transposeA,
  transposeB,
});

/** The shapes: 4096³ in every transpose, the MLP layer's three products, split-K, both GEMV layouts. */
function tuneShapes(small: boolean): MatmulShape[] {
  const s = small ? 128 : 4096;
  const [batch, hidden, rows, wide, narrow, d] = small
    ? [64, 128, 2048, 64, 16, 512]
    : [1024, 2048, 16384, 256, 64, 4096];
  return [
    shape(s, s, s, false, false),
    shape(s, s, s, true, false),
    shape(s, s, s, false, true),
    shape(s, s, s, true, true),
    shape(batch, hidden, 784, false, false),
    shape(batch, 784, hidden, false, true),
    shape(784, hidden, batch, true, false),
    shape(wide, narrow, rows, true, false),
    shape(1, d, d, false, false),
    shape(1, d, d, false, true),
  ];
}

/** rt.tune() on the shapes: every candidate's time, and the winner, one row per shape. */
export async function tuneCases(ctx: BenchContext): Promise<BenchRow[]> {
  const rt = await createRuntime({ backend: 'webgpu', gpu: ctx.gpu });
  const adapter = rt.info.backend === 'webgpu' ? `${rt.info.adapter.vendor} ${rt.info.adapter.architecture}` : 'cpu';
  const rows: BenchRow[] = [];
  try {
    for (const s of tuneShapes(ctx.small)) {
      // One shape per call, so that the log shows each as it finishes.
      const [result] = await rt.tune([s], ctx.reps);
      const name = `tune ${s.m}×${s.n}×${s.k} ${s.transposeA ? 't' : 'n'}${s.transposeB ? 't' : 'n'}`;
      const best = result.candidates.reduce((x, y) => (y.ms < x.ms ? y : x));
      for (const c of [...result.candidates].sort((x, y) => x.ms - y.ms))
        ctx.log(`  ${name}: ${c.kernel} ${c.ms.toFixed(3)} ms`);
      ctx.log(
        `${name}: chose ${result.kernel} (${best.ms.toFixed(3)} ms, wall time, ${result.candidates.length} candidates)`,
      );
      rows.push({
        group: 'tune',
        name,
        adapter,
        kernel: result.kernel,
        ms: best.ms,
        gflops: (2 * s.m * s.n * s.k) / (best.ms * 1e6),
        timing: 'wall',
        extra: Object.fromEntries(result.candidates.map((c) => [c.kernel, Number(c.ms.toFixed(4))])),
      });
    }
  } finally {
    rt.destroy();
  }
  return rows;
}
