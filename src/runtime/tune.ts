// rt.tune(): times the matmul candidates on this adapter and remembers the fastest per shape class.
import type { Dispatcher } from '../core/kernel.js';
import type { Context } from '../tensor/tensor.js';
import { matmul } from '../ops/matmul.js';
import { candidatePlans, shapeClass, type MatmulPlan, type MatmulShape } from '../ops/matmul-plan.js';
import { adapterTraits, kernelName, matmulState } from '../ops/matmul-kernels.js';

export interface TuneResult {
  shape: MatmulShape;
  /** The kernel now used for this shape's class. */
  kernel: string;
  plan: MatmulPlan;
  /** Median milliseconds of each candidate, by kernel name and configuration. */
  candidates: { kernel: string; plan: MatmulPlan; ms: number }[];
}

/** The products of training an MLP layer 784→2048 at batch 1024, and their split-K and GEMV cousins. */
const TRAINING_SHAPES: MatmulShape[] = [
  { m: 1024, n: 2048, k: 784, transposeA: false, transposeB: false },
  { m: 1024, n: 784, k: 2048, transposeA: false, transposeB: true },
  { m: 784, n: 2048, k: 1024, transposeA: true, transposeB: false },
  { m: 256, n: 64, k: 16384, transposeA: true, transposeB: false },
];

function describePlan(p: MatmulPlan): string {
  return [
    p.tileK && `k${p.tileK}`,
    p.workgroup && `wg${p.workgroup.join('x')}`,
    p.wide && 'wide',
    p.block && `block${p.block.join('x')}`,
    p.splits > 1 && `split${p.splits}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** Forces each candidate through this runtime's own matmul state, so that no other runtime sees it. */
export async function tuneMatmul(
  rt: Context,
  shapes: MatmulShape[] = TRAINING_SHAPES,
  reps = 5,
): Promise<TuneResult[]> {
  const gpu: Dispatcher | undefined = rt.backend.dispatcher;
  if (!gpu) throw new Error('tune: only the WebGPU backend has kernels to choose between');
  const state = matmulState(gpu);
  const before = state.forced;
  const results: TuneResult[] = [];
  for (const shape of shapes) {
    const { m, n, k, transposeA, transposeB } = shape;
    const a = rt.tensor(new Float32Array(m * k).fill(0.5), transposeA ? [k, m] : [m, k]);
    const b = rt.tensor(new Float32Array(k * n).fill(0.25), transposeB ? [n, k] : [k, n]);
    const candidates: TuneResult['candidates'] = [];
    try {
      for (const plan of candidatePlans(shape, adapterTraits(gpu))) {
        state.forced = plan;
        const ms = await medianMs(rt, () => matmul(a, b, { transposeA, transposeB }).dispose(), reps);
        candidates.push({ kernel: `${kernelName(shape, plan)} ${describePlan(plan)}`.trim(), plan, ms });
      }
    } finally {
      state.forced = before;
      a.dispose();
      b.dispose();
    }
    const best = candidates.reduce((x, y) => (y.ms < x.ms ? y : x));
    state.tuned.set(shapeClass(shape), best.plan);
    results.push({ shape, kernel: best.kernel, plan: best.plan, candidates });
  }
  return results;
}

/** Wall time of `run` from submission to onSubmittedWorkDone, after one warm-up that also compiles the pipeline. */
async function medianMs(rt: Context, run: () => void, reps: number): Promise<number> {
  run();
  await rt.backend.sync();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    run();
    await rt.backend.sync();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}
