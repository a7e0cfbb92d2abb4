// What the no-workgroup-memory matmul kernels share (matmul_direct.wgsl, matmul_register.wgsl; either is prepended
// to this file, and shaders/matmul_edges.wgsl and the activation code are appended): the overrides that describe
// the problem, the params, the bindings, the operand reads and the epilogue store.
// Bindings: a, b (as vec4), bias (read; any read buffer when HAS_BIAS is off), out (write), params {M, N, K, kChunk,
//   splits, batchShape, aStrides, bStrides}, aScalars, bScalars (a and b again, as f32 arrays for unaligned reads).

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
// The operand's contiguous dimension is a multiple of 4, so a vec4 read never straddles a row.
override VEC_A: bool = false;
override VEC_B: bool = false;
// Off only when M, N and K are multiples of the block, so no read or write can fall outside.
override CHECK_BOUNDS: bool = true;
override SPLIT: bool = false;
override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // a code of src/ops/activation.ts

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

// scalarA(), scalarB() and setBatch() are shaders/matmul_edges.wgsl, appended.

// The vec4 reads below have no branches: SwiftShader runs a read behind a bounds branch as masked code, which measured
// 2–3× slower over a whole kernel. A row or column past the matrix is clamped into it instead (its outputs are never
// stored), and a k past the range reads as zeros, so that it adds nothing to the sums.

// A(m, k..k+3) for A stored [M,K]; VEC_A means K % 4 == 0, so k + 3 < kEnd.
fn rowA(m: u32, k: u32, kEnd: u32) -> vec4<f32> {
  if (VEC_A) {
    let row = select(m, min(m, params.M - 1u), CHECK_BOUNDS);
    return a[(aBase + row * params.K + k) / 4u];
  }
  return vec4(scalarA(m, k, kEnd), scalarA(m, k + 1u, kEnd), scalarA(m, k + 2u, kEnd), scalarA(m, k + 3u, kEnd));
}

// A(m..m+3, k) for A stored [K,M]; VEC_A means M % 4 == 0.
fn colA(m: u32, k: u32, kEnd: u32) -> vec4<f32> {
  if (VEC_A) {
    if (!CHECK_BOUNDS) { return a[(aBase + k * params.M + m) / 4u]; }
    let v = a[(aBase + min(k, kEnd - 1u) * params.M + min(m, params.M - 4u)) / 4u];
    return select(vec4(0.0), v, k < kEnd);
  }
  return vec4(scalarA(m, k, kEnd), scalarA(m + 1u, k, kEnd), scalarA(m + 2u, k, kEnd), scalarA(m + 3u, k, kEnd));
}

// B(k, n..n+3) for B stored [K,N]; VEC_B means N % 4 == 0.
fn rowB(k: u32, n: u32, kEnd: u32) -> vec4<f32> {
  if (VEC_B) {
    if (!CHECK_BOUNDS) { return b[(bBase + k * params.N + n) / 4u]; }
    let v = b[(bBase + min(k, kEnd - 1u) * params.N + min(n, params.N - 4u)) / 4u];
    return select(vec4(0.0), v, k < kEnd);
  }
  return vec4(scalarB(k, n, kEnd), scalarB(k, n + 1u, kEnd), scalarB(k, n + 2u, kEnd), scalarB(k, n + 3u, kEnd));
}

// B(k..k+3, n) for B stored [N,K]; VEC_B means K % 4 == 0, so k + 3 < kEnd.
fn colB(k: u32, n: u32, kEnd: u32) -> vec4<f32> {
  if (VEC_B) {
    let column = select(n, min(n, params.N - 1u), CHECK_BOUNDS);
    return b[(bBase + column * params.K + k) / 4u];
  }
  return vec4(scalarB(k, n, kEnd), scalarB(k + 1u, n, kEnd), scalarB(k + 2u, n, kEnd), scalarB(k + 3u, n, kEnd));
}

fn store(row: u32, col: u32, slab: u32, value: f32) {
  if (CHECK_BOUNDS && (row >= params.M || col >= params.N)) { return; }
  var v = value;
  if (!SPLIT) {
    if (HAS_BIAS) { v += bias[col]; }
    v = activate(v);
  }
  out[slab + row * params.N + col] = v;
}

fn storeRow(row: u32, n: u32, slab: u32, v: vec4<f32>) {
  store(row, n, slab, v.x);
  store(row, n + 1u, slab, v.y);
  store(row, n + 2u, slab, v.z);
  store(row, n + 3u, slab, v.w);
}
