// The GPU test subset as a bench group (`--groups check`), for a lent GPU where there is no test runner: every matmul
// variant forced, every transpose, ragged and multi-tile shapes, against the float64 CPU reference, with outputs and
// buffer tails poisoned; each run twice and compared bit for bit. Prints PASS/FAIL per case and throws at the end if
// any failed, so the process exits 1.
import { createRuntime, type MatmulPlan, type Runtime } from '../src/index.js';
import type { BenchContext, BenchRow } from './types.js';
import { describePlan } from './matmul-variants.js';

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

const BLOCKED: MatmulPlan[] = [
  { variant: 'direct', splits: 1, workgroup: [4, 4] },
  { variant: 'direct', splits: 1, workgroup: [4, 4], wide: true },
  { variant: 'tile64', splits: 1, tileK: 16 },
  { variant: 'tile128', splits: 1, tileK: 8 },
  { variant: 'tile128', splits: 1, tileK: 16 },
  { variant: 'warp64', splits: 1, tileK: 16, prefetch: true },
  { variant: 'warp128', splits: 1, tileK: 8, prefetch: true },
  { variant: 'warp128', splits: 1, tileK: 16, prefetch: true },
  { variant: 'warp128', splits: 1, tileK: 16, prefetch: false },
];

type Case = { plan: MatmulPlan; m: number; n: number; k: number; ta: boolean; tb: boolean };

function cases(small: boolean, subgroups: boolean): Case[] {
  const out: Case[] = [];
  const add = (plan: MatmulPlan, shapes: number[][], transposes: readonly (readonly [boolean, boolean])[]) => {
    for (const [m, n, k] of shapes) for (const [ta, tb] of transposes) out.push({ plan, m, n, k, ta, tb });
  };
  // Ragged around every block; several tiles and K-steps in every direction (the review's 384×256×1000 on a GPU).
  const blocked = small
    ? [
        [33, 65, 17],
        [130, 67, 33],
      ]
    : [
        [33, 65, 17],
        [130, 67, 33],
        [259, 197, 75],
        [384, 256, 1000],
      ];
  for (const plan of BLOCKED) add(plan, blocked, TRANSPOSES);
  for (const plan of [BLOCKED[2], BLOCKED[4], BLOCKED[5], BLOCKED[7]]) {
    add({ ...plan, splits: 3 }, [[33, 17, 301]], TRANSPOSES.slice(1, 3));
    add({ ...plan, splits: 11, unrolledSum: true }, [[64, 48, small ? 1000 : 4000]], TRANSPOSES.slice(1, 3));
  }
  const gemvShapes = [
    [1, 67, 333],
    [70, 1, 201],
    [1, 4096, small ? 256 : 4096],
  ];
  add({ variant: 'gemv', splits: 1 }, gemvShapes, TRANSPOSES);
  add({ variant: 'gemv', splits: 8, unrolledSum: true }, gemvShapes, TRANSPOSES);
  if (subgroups)
    for (const variant of ['gemv_subgroup', 'gemv_subgroup_line'] as const)
      add(
        { variant, splits: 1 },
        [
          [1, 67, 333],
          [1, 64, 1024],
          [70, 1, 201],
        ],
        [[false, true]],
      );
  // Past 65535 workgroups in x.
  if (!small) add({ variant: 'gemv', splits: 1 }, [[1, 4_200_017, 3]], [[false, false]]);
  return out;
}

function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 16777216) * 2 - 1 || 0.5;
  }
  return out;
}

/** (|A|·|B|) for op(A)·op(B) in float64: the scale of the float32 error bound. */
function absProduct(a: Float32Array, b: Float32Array, { m, n, k, ta, tb }: Case): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let r = 0; r < k; r++) {
      const av = Math.abs(ta ? a[r * m + i] : a[i * k + r]);
      for (let j = 0; j < n; j++) out[i * n + j] += av * Math.abs(tb ? b[j * k + r] : b[r * n + j]);
    }
  return out;
}

/** The reference and its bound's scale, by shape and transposes: the same operands serve every plan. */
const references = new Map<string, { ref: Float64Array; scale: Float64Array }>();

