// Warp-tiled matmul: out[M,N] = act(op(A) · op(B) + bias), the same contract as shaders/matmul.wgsl (tile128 /
// tile64), with the layout of the fastest published SGEMMs instead of the contiguous one.
// Bindings: a, b, bias (read; bias is any read buffer when HAS_BIAS is off), out (write; declared by
//   shaders/matmul_out_vec4.wgsl or shaders/matmul_out_scalar.wgsl, appended), params {M, N, K, kChunk, splits,
//   batchShape, aStrides, bStrides}, aScalars, bScalars (a and b again, as f32 arrays).
// Grid: (ceil(N / TILE), ceil(M / TILE), batch · splits) workgroups of 256 invocations, TILE = 16·MICRO (64 or 128).
// Invocation (tx, ty), numbered so that one 32-wide subgroup holds 8 consecutive tx and 4 consecutive ty, computes
// the 4×4 blocks at rows p·64 + 4·ty, columns q·64 + 4·tx of the tile (p, q < MICRO/4), over k in
// [s·kChunk, (s+1)·kChunk) of batch entry z / splits, s = z % splits. With SPLIT it writes raw partial sums to slab
// z of out ([splits, M, N]) and no epilogue.
// - Workgroup reads: per k, a subgroup reads 8 consecutive vec4s of B and 4 of A, each without bank conflicts.
// - Staging: each invocation of the first 2·TILE_K·MICRO moves one 4(k)×4(m or n) block of A or B: four vec4 global
//   loads, all issued before any store, transposed in registers when the operand is k-contiguous, then four vec4
//   stores along m or n, 8 consecutive per quarter-subgroup (conflict-free, whichever transpose).
// - BUFFERS = 2: the next slab is loaded into registers before this one is computed, and stored into the other
//   buffer after it, so each K-step has one barrier. BUFFERS = 1: load, store, barrier, compute, barrier.
// - The epilogue indexes the accumulators with constants only, so they stay in registers however the activation is
//   compiled, and stores vec4s along a row (8 subgroup lanes write 128 contiguous bytes).

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
// The operand's contiguous dimension is a multiple of 4, so a vec4 read never straddles a row.
override VEC_A: bool = false;
override VEC_B: bool = false;
// Off only when M and N are multiples of TILE and the k range of every split a multiple of TILE_K.
override CHECK_BOUNDS: bool = true;
override SPLIT: bool = false;
override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // a code of src/ops/activation.ts
override MICRO: u32 = 8u; // 4 or 8: one or two 4×4 blocks per dimension
override TILE_K: u32 = 16u; // 8 or 16
override BUFFERS: u32 = 2u; // 1 or 2

