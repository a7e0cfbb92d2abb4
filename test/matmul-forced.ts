// A product op(A)·op(B) with random inputs, its float64 reference and bound, and its run on the GPU under a forced
// plan: what the kernel-family tests (matmul-kernels, matmul-variants) share.
import type { MatmulPlan, Runtime } from '../src/index.js';
import { absMatmul, dotBound, f32, randomArray, read, rng, stored } from './helpers.js';

export interface MatmulProblem {
  a: Float32Array;
  b: Float32Array;
  aShape: number[];
  bShape: number[];
  options: { transposeA: boolean; transposeB: boolean };
  bound: Float64Array;
  ref: Float64Array;
}

/** A plan as a test name: its variant and every field that is set. */
export function planName(p: MatmulPlan): string {
  const parts: string[] = [p.variant];
  if (p.tileK) parts.push(`k${p.tileK}`);
  if (p.workgroup) parts.push(`wg${p.workgroup.join('x')}`);
  if (p.wide) parts.push('wide');
  if (p.block) parts.push(`block${p.block.join('x')}`);
  if (p.prefetch) parts.push('prefetch');
  if (p.splits > 1) parts.push(`split${p.splits}`);
  if (p.unrolledSum) parts.push('unrolled');
  return parts.join(' ');
}

/** Seeded inputs for [M, N, K] stored per the transposes, with the CPU reference and its K-scaled bound. */
export async function matmulProblem(
  cpu: Runtime,
  [m, n, k]: [number, number, number],
  ta: boolean,
  tb: boolean,
): Promise<MatmulProblem> {
  const random = rng(m * 7919 + n * 104729 + k * 31 + (ta ? 1 : 0) + (tb ? 2 : 0));
  const aShape = stored(m, k, ta);
  const bShape = stored(k, n, tb);
  const a = f32(randomArray(m * k, random));
  const b = f32(randomArray(k * n, random));
  const options = { transposeA: ta, transposeB: tb };
  const ref = await read(cpu.matmul(cpu.tensor(a, aShape), cpu.tensor(b, bShape), options));
  return { a, b, aShape, bShape, options, ref, bound: dotBound(absMatmul(a, aShape, b, bShape, ta, tb), k) };
}

/** The product on `gpu` with every matmul forced to `plan`, and the matmul dispatches it traced. */
export async function runForced(gpu: Runtime, plan: MatmulPlan, p: MatmulProblem) {
  gpu.matmulPlan = plan;
  try {
    const traced = await gpu.trace(() => gpu.matmul(gpu.tensor(p.a, p.aShape), gpu.tensor(p.b, p.bShape), p.options));
    return { out: await read(traced.value), dispatches: traced.dispatches.filter((d) => d.op === 'matmul') };
  } finally {
    gpu.matmulPlan = null;
  }
}
