// Matmul benchmark cases: webgrad against TF.js's WebGPU backend, in the same process on the same adapter.
// Runs in Node (Dawn) and in a page (`npm run bench -- --browser`), so nothing here is Node-only.
import { createRuntime, type MatmulPlan, type Runtime, type Tensor } from '../src/index.js';
import type { BenchContext, BenchRow } from './types.js';
import { describePlan, variantPlans } from './matmul-variants.js';

export interface MatmulCase {
  name: string;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** The minimal surface of tfjs-core used here. */
interface Tf {
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA: boolean, transposeB: boolean): TfTensor;
  time(f: () => void): Promise<{ kernelMs: number | { error: string } }>;
  backend(): TfWebGpuBackend;
}
interface TfWebGpuBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}
interface TfTensor {
  dispose(): void;
  data(): Promise<unknown>;
}

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

function op(transposed: boolean, name: string): string {
  return transposed ? `${name}ᵀ` : name;
}

/** The cases: squares in every transpose, an MLP layer's three products, a split-K weight gradient and a GEMV. */
export function matmulCaseList(small: boolean, sizes?: number[]): MatmulCase[] {
  const squares = sizes ?? (small ? [64, 128, 256, 512] : [256, 512, 1024, 2048, 4096]);
  const cases: MatmulCase[] = [];
  for (const s of squares) {
    for (const [ta, tb] of TRANSPOSES) {
      cases.push({ name: `${s}³ ${op(ta, 'A')}·${op(tb, 'B')}`, m: s, n: s, k: s, transposeA: ta, transposeB: tb });
    }
  }
  // SwiftShader: the guide's small MLP (batch 128, 784→256); a GPU: batch 1024, 784→2048.
  const [batch, hidden] = small ? [128, 256] : [1024, 2048];
  cases.push(
    { name: `MLP X·W1 ${batch}×784·784×${hidden}`, m: batch, n: hidden, k: 784, transposeA: false, transposeB: false },
    {
      name: `MLP dX=G·W1ᵀ ${batch}×${hidden}·(784×${hidden})ᵀ`,
      m: batch,
      n: 784,
      k: hidden,
      transposeA: false,
      transposeB: true,
    },
    {
      name: `MLP dW1=Xᵀ·G (${batch}×784)ᵀ·${batch}×${hidden}`,
      m: 784,
      n: hidden,
      k: batch,
      transposeA: true,
      transposeB: false,
    },
  );
  const [rows, wide, narrow] = small ? [4096, 64, 16] : [16384, 256, 64];
  cases.push({
    name: `split-K dW (${rows}×${wide})ᵀ·${rows}×${narrow}`,
    m: wide,
    n: narrow,
    k: rows,
    transposeA: true,
    transposeB: false,
  });
  const d = small ? 1024 : 4096;
  cases.push({ name: `GEMV 1×${d}·${d}×${d}`, m: 1, n: d, k: d, transposeA: false, transposeB: false });
  return cases;
}

/** The GEMV whose lines are contiguous (1×K·(N×K)ᵀ), the layout the subgroup variants read: --variants only. */
export function rowDotGemvCase(small: boolean): MatmulCase {
  const d = small ? 1024 : 4096;
  return { name: `GEMV 1×${d}·(${d}×${d})ᵀ`, m: 1, n: d, k: d, transposeA: false, transposeB: true };
}

