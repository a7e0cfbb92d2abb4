// Records one matmul (with an optional bias + activation epilogue) as dispatches of the matmul kernel family.
import type { Dispatcher, GpuOperand } from '../core/kernel.js';
import { elementwiseGrid, grid1d } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import {
  chooseMatmulPlan,
  isGemvShape,
  isRowDotGemv,
  shapeClass,
  type AdapterTraits,
  type MatmulPlan,
  type MatmulShape,
} from './matmul-plan.js';
import tiledSource from '../../shaders/matmul.wgsl?raw';
import warpSource from '../../shaders/matmul_warp.wgsl?raw';
import quadsSource from '../../shaders/matmul_quads.wgsl?raw';
import outVec4Source from '../../shaders/matmul_out_vec4.wgsl?raw';
import outScalarSource from '../../shaders/matmul_out_scalar.wgsl?raw';
import gemvLineSource from '../../shaders/gemv_subgroup_line.wgsl?raw';
import directSource from '../../shaders/matmul_direct.wgsl?raw';
import registerSource from '../../shaders/matmul_register.wgsl?raw';
import blockedSource from '../../shaders/matmul_blocked.wgsl?raw';
import gemvSource from '../../shaders/gemv.wgsl?raw';
import gemvSubgroupSource from '../../shaders/gemv_subgroup.wgsl?raw';
import splitkSource from '../../shaders/matmul_splitk.wgsl?raw';
import edgesSource from '../../shaders/matmul_edges.wgsl?raw';
import { ACTIVATION_CODES, activationWgsl, type ActivationKind } from './activation.js';

const tiledShader = new Shader('matmul', tiledSource + quadsSource + edgesSource + activationWgsl);
// The output binding is a vec4 array when N % 4 == 0, else f32: one buffer cannot be bound writable twice.
const warpShaders = {
  vec4: new Shader('matmul_warp', warpSource + outVec4Source + quadsSource + edgesSource + activationWgsl),
  scalar: new Shader(
    'matmul_warp_scalar_out',
    warpSource + outScalarSource + quadsSource + edgesSource + activationWgsl,
  ),
};
const gemvLineShader = new Shader('gemv_subgroup_line', gemvLineSource + activationWgsl);
/** Lines per 64-invocation workgroup of gemv_subgroup_line: one per subgroup where subgroups have 32 lanes. */
const GEMV_LINES = 2;
const directShader = new Shader('matmul_direct', directSource + blockedSource + edgesSource + activationWgsl);
const registerShader = new Shader('matmul_register', registerSource + blockedSource + edgesSource + activationWgsl);
const gemvShader = new Shader('gemv', gemvSource + activationWgsl);
const gemvSubgroupShader = new Shader('gemv_subgroup', gemvSubgroupSource + activationWgsl);
const splitkShader = new Shader('matmul_splitk', splitkSource + activationWgsl);

export interface MatmulProblem extends MatmulShape {
  a: GpuOperand;
  b: GpuOperand;
  out: GpuOperand;
  bias?: GpuOperand;
  activation: ActivationKind;
  /** Several products in one dispatch: out holds `count` [M,N] matrices back to back. Absent: one product. */
  batch?: MatmulBatch;
}

/** The batch dimensions of a batched product, as the kernels decode them (see setBatch in shaders/matmul_edges.wgsl). */
export interface MatmulBatch {
  count: number;
  /** At most BATCH_SLOTS dimensions, outermost first. */
  shape: readonly number[];
  /** Per dimension, in elements; 0 where the operand is broadcast. */
  aStrides: readonly number[];
  bStrides: readonly number[];
}

/** The batch dimensions the kernels' uniform holds. */
export const BATCH_SLOTS = 8;

const padBatch = (values: readonly number[], fill: number) => [
  ...new Array<number>(BATCH_SLOTS - values.length).fill(fill),
  ...values,
];

function batchUniform(batch: MatmulBatch | undefined) {
  return {
    batchShape: padBatch(batch?.shape ?? [], 1),
    aStrides: padBatch(batch?.aStrides ?? [], 0),
    bStrides: padBatch(batch?.bStrides ?? [], 0),
  };
}

