// How a matmul runs on the GPU: which kernel of the family, and how many K splits. One small function decides
// from the shape and the adapter; `rt.tune()` can overrule it per shape class with measured times.

/**
 * - `tile128` / `tile64`: workgroup-memory tiles of 16×16 invocations, 8×8 or 4×4 outputs each (real GPUs).
 * - `warp128` / `warp64`: the same tiles with a warp-tiled mapping, conflict-free staging of every transpose
 *   (4×4 blocks, transposed in registers), vec4 epilogue stores and, with `prefetch`, the next slab loaded into
 *   registers and two tile buffers (one barrier per K-step); `rt.tune()` candidates until a GPU measures them.
 * - `direct`: no workgroup memory, 4×4 outputs (4×8 when `wide`) per invocation from vec4 reads (software adapters
 *   prefer it).
 * - `register`: no workgroup memory either, a block of 4, 8 or 16 rows by 4 or 8 columns per invocation as 4×4
 *   tiles (`block`); fewer reads per multiply-add than `direct` on software adapters.
 * - `gemv`: one output row or column (M = 1 or N = 1).
 * - `gemv_subgroup`: the same with subgroup reductions, where each output's k values are contiguous; a candidate
 *   for `rt.tune()` on adapters with `subgroups`, kept only where it measures faster.
 * - `gemv_subgroup_line`: one line per subgroup, read in vec4s four deep; a `rt.tune()` candidate there too.
 */
export type MatmulVariant =
  'tile128' | 'tile64' | 'warp128' | 'warp64' | 'direct' | 'register' | 'gemv' | 'gemv_subgroup' | 'gemv_subgroup_line';

export interface MatmulPlan {
  variant: MatmulVariant;
  /** K is cut into this many ranges, summed afterwards in a fixed order (1: no split). */
  splits: number;
  /** The k-step of a tiled variant. */
  tileK?: number;
  /** Invocations per workgroup of `direct` and `register`, [x, y]. */
  workgroup?: [number, number];
  /** `direct` only: 4×8 outputs per invocation instead of 4×4 (the A reads shared by two column blocks). */
  wide?: boolean;
  /** `warp128` / `warp64`: register prefetch of the next slab into a second tile buffer (twice the workgroup memory). */
  prefetch?: boolean;
  /** Split-K: the second pass issues eight slabs' loads at a time, adding them in the same order. */
  unrolledSum?: boolean;
  /** `register` only: outputs per invocation, [rows, columns]: rows 4, 8 or 16, columns 4 or 8 (default [8, 8]). */
  block?: [number, number];
}

export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** What the choice needs to know about the adapter. */
export interface AdapterTraits {
  /** A CPU rasteriser (SwiftShader): barriers are expensive there, registers cheap. */
  software: boolean;
  /** The device was opened with the `subgroups` feature. */
  subgroups: boolean;
  /** maxComputeWorkgroupStorageSize, in bytes (WebGPU's default 16384 when absent). */
  workgroupStorage?: number;
}

/** The workgroup memory a tiled plan declares: two operands' slabs, one or two buffers each. */
export function workgroupBytes(p: MatmulPlan): number {
  if (p.variant !== 'warp128' && p.variant !== 'warp64' && p.variant !== 'tile128' && p.variant !== 'tile64') return 0;
  const tile = p.variant.endsWith('128') ? 128 : 64;
  const buffers = p.variant.startsWith('warp') && p.prefetch ? 2 : 1;
  return 2 * buffers * (p.tileK ?? 16) * tile * 4;
}

/** One output row or column. */
export function isGemvShape(s: MatmulShape): boolean {
  return s.m === 1 || s.n === 1;
}

/** A GEMV whose every output dots v with a k-contiguous line: Bᵀ's rows for M = 1, A's rows for N = 1. */
export function isRowDotGemv(s: MatmulShape): boolean {
  return s.m === 1 ? s.transposeB : s.n === 1 && !s.transposeA;
}

/** Chosen from the shape and the adapter, before any tuning. */
export function chooseMatmulPlan(s: MatmulShape, adapter: AdapterTraits): MatmulPlan {
  // Each software choice below follows a SwiftShader measurement (bench/NOTES.md, "Versions" v3 and v4). On GPUs
  // the subgroup GEMV is unmeasured, so there only `rt.tune()` picks it.
  if (adapter.software && adapter.subgroups && isRowDotGemv(s)) return { variant: 'gemv_subgroup', splits: 1 };
  // M = 1 ran faster on the plain 4×4 blocks than in GEMV's sweep layout there; N = 1 the other way round.
  if (s.n === 1 || (s.m === 1 && !adapter.software)) return { variant: 'gemv', splits: 1 };
  if (adapter.software) {
    // 4×4 invocations (a 16×16 block) measured fastest there; splitting K did not pay (2 emulated cores are busy
    // from a handful of workgroups).
    const blocks = Math.ceil(s.m / 16) * Math.ceil(s.n / 16);
    const splits = splitsFor(s.k, blocks, 4, 256);
    // 8×8 outputs per invocation as 4×4 register tiles ("Transformer step, round 2", attempt 8): 1.1–2.5× the 4×8
    // direct block on the transformer's shapes, and far faster on ragged ones, where the direct kernel's bounds
    // branches cost it up to 19×. Up to N = 16, 4-column blocks, on a narrower workgroup up to N = 8, and 4-row
    // blocks up to M = 4: a block much larger than the matrix leaves most invocations idle. From M = 128 on, 16-row
    // blocks (5.3 multiply-adds per float read against 4): 17–19% faster on the MLP's 784-wide products and 12% on
    // 512³ in Chromium (bench/NOTES.md), with pipelines that still compile in about a second.
    const rows = s.m >= 128 && s.n > 16 ? 16 : s.m > 4 ? 8 : 4;
    if (s.n > 16) return { variant: 'register', splits, workgroup: fittingWorkgroup(s, rows, 8), block: [rows, 8] };
    return { variant: 'register', splits, workgroup: s.n > 8 ? [4, 4] : [2, 4], block: [rows, 4] };
  }
  const big = s.m >= 512 && s.n >= 512;
  const tile = big ? 128 : 64;
  const blocks = Math.ceil(s.m / tile) * Math.ceil(s.n / tile);
  return {
    variant: big ? 'tile128' : 'tile64',
    tileK: big ? (s.k >= 2048 ? 16 : 8) : 16,
    // About 256 workgroups fill a large GPU; the weight-gradient shapes (large K, small M·N) make far fewer.
    splits: splitsFor(s.k, blocks, 256, 256),
  };
}

