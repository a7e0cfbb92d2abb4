// rt.tune(): times the matmul candidates on this adapter and remembers the fastest per shape class.
import type { Runtime } from './runtime.js';
import type { Dispatcher } from '../core/kernel.js';
import { candidatePlans, forceMatmulPlan, shapeClass, type MatmulPlan, type MatmulShape } from '../ops/matmul-plan.js';
import { deviceState, kernelName } from '../ops/matmul-kernels.js';

export interface TuneResult {
  shape: MatmulShape;
  /** The kernel now used for this shape's class. */
  kernel: string;
  plan: MatmulPlan;
  /** Median milliseconds of each candidate, by kernel name and configuration. */
  candidates: { kernel: string; plan: MatmulPlan; ms: number }[];
}

/** The products of training an MLP layer 784→2048 at batch 1024, and their split-K and GEMV cousins. */
export const TRAINING_SHAPES: MatmulShape[] = [
  { m: 1024, n: 2048, k: 784, transposeA: false, transposeB: false },
  { m: 1024, n: 784, k: 2048, transposeA: false, transposeB: true },
  { m: 784, n: 2048, k: 1024, transposeA: true, transposeB: false },
  { m: 256, n: 64, k: 16384, transposeA: true, transposeB: false },
];

function describePlan(p: MatmulPlan): string {
  return [p.tileK && `k${p.tileK}`, p.workgroup && `wg${p.workgroup.join('x')}`, p.splits > 1 && `split${p.splits}`].filter(Boolean).join(' ');
}

export async function tuneMatmul(rt: Runtime, shapes: MatmulShape[] = TRAINING_SHAPES, reps = 5): Promise<TuneResult[]> {
  if (rt.backend.kind !== 'webgpu') throw new Error('tune: only the WebGPU backend has kernels to choose between');
  const gpu = rt.backend as unknown as Dispatcher;
  const state = deviceState(gpu);
  const results: TuneResult[] = [];
  for (const shape of shapes) {
    const { m, n, k, transposeA, transposeB } = shape;
    const a = rt.tensor(new Float32Array(m * k).fill(0.5), transposeA ? [k, m] : [m, k]);
    const b = rt.tensor(new Float32Array(k * n).fill(0.25), transposeB ? [n, k] : [k, n]);
    const candidates: TuneResult['candidates'] = [];
    try {
      for (const plan of candidatePlans(shape, state.traits)) {
        forceMatmulPlan(plan);
        const ms = await medianMs(rt, () => rt.matmul(a, b, { transposeA, transposeB }).dispose(), reps);
        candidates.push({ kernel: `${kernelName(shape, plan)} ${describePlan(plan)}`.trim(), plan, ms });
      }
    } finally {
      forceMatmulPlan(null);
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
async function medianMs(rt: Runtime, run: () => void, reps: number): Promise<number> {
  run();
  await rt.sync();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    run();
    await rt.sync();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}