/** The matmul plans a device's runtime has set: forced (`rt.matmulPlan`, tests and `rt.tune`) and tuned. */
export interface MatmulState {
  forced: MatmulPlan | null;
  /** By shape class (`shapeClass`). */
  tuned: Map<string, MatmulPlan>;
}

export function matmulState(gpu: Dispatcher): MatmulState {
  return gpu.familyState<MatmulState>('matmul', () => ({ forced: null, tuned: new Map() }));
}

export function adapterTraits(gpu: Dispatcher): AdapterTraits {
  return {
    software: gpu.software,
    subgroups: gpu.features.has('subgroups'),
    workgroupStorage: gpu.limits.maxComputeWorkgroupStorageSize,
  };
}

const isGemvVariant = (p: MatmulPlan) =>
  p.variant === 'gemv' || p.variant === 'gemv_subgroup' || p.variant === 'gemv_subgroup_line';
const usesSubgroups = (p: MatmulPlan) => p.variant === 'gemv_subgroup' || p.variant === 'gemv_subgroup_line';

/** The plan a matmul of this shape gets now: forced, tuned, or chosen. */
export function planFor(gpu: Dispatcher, s: MatmulShape): MatmulPlan {
  const state = matmulState(gpu);
  const traits = adapterTraits(gpu);
  // A forced GEMV applies to GEMV shapes only (the subgroup one to k-contiguous lines); a forced blocked variant to any shape.
  const applies = (p: MatmulPlan) =>
    usesSubgroups(p) ? traits.subgroups && isRowDotGemv(s) : p.variant !== 'gemv' || isGemvShape(s);
  if (state.forced && applies(state.forced)) return state.forced;
  const tuned = state.tuned.get(shapeClass(s));
  return tuned && applies(tuned) ? tuned : chooseMatmulPlan(s, traits);
}

const transposeSuffix = (s: MatmulShape) => `${s.transposeA ? 't' : 'n'}${s.transposeB ? 't' : 'n'}`;

export function kernelName(s: MatmulShape, plan: MatmulPlan): string {
  return `matmul_${plan.variant}${plan.splits > 1 ? '_splitk' : ''}_${transposeSuffix(s)}`;
}

/**
 * GEMV and split-K have no batch dimension: a batched product runs the blocked kernel the adapter prefers, with
 * its K unsplit (the batch already gives the grid its depth).
 */
function batchedPlan(plan: MatmulPlan, software: boolean): MatmulPlan {
  if (isGemvVariant(plan)) {
    return software
      ? { variant: 'register', splits: 1, workgroup: [4, 4], block: [4, 4] }
      : { variant: 'tile64', splits: 1, tileK: 16 };
  }
  return { ...plan, splits: 1 };
}

