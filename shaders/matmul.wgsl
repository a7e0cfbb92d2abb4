// Register-blocked tiled matmul: out[M,N] = act(op(A) · op(B) + bias), op transposing per TRANSPOSE_A / TRANSPOSE_B.
//   A is stored [M,K] (or [K,M]), B is [K,N] (or [N,K]); row-major f32, bound as vec4 so aligned reads are 16 bytes.
// Bindings: a, b, bias (read; bias is any read buffer when HAS_BIAS is off), out (write), params {M, N, K, kChunk,
//   splits, batchShape, aStrides, bStrides}, aScalars, bScalars (a and b again, as f32 arrays).
// Grid: (ceil(N / TILE), ceil(M / TILE), batch · splits) workgroups of 16×16 invocations, TILE = 16·MICRO (64 or 128).
// One invocation computes a MICRO×MICRO block of out (rows ty·MICRO.., columns tx·MICRO..) of batch entry
// z / splits over k in [s·kChunk, (s+1)·kChunk), s = z % splits. Each step stages a TILE×TILE_K slab of op(A)
// and a TILE_K×TILE slab of op(B) in workgroup memory, k-major, so the inner loop reads MICRO/4 vec4s of each per k. With SPLIT it writes the raw
// partial sum to slab z of out ([splits, M, N]) and no epilogue.
// Global reads are vec4 along each operand's contiguous dimension, whichever transpose: a transposed operand costs
// four scalar workgroup stores per vec4 instead of one, never a slower global read.

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
// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.
override MICRO: u32 = 8u; // 4 or 8
override TILE_K: u32 = 8u; // TILE_K · MICRO ≥ 64, so each invocation stages whole vec4s

// batchShape, aStrides, bStrides: see setBatch in shaders/matmul_edges.wgsl; splits: K ranges per matrix.
struct Params {
  M: u32, N: u32, K: u32, kChunk: u32, splits: u32,
  batchShape: array<vec4<u32>, 2>, aStrides: array<vec4<u32>, 2>, bStrides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
// The same buffers as a and b, seen as scalars for unaligned reads: indexing into a vec4 at run time compiles to
// code so large that SwiftShader takes seconds per pipeline.
@group(0) @binding(5) var<storage, read> aScalars: array<f32>;
@group(0) @binding(6) var<storage, read> bScalars: array<f32>;

// [k][TILE/4] vec4s: row k of the slab holds TILE consecutive rows of op(A) (or columns of op(B)).
var<workgroup> tileA: array<vec4<f32>, TILE_K * MICRO * 4u>;
var<workgroup> tileB: array<vec4<f32>, TILE_K * MICRO * 4u>;

// scalarA() and scalarB(), the bounds-checked element reads, are shaders/matmul_edges.wgsl, appended.

// fourA() and fourB(), the vec4 reads along each operand's contiguous dimension, are shaders/matmul_quads.wgsl.

// Stages both slabs for k0.. ; invocation `flat` moves TILE_K·MICRO/64 vec4s of each.
fn stage(flat: u32, rowBase: u32, colBase: u32, k0: u32, kEnd: u32) {
  let quads = TILE_K * MICRO * 4u;
  let lineQuads = MICRO * 4u; // TILE / 4
  for (var e = flat; e < quads; e += 256u) {
    if (TRANSPOSE_A) {
      // Consecutive invocations read consecutive m: one 16-byte store each.
      let k = e / lineQuads;
      let mq = e % lineQuads;
      tileA[k * lineQuads + mq] = fourA(rowBase + mq * 4u, k0 + k, kEnd);
    } else {
      let m = e / (TILE_K / 4u);
      let kq = (e % (TILE_K / 4u)) * 4u;
      let v = fourA(rowBase + m, k0 + kq, kEnd);
      for (var c = 0u; c < 4u; c++) { tileA[(kq + c) * lineQuads + m / 4u][m % 4u] = v[c]; }
    }
    if (TRANSPOSE_B) {
      let n = e / (TILE_K / 4u);
      let kq = (e % (TILE_K / 4u)) * 4u;
      let v = fourB(k0 + kq, colBase + n, kEnd);
      for (var c = 0u; c < 4u; c++) { tileB[(kq + c) * lineQuads + n / 4u][n % 4u] = v[c]; }
    } else {
      let k = e / lineQuads;
      let nq = e % lineQuads;
      tileB[k * lineQuads + nq] = fourB(k0 + k, colBase + nq * 4u, kEnd);
    }
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let tile = 16u * MICRO;
  let lineQuads = MICRO * 4u;
  let quadsPerThread = MICRO / 4u;
  let rowBase = wid.y * tile;
  let colBase = wid.x * tile;
  setBatch(wid.z / params.splits);
  let kBegin = (wid.z % params.splits) * params.kChunk;
  let kEnd = min(params.K, kBegin + params.kChunk);
  // acc[i * 2 + q] = out row ty·MICRO + i, columns tx·MICRO + 4q .. +3 (sized for MICRO = 8).
  var acc: array<vec4<f32>, 16>;

  for (var k0 = kBegin; k0 < kEnd; k0 += TILE_K) {
    stage(flat, rowBase, colBase, k0, kEnd);
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      var bq: array<vec4<f32>, 2>;
      for (var q = 0u; q < quadsPerThread; q++) { bq[q] = tileB[k * lineQuads + lid.x * quadsPerThread + q]; }
      for (var p = 0u; p < quadsPerThread; p++) {
        let av = tileA[k * lineQuads + lid.y * quadsPerThread + p];
        for (var i = 0u; i < 4u; i++) {
          for (var q = 0u; q < quadsPerThread; q++) {
            acc[(p * 4u + i) * 2u + q] = fma(vec4(av[i]), bq[q], acc[(p * 4u + i) * 2u + q]);
          }
        }
      }
    }
    workgroupBarrier();
  }

  // Matrix z of out: a batch entry, or (SPLIT, one matrix) a slab of partial sums.
  let slab = wid.z * params.M * params.N;
  for (var i = 0u; i < MICRO; i++) {
    let row = rowBase + lid.y * MICRO + i;
    for (var q = 0u; q < quadsPerThread; q++) {
      for (var j = 0u; j < 4u; j++) {
        let col = colBase + lid.x * MICRO + q * 4u + j;
        if (!CHECK_BOUNDS || (row < params.M && col < params.N)) {
          var v = acc[i * 2u + q][j];
          if (!SPLIT) {
            if (HAS_BIAS) { v += bias[col]; }
            v = activate(v);
          }
          out[slab + row * params.N + col] = v;
        }
      }
    }
  }
}