// batchShape, aStrides, bStrides: see setBatch in shaders/matmul_edges.wgsl; splits: K ranges per matrix.
struct Params {
  M: u32, N: u32, K: u32, kChunk: u32, splits: u32,
  batchShape: array<vec4<u32>, 2>, aStrides: array<vec4<u32>, 2>, bStrides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> aScalars: array<f32>;
@group(0) @binding(6) var<storage, read> bScalars: array<f32>;

// [buffer][k][TILE/4] vec4s: row k of a slab holds TILE consecutive rows of op(A) (or columns of op(B)).
var<workgroup> tileA: array<vec4<f32>, BUFFERS * TILE_K * MICRO * 4u>;
var<workgroup> tileB: array<vec4<f32>, BUFFERS * TILE_K * MICRO * 4u>;

// fourA/fourB (shaders/matmul_quads.wgsl) and scalarA/scalarB, setBatch (shaders/matmul_edges.wgsl) are appended.

// The 4×4 block `blk` of a slab: 8 consecutive blocks along m (or n) per k-quad, so a quarter-subgroup's stores
// cover 8 consecutive vec4s of one k-row. Returns (quad along m or n, quad along k).
fn blockAt(blk: u32) -> vec2<u32> {
  let kQuads = TILE_K / 4u;
  return vec2((blk % 8u) + 8u * (blk / (8u * kQuads)), (blk / 8u) % kQuads);
}

// Column c of the result: the four values along m (or n) at k = 4·kq + c of the block.
fn loadBlockA(blk: u32, rowBase: u32, k0: u32, kEnd: u32) -> mat4x4<f32> {
  let at = blockAt(blk);
  let m = rowBase + at.x * 4u;
  let k = k0 + at.y * 4u;
  if (TRANSPOSE_A) {
    return mat4x4(fourA(m, k, kEnd), fourA(m, k + 1u, kEnd), fourA(m, k + 2u, kEnd), fourA(m, k + 3u, kEnd));
  }
  // Rows m..m+3 come along k: transposed in registers.
  return transpose(mat4x4(fourA(m, k, kEnd), fourA(m + 1u, k, kEnd), fourA(m + 2u, k, kEnd), fourA(m + 3u, k, kEnd)));
}

fn loadBlockB(blk: u32, colBase: u32, k0: u32, kEnd: u32) -> mat4x4<f32> {
  let at = blockAt(blk);
  let n = colBase + at.x * 4u;
  let k = k0 + at.y * 4u;
  if (TRANSPOSE_B) {
    return transpose(mat4x4(fourB(k, n, kEnd), fourB(k, n + 1u, kEnd), fourB(k, n + 2u, kEnd), fourB(k, n + 3u, kEnd)));
  }
  return mat4x4(fourB(k, n, kEnd), fourB(k + 1u, n, kEnd), fourB(k + 2u, n, kEnd), fourB(k + 3u, n, kEnd));
}

// Invocations [0, BLOCKS) stage A's blocks, [BLOCKS, 2·BLOCKS) B's; BLOCKS is a multiple of 32, so the split falls
// between subgroups.
fn loadSlab(flat: u32, rowBase: u32, colBase: u32, k0: u32, kEnd: u32) -> mat4x4<f32> {
  let blocks = TILE_K * MICRO;
  if (flat < blocks) { return loadBlockA(flat, rowBase, k0, kEnd); }
  if (flat < 2u * blocks) { return loadBlockB(flat - blocks, colBase, k0, kEnd); }
  return mat4x4<f32>();
}

fn storeSlab(flat: u32, staged: mat4x4<f32>, buffer: u32) {
  let blocks = TILE_K * MICRO;
  let quads = MICRO * 4u;
  let at = blockAt(flat % blocks);
  let base = (buffer * TILE_K + at.y * 4u) * quads + at.x;
  if (flat < blocks) {
    tileA[base] = staged[0]; tileA[base + quads] = staged[1];
    tileA[base + 2u * quads] = staged[2]; tileA[base + 3u * quads] = staged[3];
  } else if (flat < 2u * blocks) {
    tileB[base] = staged[0]; tileB[base + quads] = staged[1];
    tileB[base + 2u * quads] = staged[2]; tileB[base + 3u * quads] = staged[3];
  }
}

// acc[i] += a[i] · b: one 4×4 block of outputs, row i of it in acc[i].
fn outer(acc: ptr<function, array<vec4<f32>, 4>>, a: vec4<f32>, b: vec4<f32>) {
  (*acc)[0] = fma(vec4(a.x), b, (*acc)[0]);
  (*acc)[1] = fma(vec4(a.y), b, (*acc)[1]);
  (*acc)[2] = fma(vec4(a.z), b, (*acc)[2]);
  (*acc)[3] = fma(vec4(a.w), b, (*acc)[3]);
}

// Bias and activation of one output, read only inside the matrix.
fn finish(v: f32, col: u32) -> f32 {
  if (SPLIT) { return v; }
  var r = v;
  if (HAS_BIAS) { r += bias[min(col, params.N - 1u)]; }
  return activate(r);
}

fn storeRow(slab: u32, row: u32, col: u32, v: vec4<f32>) {
  if (CHECK_BOUNDS && (row >= params.M || col >= params.N)) { return; }
  let r = vec4(finish(v.x, col), finish(v.y, col + 1u), finish(v.z, col + 2u), finish(v.w, col + 3u));
  storeQuad(slab + row * params.N, col, r);
}

fn storeBlock(slab: u32, row: u32, col: u32, acc: array<vec4<f32>, 4>) {
  storeRow(slab, row, col, acc[0]);
  storeRow(slab, row + 1u, col, acc[1]);
  storeRow(slab, row + 2u, col, acc[2]);
  storeRow(slab, row + 3u, col, acc[3]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) flat: u32) {
  let tile = 16u * MICRO;
  let quads = MICRO * 4u;
  let rowBase = wid.y * tile;
  let colBase = wid.x * tile;
  let lane = flat % 32u;
  let warp = flat / 32u;
  let tx = (warp % 2u) * 8u + lane % 8u;
  let ty = (warp / 2u) * 4u + lane / 8u;
  setBatch(wid.z / params.splits);
  let kBegin = (wid.z % params.splits) * params.kChunk;
  let kEnd = min(params.K, kBegin + params.kChunk);
  let steps = (kEnd - kBegin + TILE_K - 1u) / TILE_K;
  // accPQ: the block at rows p·64 + 4·ty, columns q·64 + 4·tx (p, q = 1 only when MICRO = 8).
  var acc00: array<vec4<f32>, 4>;
  var acc01: array<vec4<f32>, 4>;
  var acc10: array<vec4<f32>, 4>;
  var acc11: array<vec4<f32>, 4>;

  var staged = loadSlab(flat, rowBase, colBase, kBegin, kEnd);
  for (var step = 0u; step < steps; step++) {
    var buffer = 0u;
    if (BUFFERS == 2u) {
      buffer = step % 2u;
      if (step == 0u) {
        storeSlab(flat, staged, 0u);
        workgroupBarrier();
      }
      // The next slab's loads are in flight while this one is computed.
      if (step + 1u < steps) { staged = loadSlab(flat, rowBase, colBase, kBegin + (step + 1u) * TILE_K, kEnd); }
    } else {
      if (step > 0u) { staged = loadSlab(flat, rowBase, colBase, kBegin + step * TILE_K, kEnd); }
      storeSlab(flat, staged, 0u);
      workgroupBarrier();
    }
    for (var k = 0u; k < TILE_K; k++) {
      let row = (buffer * TILE_K + k) * quads;
      let a0 = tileA[row + ty];
      let b0 = tileB[row + tx];
      outer(&acc00, a0, b0);
      if (MICRO == 8u) {
        let a1 = tileA[row + 16u + ty];
        let b1 = tileB[row + 16u + tx];
        outer(&acc01, a0, b1);
        outer(&acc10, a1, b0);
        outer(&acc11, a1, b1);
      }
    }
    // Double-buffered: the other buffer was last read before the previous barrier, so it can be overwritten now.
    if (BUFFERS == 2u && step + 1u < steps) { storeSlab(flat, staged, 1u - buffer); }
    workgroupBarrier();
  }

  // Matrix z of out: a batch entry, or (SPLIT, one matrix) a slab of partial sums.
  let slab = wid.z * params.M * params.N;
  let row0 = rowBase + 4u * ty;
  let col0 = colBase + 4u * tx;
  storeBlock(slab, row0, col0, acc00);
  if (MICRO == 8u) {
    storeBlock(slab, row0, col0 + 64u, acc01);
    storeBlock(slab, row0 + 64u, col0, acc10);
    storeBlock(slab, row0 + 64u, col0 + 64u, acc11);
  }
}