export function dispatchMatmul(gpu: Dispatcher, p: MatmulProblem, chosen: MatmulPlan = planFor(gpu, p)): void {
  const count = p.batch?.count ?? 1;
  const plan = count > 1 ? batchedPlan(chosen, gpu.software) : chosen;
  if (count > gpu.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(
      `matmul: ${count} batched products; this device dispatches at most ${gpu.limits.maxComputeWorkgroupsPerDimension}`,
    );
  }
  const detail: Record<string, number | boolean> = {
    transposeA: p.transposeA,
    transposeB: p.transposeB,
    M: p.m,
    N: p.n,
    K: p.k,
    splits: plan.splits,
  };
  if (count > 1) detail.batch = count;
  const epilogue = { HAS_BIAS: p.bias !== undefined, ACTIVATION: ACTIVATION_CODES[p.activation] };
  // A bias-less kernel still declares the binding; any read-only buffer satisfies it.
  const bias = p.bias ?? p.a;
  if (isGemvVariant(plan)) return dispatchGemv(gpu, p, plan, bias, epilogue, detail);

  const splits = Math.max(1, Math.min(plan.splits, p.k));
  const { shader, constants, blockM, blockN, stepK } = blockedKernel(p, plan);
  // Each split's k range is a whole number of steps, so vec4 reads and tiles never straddle two splits.
  const kChunk = Math.ceil(Math.ceil(p.k / splits) / stepK) * stepK;
  const used = Math.ceil(p.k / kChunk);
  const fits = p.m % blockM === 0 && p.n % blockN === 0 && p.k % stepK === 0;
  const grid = [Math.ceil(p.n / blockN), Math.ceil(p.m / blockM), used * count];
  const name = kernelName(p, { ...plan, splits: used });
  const params = { M: p.m, N: p.n, K: p.k, kChunk, splits: used, ...batchUniform(p.batch) };
  if (used === 1) {
    gpu.dispatch(
      { name, shader, constants: { ...constants, ...epilogue, CHECK_BOUNDS: !fits, SPLIT: false } },
      { a: p.a, b: p.b, aScalars: p.a, bScalars: p.b, bias, out: p.out, params },
      grid,
      detail,
    );
    return;
  }
  const partials = partialsBuffer(gpu, used * p.m * p.n);
  gpu.dispatch(
    { name, shader, constants: { ...constants, CHECK_BOUNDS: !fits, SPLIT: true } },
    { a: p.a, b: p.b, aScalars: p.a, bScalars: p.b, bias: p.a, out: partials, params },
    grid,
    {
      ...detail,
      splits: used,
    },
  );
  sumSplits(gpu, p, plan, partials, bias, epilogue, { ...detail, splits: used }, used);
}

/** The second pass of split-K: out = act(Σ_s partials[s] + bias), s in order. */
function sumSplits(
  gpu: Dispatcher,
  p: MatmulProblem,
  plan: MatmulPlan,
  partials: GpuOperand,
  bias: GpuOperand,
  epilogue: Record<string, number | boolean>,
  detail: Record<string, number | boolean>,
  splits: number,
): void {
  const unrolled = plan.unrolledSum ?? false;
  gpu.dispatch(
    {
      name: unrolled ? 'matmul_splitk_sum_unrolled' : 'matmul_splitk_sum',
      shader: splitkShader,
      constants: { ...epilogue, UNROLL: unrolled },
    },
    { partials, bias, out: p.out, params: { M: p.m, N: p.n, splits } },
    elementwiseGrid(p.m * p.n),
    detail,
  );
}

/** Split-K partials of `elements` floats, refused past what the device can bind. */
function partialsBuffer(gpu: Dispatcher, elements: number): GpuOperand {
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  if (elements * 4 > limit)
    throw new Error(`matmul: split-K partials need ${elements * 4} bytes; this device binds at most ${limit}`);
  return gpu.scratch(elements);
}

/** The shader and constants of a blocked variant, and the block each workgroup covers. */
function blockedKernel(p: MatmulProblem, plan: MatmulPlan) {
  // A vec4 read runs along each operand's contiguous dimension: K for A, M for Aᵀ; N for B, K for Bᵀ.
  const vecA = (p.transposeA ? p.m : p.k) % 4 === 0;
  const vecB = (p.transposeB ? p.k : p.n) % 4 === 0;
  const common = { TRANSPOSE_A: p.transposeA, TRANSPOSE_B: p.transposeB, VEC_A: vecA, VEC_B: vecB };
  if (plan.variant === 'direct') {
    const [x, y] = plan.workgroup ?? [4, 4];
    const wide = plan.wide ?? false;
    return {
      shader: directShader,
      constants: { ...common, WG_X: x, WG_Y: y, WIDE: wide },
      blockM: 4 * y,
      blockN: (wide ? 8 : 4) * x,
      stepK: 4,
    };
  }
  if (plan.variant === 'register') {
    const [x, y] = plan.workgroup ?? [4, 4];
    const [rows, cols] = plan.block ?? [8, 8];
    if (![4, 8, 16].includes(rows) || ![4, 8].includes(cols)) {
      throw new Error(`matmul: a register block is 4, 8 or 16 rows by 4 or 8 columns, got [${rows}, ${cols}]`);
    }
    return {
      shader: registerShader,
      constants: { ...common, WG_X: x, WG_Y: y, ROW_TILES: rows / 4, WIDE: cols === 8 },
      blockM: rows * y,
      blockN: cols * x,
      stepK: 4,
    };
  }
  const micro = plan.variant === 'tile128' || plan.variant === 'warp128' ? 8 : 4;
  const tileK = plan.tileK ?? 16;
  if (plan.variant === 'warp128' || plan.variant === 'warp64') {
    return {
      shader: p.n % 4 === 0 ? warpShaders.vec4 : warpShaders.scalar,
      constants: { ...common, MICRO: micro, TILE_K: tileK, BUFFERS: plan.prefetch ? 2 : 1 },
      blockM: 16 * micro,
      blockN: 16 * micro,
      stepK: tileK,
    };
  }
  return {
    shader: tiledShader,
    constants: { ...common, MICRO: micro, TILE_K: tileK },
    blockM: 16 * micro,
    blockN: 16 * micro,
    stepK: tileK,
  };
}