/**
 * 16 invocations as [4, 4], or as [8, 2] or [16, 1] where only those tile M and N exactly: then no read or write
 * needs a bounds check and no block row idles (the MLP's weight gradient, M = 784: 10% faster in Chromium).
 */
function fittingWorkgroup(s: MatmulShape, rows: number, cols: number): [number, number] {
  const shapes: [number, number][] = [
    [4, 4],
    [8, 2],
    [16, 1],
  ];
  return shapes.find(([x, y]) => s.m % (rows * y) === 0 && s.n % (cols * x) === 0) ?? [4, 4];
}

/** How many K ranges bring `blocks` workgroups up to about `target`, keeping each range at least `minChunk` long. */
function splitsFor(k: number, blocks: number, target: number, minChunk: number): number {
  if (blocks >= target / 2) return 1;
  return Math.max(1, Math.min(Math.floor(target / blocks), Math.floor(k / minChunk), 64));
}

/** A tuned choice applies to every shape of its class: the same transposes and sizes within a factor of two. */
export function shapeClass(s: MatmulShape): string {
  const bucket = (d: number) => (d === 1 ? 'one' : String(Math.round(Math.log2(d))));
  return `${s.transposeA ? 't' : 'n'}${s.transposeB ? 't' : 'n'}:${bucket(s.m)}:${bucket(s.n)}:${bucket(s.k)}`;
}

/** The candidates `rt.tune()` times for a shape on this adapter. */
export function candidatePlans(s: MatmulShape, adapter: AdapterTraits): MatmulPlan[] {
  const base = chooseMatmulPlan(s, adapter);
  if (isGemvShape(s)) {
    const gemvs: MatmulPlan[] = [base, { variant: 'gemv', splits: 1 }];
    // K ranges in z: enough workgroups (64 outputs each) to fill a 132-SM GPU twice, summed in a second pass.
    const lines = s.m === 1 ? s.n : s.m;
    const gemvSplits = Math.min(Math.ceil(264 / Math.ceil(lines / 64)), Math.floor(s.k / 256), 64);
    if (gemvSplits > 1) gemvs.push({ variant: 'gemv', splits: gemvSplits, unrolledSum: true });
    if (adapter.subgroups && isRowDotGemv(s)) {
      gemvs.push({ variant: 'gemv_subgroup', splits: 1 }, { variant: 'gemv_subgroup_line', splits: 1 });
    }
    return gemvs.filter((p, i) => gemvs.findIndex((q) => q.variant === p.variant && q.splits === p.splits) === i);
  }
  const plans: MatmulPlan[] = [
    { variant: 'direct', splits: 1, workgroup: [4, 4] },
    { variant: 'direct', splits: 1, workgroup: [8, 4] },
    { variant: 'direct', splits: 1, workgroup: [8, 8] },
    { variant: 'direct', splits: 1, workgroup: [4, 4], wide: true },
    { variant: 'direct', splits: 1, workgroup: [2, 4], wide: true },
    { variant: 'register', splits: 1, workgroup: [4, 4], block: [16, 8] },
    { variant: 'register', splits: 1, workgroup: [4, 4], block: [8, 8] },
    { variant: 'register', splits: 1, workgroup: [4, 4], block: [8, 4] },
    { variant: 'tile64', splits: 1, tileK: 16 },
    { variant: 'tile128', splits: 1, tileK: 8 },
    { variant: 'tile128', splits: 1, tileK: 16 },
    { variant: 'warp64', splits: 1, tileK: 16, prefetch: true },
    { variant: 'warp128', splits: 1, tileK: 8, prefetch: true },
    { variant: 'warp128', splits: 1, tileK: 16, prefetch: true },
    { variant: 'warp128', splits: 1, tileK: 16, prefetch: false },
  ];
  for (const p of [...plans]) {
    const splits = Math.max(2, base.splits);
    const unrolledSum = p.variant.startsWith('warp') || undefined;
    if (s.k >= 4 * Math.max(s.m, s.n)) plans.push({ ...p, splits, ...(unrolledSum && { unrolledSum }) });
  }
  return plans.filter((p) => workgroupBytes(p) <= (adapter.workgroupStorage ?? 16384));
}