async function reference(cpu: Runtime, c: Case, a: Float32Array, b: Float32Array, aShape: number[], bShape: number[]) {
  const key = `${c.m} ${c.n} ${c.k} ${c.ta} ${c.tb}`;
  let entry = references.get(key);
  if (!entry) {
    let ref: Float64Array;
    if (c.m * c.n > 1 << 22) {
      // The 4.2 M-output GEMV (A·B): its reference inline, without the CPU runtime's float64 copies.
      ref = new Float64Array(c.n);
      for (let j = 0; j < c.n; j++) for (let r = 0; r < c.k; r++) ref[j] += a[r] * b[r * c.n + j];
    } else {
      const options = { transposeA: c.ta, transposeB: c.tb };
      ref = await cpu.matmul(cpu.tensor(a, aShape), cpu.tensor(b, bShape), options).dataF64();
    }
    entry = { ref, scale: absProduct(a, b, c) };
    references.set(key, entry);
  }
  return entry;
}

async function checkOne(gpu: Runtime, cpu: Runtime, c: Case): Promise<string | null> {
  const a = values(c.m * c.k, c.m * 31 + c.k);
  const b = values(c.k * c.n, c.n * 17 + c.k + 1);
  const aShape = c.ta ? [c.k, c.m] : [c.m, c.k];
  const bShape = c.tb ? [c.n, c.k] : [c.k, c.n];
  const options = { transposeA: c.ta, transposeB: c.tb };
  gpu.matmulPlan = c.plan;
  const run = async () => {
    const [x, y] = [gpu.tensor(a, aShape), gpu.tensor(b, bShape)];
    const z = gpu.matmul(x, y, options);
    const data = await z.data();
    [x, y, z].forEach((t) => t.dispose());
    return data;
  };
  const first = await run();
  const second = await run();
  gpu.matmulPlan = null;
  for (let i = 0; i < first.length; i++)
    if (!(Object.is(first[i], second[i]) && !Number.isNaN(first[i])))
      return `rerun differs at ${i}: ${first[i]} vs ${second[i]}`;
  const { ref, scale } = await reference(cpu, c, a, b, aShape, bShape);
  let worst = -1;
  let worstExcess = 1;
  for (let i = 0; i < ref.length; i++) {
    const bound = 1e-6 + 4 * c.k * 2 ** -24 * scale[i];
    const excess = Math.abs(first[i] - ref[i]) / bound;
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  return worst < 0
    ? null
    : `element ${worst} is ${first[worst]}, expected ${ref[worst]} (${worstExcess.toFixed(1)}× the bound)`;
}

export async function checkCases(ctx: BenchContext): Promise<BenchRow[]> {
  const gpu = await createRuntime({ backend: 'webgpu', gpu: ctx.gpu });
  gpu.debug = { poisonOutputs: true, poisonTails: true };
  const cpu = await createRuntime({ backend: 'cpu' });
  const adapter = gpu.info.backend === 'webgpu' ? `${gpu.info.adapter.vendor} ${gpu.info.adapter.architecture}` : 'cpu';
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  try {
    for (const c of cases(ctx.small, gpu.info.features.includes('subgroups'))) {
      const name = `${c.plan.variant} ${describePlan(c.plan)} ${c.m}×${c.n}×${c.k} ${c.ta ? 't' : 'n'}${c.tb ? 't' : 'n'}`;
      const start = performance.now();
      let problem: string | null;
      try {
        problem = await checkOne(gpu, cpu, c);
      } catch (e) {
        problem = `threw: ${e instanceof Error ? e.message : String(e)}`;
        gpu.matmulPlan = null;
      }
      const ms = performance.now() - start;
      ctx.log(`${problem ? 'FAIL' : 'PASS'} ${name}${problem ? `: ${problem}` : ''}`);
      if (problem) failures.push(`${name}: ${problem}`);
      rows.push({ group: 'check', name, adapter, kernel: problem ? 'FAIL' : 'PASS', ms, timing: 'wall' });
    }
  } finally {
    gpu.destroy();
  }
  ctx.log(`check: ${rows.length - failures.length} of ${rows.length} passed`);
  if (failures.length > 0) throw new Error(`check: ${failures.length} failed:\n${failures.join('\n')}`);
  return rows;
}