function dispatchGemv(
  gpu: Dispatcher,
  p: MatmulProblem,
  plan: MatmulPlan,
  bias: GpuOperand,
  epilogue: Record<string, number | boolean>,
  detail: Record<string, number | boolean>,
): void {
  // M = 1: the vector is A (its K values are contiguous either way) and the lines are op(B)'s columns.
  // N = 1: the vector is B and the lines are op(A)'s rows. ROW_DOT when a line is contiguous in memory.
  const rowVector = p.m === 1;
  const [mat, x] = rowVector ? [p.b, p.a] : [p.a, p.b];
  const lines = rowVector ? p.n : p.m;
  const rowDot = rowVector ? p.transposeB : !p.transposeA;
  const vec = (rowDot ? p.k : lines) % 4 === 0;
  // One bias per output along N; a single column (N = 1) adds bias[0] to every row.
  const biasStride = rowVector ? 1 : 0;
  const name = kernelName(p, { ...plan, splits: 1 });
  if (plan.variant === 'gemv_subgroup_line') {
    gpu.dispatch(
      { name, shader: gemvLineShader, constants: { VEC: p.k % 4 === 0, LINES: GEMV_LINES, ...epilogue } },
      { mat, x, matScalars: mat, xScalars: x, bias, out: p.out, params: { J: lines, K: p.k, biasStride } },
      grid1d(Math.ceil(lines / GEMV_LINES)),
      detail,
    );
    return;
  }
  if (plan.variant === 'gemv_subgroup') {
    gpu.dispatch(
      { name, shader: gemvSubgroupShader, constants: epilogue },
      { mat, x, bias, out: p.out, params: { J: lines, K: p.k, biasStride } },
      grid1d(Math.ceil(lines / 64)),
      detail,
    );
    return;
  }
  // K ranges of whole 64-wide steps (16 slices of vec4s), so a vec4 read never straddles two ranges.
  const kChunk = Math.ceil(Math.ceil(p.k / Math.max(1, plan.splits)) / 64) * 64;
  const used = Math.ceil(p.k / kChunk);
  const groups = grid1d(Math.ceil(lines / 64));
  const constants = { ROW_DOT: rowDot, VEC: vec, ...epilogue };
  const params = { J: lines, K: p.k, biasStride, kChunk };
  if (used === 1) {
    gpu.dispatch(
      { name, shader: gemvShader, constants: { ...constants, SPLIT: false } },
      { mat, x, bias, out: p.out, params },
      [...groups, 1],
      { ...detail, splits: 1 },
    );
    return;
  }
  const partials = partialsBuffer(gpu, used * lines);
  gpu.dispatch(
    { name: kernelName(p, { ...plan, splits: used }), shader: gemvShader, constants: { ...constants, SPLIT: true } },
    { mat, x, bias: mat, out: partials, params },
    [...groups, used],
    { ...detail, splits: used },
  );
  sumSplits(gpu, p, plan, partials, bias, epilogue, { ...detail, splits: used }, used);
}
