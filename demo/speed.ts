// The matmul speed view: a handful of products timed in this page, webgrad beside TF.js's WebGPU backend.
// It uses only the library's public API, so that it reads as an example of timing your own kernels.
import type { Runtime } from '../src/index.js';

export interface SpeedRow {
  shape: string;
  transpose: string;
  library: 'webgrad' | 'TF.js';
  kernel: string;
  ms: number;
  gflops: number;
}

interface SpeedCase {
  shape: string;
  transpose: string;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

const TRANSPOSES = [
  ['A·B', false, false],
  ['Aᵀ·B', true, false],
  ['A·Bᵀ', false, true],
  ['Aᵀ·Bᵀ', true, true],
] as const;

/**
 * Squares in every transpose, then the products a training step is made of: an MLP layer's three, a weight
 * gradient with a long reduction (split-K) and a single row (GEMV). A CPU rasteriser gets small sizes, so that
 * the page stays responsive; the CPU reference backend gets the squares only.
 */
function speedCases(rt: Runtime): SpeedCase[] {
  const cpu = rt.info.backend === 'cpu';
  const small = rt.info.software;
  const sizes = cpu ? [32, 64, 128] : small ? [64, 128, 256] : [256, 512, 1024, 2048, 4096];
  const cases: SpeedCase[] = [];
  for (const n of sizes) {
    for (const [transpose, transposeA, transposeB] of TRANSPOSES)
      cases.push({ shape: `${n}³`, transpose, m: n, n, k: n, transposeA, transposeB });
  }
  if (cpu) return cases;
  const [batch, hidden] = small ? [128, 256] : [1024, 2048];
  const [rows, wide, narrow] = small ? [4096, 64, 16] : [16384, 256, 64];
  const d = small ? 1024 : 4096;
  const plain = { transposeA: false, transposeB: false };
  cases.push(
    { shape: `MLP X·W1 ${batch}×784·784×${hidden}`, transpose: '', m: batch, n: hidden, k: 784, ...plain },
    {
      shape: `MLP dX=G·W1ᵀ ${batch}×${hidden}·(784×${hidden})ᵀ`,
      transpose: '',
      m: batch,
      n: 784,
      k: hidden,
      transposeA: false,
      transposeB: true,
    },
    {
      shape: `MLP dW1=Xᵀ·G (${batch}×784)ᵀ·${batch}×${hidden}`,
      transpose: '',
      m: 784,
      n: hidden,
      k: batch,
      transposeA: true,
      transposeB: false,
    },
    {
      shape: `split-K dW (${rows}×${wide})ᵀ·${rows}×${narrow}`,
      transpose: '',
      m: wide,
      n: narrow,
      k: rows,
      transposeA: true,
      transposeB: false,
    },
    { shape: `GEMV 1×${d}·${d}×${d}`, transpose: '', m: 1, n: d, k: d, ...plain },
  );
  return cases;
}

/** Deterministic values in [-0.5, 0.5], so that every run multiplies the same matrices. */
function values(count: number, phase: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin((i + phase) * 12.9898) * 0.5);
}

function median(times: number[]): number {
  const sorted = [...times].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Times every case on `rt`, and on TF.js when given. Where the adapter has timestamp queries both libraries report
 * GPU time per product (rt.profile, tf.time), the median over `reps`; elsewhere both are timed by the clock over
 * `reps` products and one wait, which amortises the wait (and TF.js's read-back) over the batch.
 * Returns how the times were taken, for the caption.
 */
export async function runSpeed(
  rt: Runtime,
  tf: TfLike | null,
  onRow: (row: SpeedRow) => void,
  log: (line: string) => void,
): Promise<string> {
  const reps = rt.info.software ? 3 : 20;
  const timestamps = rt.info.backend === 'webgpu' && rt.info.features.includes('timestamp-query');
  for (const c of speedCases(rt)) {
    log(`${c.shape} ${c.transpose}`);
    const gflops = (ms: number) => (2 * c.m * c.n * c.k) / (ms * 1e6);
    const { ms, kernel } = await timeWebgrad(rt, c, reps, timestamps);
    onRow({ shape: c.shape, transpose: c.transpose, library: 'webgrad', kernel, ms, gflops: gflops(ms) });
    if (tf) {
      const tfMs = await timeTfjs(tf, c, reps, timestamps);
      onRow({
        shape: c.shape,
        transpose: c.transpose,
        library: 'TF.js',
        kernel: 'tfjs-webgpu',
        ms: tfMs,
        gflops: gflops(tfMs),
      });
    }
  }
  return timestamps
    ? `GPU timestamps (rt.profile; tf.time for TF.js), the median of ${reps} products`
    : `wall time per product over ${reps} products`;
}

async function timeWebgrad(
  rt: Runtime,
  c: SpeedCase,
  reps: number,
  timestamps: boolean,
): Promise<{ ms: number; kernel: string }> {
  const a = rt.tensor(values(c.m * c.k, 0), c.transposeA ? [c.k, c.m] : [c.m, c.k]);
  const b = rt.tensor(values(c.k * c.n, 1), c.transposeB ? [c.n, c.k] : [c.k, c.n]);
  const options = { transposeA: c.transposeA, transposeB: c.transposeB };
  try {
    // The traced product also compiles the pipelines, so that no timing below includes a compile.
    const { dispatches } = await rt.trace(async () => {
      rt.matmul(a, b, options).dispose();
      await rt.sync();
    });
    const kernel = dispatches.find((d) => d.op === 'matmul')?.kernel ?? 'matmul';
    if (timestamps) {
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const { value, totalMs } = await rt.profile(() => rt.matmul(a, b, options));
        value.dispose();
        times.push(totalMs);
      }
      return { ms: median(times), kernel };
    }
    const started = performance.now();
    for (let r = 0; r < reps; r++) rt.matmul(a, b, options).dispose();
    await rt.sync();
    return { ms: (performance.now() - started) / reps, kernel };
  } finally {
    a.dispose();
    b.dispose();
  }
}

async function timeTfjs(tf: TfLike, c: SpeedCase, reps: number, timestamps: boolean): Promise<number> {
  const a = tf.tensor2d(values(c.m * c.k, 0), c.transposeA ? [c.k, c.m] : [c.m, c.k]);
  const b = tf.tensor2d(values(c.k * c.n, 1), c.transposeB ? [c.n, c.k] : [c.k, c.n]);
  try {
    const warm = tf.matMul(a, b, c.transposeA, c.transposeB);
    await warm.data();
    warm.dispose();
    if (timestamps) {
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        const { kernelMs } = await tf.time(() => tf.matMul(a, b, c.transposeA, c.transposeB).dispose());
        if (typeof kernelMs !== 'number') throw new Error(`TF.js timing: ${kernelMs.error}`);
        times.push(kernelMs);
      }
      return median(times);
    }
    const started = performance.now();
    const outs: TfTensor[] = [];
    for (let r = 0; r < reps; r++) outs.push(tf.matMul(a, b, c.transposeA, c.transposeB));
    await outs[outs.length - 1].data();
    const ms = (performance.now() - started) / reps;
    outs.forEach((o) => o.dispose());
    return ms;
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** The part of TF.js the comparison uses. */
export interface TfLike {
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA: boolean, transposeB: boolean): TfTensor;
  time(f: () => void): Promise<{ kernelMs: number | { error: string } }>;
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