function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Median wall time from submission to onSubmittedWorkDone, after `warmup` runs that also compile pipelines. */
async function medianMs(run: () => Promise<void>, reps: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

/** Median of `sample` after warm-up, for timings that come from the GPU rather than the clock. */
async function medianOf(sample: () => Promise<number>, reps: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await sample();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await sample());
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

async function timeWebgrad(rt: Runtime, c: MatmulCase, reps: number, timestamps: boolean): Promise<number> {
  const a = rt.tensor(values(c.m * c.k, 1), c.transposeA ? [c.k, c.m] : [c.m, c.k]);
  const b = rt.tensor(values(c.k * c.n, 2), c.transposeB ? [c.n, c.k] : [c.k, c.n]);
  const options = { transposeA: c.transposeA, transposeB: c.transposeB };
  try {
    if (timestamps) {
      // GPU time of the matmul's kernels (two for split-K), from timestamp queries.
      return await medianOf(async () => {
        const { value, totalMs } = await rt.profile(() => rt.matmul(a, b, options));
        value.dispose();
        return totalMs;
      }, reps);
    }
    return await medianMs(async () => {
      const out: Tensor = rt.matmul(a, b, { transposeA: c.transposeA, transposeB: c.transposeB });
      await rt.sync();
      out.dispose();
    }, reps);
  } finally {
    a.dispose();
    b.dispose();
  }
}

async function timeTfjs(tf: Tf, c: MatmulCase, reps: number, timestamps: boolean): Promise<number> {
  const a = tf.tensor2d(values(c.m * c.k, 1), c.transposeA ? [c.k, c.m] : [c.m, c.k]);
  const b = tf.tensor2d(values(c.k * c.n, 2), c.transposeB ? [c.n, c.k] : [c.k, c.n]);
  const backend = tf.backend();
  try {
    if (timestamps) {
      // tf.time reports the kernels' GPU time when its device has timestamp queries.
      return await medianOf(async () => {
        const { kernelMs } = await tf.time(() => tf.matMul(a, b, c.transposeA, c.transposeB).dispose());
        if (typeof kernelMs !== 'number') throw new Error(`TF.js timing: ${kernelMs.error}`);
        return kernelMs;
      }, reps);
    }
    return await medianMs(async () => {
      const out = tf.matMul(a, b, c.transposeA, c.transposeB);
      // TF.js batches commands as we do: end its pass, submit, then wait for the queue, the same measure as ours.
      backend.endComputePassEncoder();
      if (backend.commandEncoder) backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
      out.dispose();
    }, reps);
  } finally {
    a.dispose();
    b.dispose();
  }
}

const gflops = (c: MatmulCase, ms: number) => (2 * c.m * c.n * c.k) / (ms * 1e6);

export async function matmulCases(
  ctx: BenchContext,
  options: { sizes?: number[]; variants?: boolean; match?: string } = {},
): Promise<BenchRow[]> {
  const rt = await createRuntime({ backend: 'webgpu', gpu: ctx.gpu });
  const info = rt.info;
  const adapter =
    info.backend === 'webgpu' ? `${info.adapter.vendor} ${info.adapter.architecture}`.trim() || 'webgpu' : 'cpu';
  // The same measure for both libraries: GPU time from timestamp queries where the adapter has them, else wall time.
  const timestamps = info.features.includes('timestamp-query');
  const timing = timestamps ? 'timestamp-query' : 'wall';
  const rows: BenchRow[] = [];
  const match = options.match === undefined ? null : new RegExp(options.match);
  const subgroups = info.features.includes('subgroups');
  try {
    const cases = matmulCaseList(ctx.small, options.sizes);
    if (options.variants) cases.push(rowDotGemvCase(ctx.small));
    for (const c of cases) {
      if (match && !match.test(c.name)) continue;
      const chosen = rt.matmulKernel(c).plan;
      // The automatic choice first, then each variant forced (--variants), all against one TF.js time.
      const plans: (MatmulPlan | null)[] = [null];
      if (options.variants && chosen) plans.push(...variantPlans(c, chosen, subgroups));
      let tfjsMs: number | undefined;
      for (const forced of plans) {
        rt.matmulPlan = forced;
        const { kernel: name, plan } = rt.matmulKernel(c);
        const splits = plan?.splits ?? 1;
        const kernel = name + (splits > 1 ? `×${splits}` : '') + (forced ? ` ${describePlan(forced)}` : '');
        const ms = await timeWebgrad(rt, c, ctx.reps, timestamps);
        rt.matmulPlan = null;
        const row: BenchRow = { group: 'matmul', name: c.name, adapter, kernel, ms, gflops: gflops(c, ms), timing };
        if (ctx.tf) {
          tfjsMs ??= await timeTfjs(ctx.tf as Tf, c, ctx.reps, timestamps);
          Object.assign(row, { tfjsMs, tfjsGflops: gflops(c, tfjsMs), speedup: tfjsMs / ms });
        }
        row.extra = { M: c.m, N: c.n, K: c.k, software: String(info.software), forced: forced ? 'yes' : 'no' };
        rows.push(row);
        ctx.log(formatRow(row));
      }
    }
  } finally {
    rt.destroy();
  }
  return rows;
}

export function formatRow(r: BenchRow): string {
  const num = (v: number | undefined, digits: number) => (v === undefined ? '-' : v.toFixed(digits));
  return [
    r.name.padEnd(44),
    r.kernel.padEnd(26),
    `${num(r.ms, 3)} ms`.padStart(12),
    `${num(r.gflops, 2)} GFLOP/s`.padStart(16),
    `tfjs ${num(r.tfjsMs, 3)} ms`.padStart(17),
    `${num(r.tfjsGflops, 2)} GFLOP/s`.padStart(16),
    `×${num(r.speedup, 2)}`.padStart(8),
  ].join(' ');
}
