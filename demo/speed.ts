import type { Runtime } from '../src/index.js';
import type { BenchContext, BenchRow } from '../bench/types.js';

type MatmulCases = (ctx: BenchContext, sizes?: number[]) => Promise<BenchRow[]>;
// The benchmark's own cases (bench/matmul.ts) when the checkout has them; a glob, so that the page builds without.
const benchModules = import.meta.glob<{ matmulCases?: MatmulCases }>('../bench/matmul.ts');

async function benchmarkCases(): Promise<MatmulCases | null> {
  const load = Object.values(benchModules)[0];
  return load ? ((await load()).matmulCases ?? null) : null;
}

export interface SpeedRow {
  shape: string;
  transpose: string;
  library: 'webgrad' | 'TF.js';
  kernel: string;
  ms: number;
  gflops: number;
}

const TRANSPOSES = [
  ['A·B', false, false],
  ['Aᵀ·B', true, false],
  ['A·Bᵀ', false, true],
  ['Aᵀ·Bᵀ', true, true],
] as const;

/** Software adapters (SwiftShader) get small sizes, so that the page stays responsive. */
export function isSoftwareAdapter(rt: Runtime): boolean {
  const a = rt.info.adapter;
  return rt.info.backend === 'cpu' || /swiftshader|llvmpipe|software|cpu/i.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
}

function random(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
}

/**
 * Square n×n products for every transpose, timed by wall clock around `reps` recorded products and one
 * sync (after a warm-up that compiles the pipelines). TF.js, when given, is timed the same way.
 */
export async function runSpeed(rt: Runtime, tf: TfLike | null, onRow: (row: SpeedRow) => void, log: (line: string) => void): Promise<string> {
  const small = isSoftwareAdapter(rt);
  const cases = rt.info.backend === 'webgpu' ? await benchmarkCases() : null;
  if (cases) {
    // The same cases and timing as `npm run bench`, on a device of their own.
    const rows = await cases({ gpu: navigator.gpu, small, reps: small ? 3 : 20, tf: tf ?? undefined, log }, small ? [64, 128, 256] : undefined);
    for (const r of rows) {
      const square = /^(\d+³) (.*)$/.exec(r.name);
      const [shape, transpose] = square ? [square[1], square[2]] : [r.name, ''];
      onRow({ shape, transpose, library: 'webgrad', kernel: r.kernel, ms: r.ms, gflops: r.gflops ?? 0 });
      if (r.tfjsMs !== undefined) onRow({ shape, transpose, library: 'TF.js', kernel: 'tfjs-webgpu', ms: r.tfjsMs, gflops: r.tfjsGflops ?? 0 });
    }
    return 'the benchmark cases of bench/matmul.ts (median wall time per product)';
  }
  await inPageLoop(rt, tf, onRow, small);
  return 'an in-page loop over rt.matmul (wall time per product)';
}

async function inPageLoop(rt: Runtime, tf: TfLike | null, onRow: (row: SpeedRow) => void, small: boolean): Promise<void> {
  const sizes = rt.info.backend === 'cpu' ? [32, 64, 128] : small ? [64, 128, 256] : [256, 512, 1024, 2048];
  const reps = small ? 3 : 10;
  for (const n of sizes) {
    const a = rt.tensor(random(n * n), [n, n]);
    const b = rt.tensor(random(n * n).reverse(), [n, n]);
    for (const [name, transposeA, transposeB] of TRANSPOSES) {
      const options = { transposeA, transposeB };
      const { dispatches } = await rt.trace(async () => {
        rt.matmul(a, b, options).dispose();
        await rt.sync();
      });
      const started = performance.now();
      for (let r = 0; r < reps; r++) rt.matmul(a, b, options).dispose();
      await rt.sync();
      const ms = (performance.now() - started) / reps;
      const kernel = dispatches.find((d) => d.op === 'matmul')?.kernel ?? 'matmul';
      onRow({ shape: `${n}³`, transpose: name, library: 'webgrad', kernel, ms, gflops: (2 * n ** 3) / (ms * 1e6) });
      if (tf) {
        const ta = tf.tensor2d(random(n * n), [n, n]);
        const tb = tf.tensor2d(random(n * n).reverse(), [n, n]);
        await tf.matMul(ta, tb, transposeA, transposeB).data();
        const t0 = performance.now();
        const outs = [];
        for (let r = 0; r < reps; r++) outs.push(tf.matMul(ta, tb, transposeA, transposeB));
        await outs[outs.length - 1].data();
        const tfMs = (performance.now() - t0) / reps;
        outs.forEach((o) => o.dispose());
        ta.dispose();
        tb.dispose();
        onRow({ shape: `${n}³`, transpose: name, library: 'TF.js', kernel: 'tfjs-webgpu', ms: tfMs, gflops: (2 * n ** 3) / (tfMs * 1e6) });
      }
    }
    a.dispose();
    b.dispose();
  }
}

/** The part of TF.js the comparison uses. */
export interface TfLike {
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA: boolean, transposeB: boolean): TfTensor;
}
interface TfTensor {
  data(): Promise<unknown>;
  dispose(): void;
}

/** TF.js with its WebGPU backend, loaded only when asked for; null when it cannot start. */
export async function loadTfjs(): Promise<TfLike | null> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return null;
    await tf.ready();
    return tf as unknown as TfLike;
  } catch {
    return null;
  }
}
