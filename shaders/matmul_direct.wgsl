// Matmul with no workgroup memory: out[M,N] = act(op(A) · op(B) + bias), op transposing per TRANSPOSE_A / TRANSPOSE_B.
//   A is stored [M,K] (or [K,M]), B is [K,N] (or [N,K]); row-major f32, bound as vec4 so aligned reads are 16 bytes.
// Bindings: a, b, bias (read; bias is any read buffer when HAS_BIAS is off), out (write), dims {M, N, K, kChunk}.
// Grid: (ceil(N / (4·WG_X)), ceil(M / (4·WG_Y)), splits) workgroups of WG_X×WG_Y invocations.
// One invocation computes a 4×4 block of out over k in [z·kChunk, (z+1)·kChunk), reading each operand as four vec4s
// per step of 4 along k. With SPLIT it writes the raw partial sum to slab z of out ([splits, M, N]) and no epilogue.
// No barriers and no shared staging: software rasterisers (SwiftShader) run this several times faster than tiled code.

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
// The operand's contiguous dimension is a multiple of 4, so a vec4 read never straddles a row.
override VEC_A: bool = false;
override VEC_B: bool = false;
// Off only when M, N and K are multiples of the block, so no read or write can fall outside.
override CHECK_BOUNDS: bool = true;
override SPLIT: bool = false;
override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // 0 identity, 1 relu, 2 tanh, 3 gelu
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Dims { M: u32, N: u32, K: u32, kChunk: u32 }

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

fn scalarA(m: u32, k: u32, kEnd: u32) -> f32 {
  if (CHECK_BOUNDS && (m >= dims.M || k >= kEnd)) { return 0.0; }
  let i = select(m * dims.K + k, k * dims.M + m, TRANSPOSE_A);
  return a[i / 4u][i % 4u];
}

fn scalarB(k: u32, n: u32, kEnd: u32) -> f32 {
  if (CHECK_BOUNDS && (k >= kEnd || n >= dims.N)) { return 0.0; }
  let i = select(k * dims.N + n, n * dims.K + k, TRANSPOSE_B);
  return b[i / 4u][i % 4u];
}

// Rows r0..r0+3 of op(A) at k..k+3: element [i][c] = A(r0+i, k+c).
fn blockA(r0: u32, k: u32, kEnd: u32) -> mat4x4<f32> {
  var rows: mat4x4<f32>;
  if (VEC_A && !TRANSPOSE_A) {
    // K % 4 == 0 and kEnd ≤ K is a multiple of 4 or K itself, so the k range never splits a vec4.
    for (var i = 0u; i < 4u; i++) {
      let m = r0 + i;
      if (!CHECK_BOUNDS || (m < dims.M && k < kEnd)) { rows[i] = a[(m * dims.K + k) / 4u]; }
    }
  } else if (VEC_A && TRANSPOSE_A) {
    // Stored [K,M] with M % 4 == 0: read four k-rows of four m each, then transpose in registers.
    var t: mat4x4<f32>;
    for (var c = 0u; c < 4u; c++) {
      if (!CHECK_BOUNDS || (r0 < dims.M && k + c < kEnd)) { t[c] = a[((k + c) * dims.M + r0) / 4u]; }
    }
    rows = transpose(t);
  } else {
    for (var i = 0u; i < 4u; i++) {
      rows[i] = vec4(scalarA(r0 + i, k, kEnd), scalarA(r0 + i, k + 1u, kEnd), scalarA(r0 + i, k + 2u, kEnd), scalarA(r0 + i, k + 3u, kEnd));
    }
  }
  return rows;
}

// op(B) at k..k+3, columns c0..c0+3: element [c][j] = B(k+c, c0+j).
fn blockB(c0: u32, k: u32, kEnd: u32) -> mat4x4<f32> {
  var rows: mat4x4<f32>;
  if (VEC_B && !TRANSPOSE_B) {
    for (var c = 0u; c < 4u; c++) {
      if (!CHECK_BOUNDS || (c0 < dims.N && k + c < kEnd)) { rows[c] = b[((k + c) * dims.N + c0) / 4u]; }
    }
  } else if (VEC_B && TRANSPOSE_B) {
    // Stored [N,K] with K % 4 == 0: the transposed operand keeps 16-byte reads, along k.
    var t: mat4x4<f32>;
    for (var j = 0u; j < 4u; j++) {
      let n = c0 + j;
      if (!CHECK_BOUNDS || (n < dims.N && k < kEnd)) { t[j] = b[(n * dims.K + k) / 4u]; }
    }
    rows = transpose(t);
  } else {
    for (var c = 0u; c < 4u; c++) {
      rows[c] = vec4(scalarB(k + c, c0, kEnd), scalarB(k + c, c0 + 1u, kEnd), scalarB(k + c, c0 + 2u, kEnd), scalarB(k + c, c0 + 3u, kEnd));
    }
  }
  return rows;
}

fn activate(v: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(v, 0.0); }
    case 2u: { return tanh(clamp(v, -20.0, 20.0)); }
    // The tanh form of GELU; the clamp keeps tanh finite where |inner| is large.
    case 3u: { return 0.5 * v * (1.0 + tanh(clamp(0.7978845608 * (v + 0.044715 * v * v * v), -20.0, 20.0))); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.y * 4u;
  let c0 = gid.x * 4u;
  if (CHECK_BOUNDS && (r0 >= dims.M || c0 >= dims.N)) { return; }
  let kBegin = gid.z * dims.kChunk;
  let kEnd = min(dims.K, kBegin + dims.kChunk);
  var acc: mat4x4<f32>; // acc[i] = out row r0+i, columns c0..c0+3
  for (var k = kBegin; k < kEnd; k += 4u) {
    let ab = blockA(r0, k, kEnd);
    let bb = blockB(c0, k, kEnd);
    for (var i = 0u; i < 4u; i++) {
      acc[i] = fma(vec4(ab[i][0]), bb[0], acc[i]);
      acc[i] = fma(vec4(ab[i][1]), bb[1], acc[i]);
      acc[i] = fma(vec4(ab[i][2]), bb[2], acc[i]);
      acc[i] = fma(vec4(ab[i][3]), bb[3], acc[i]);
    }
  }
  let slab = select(0u, gid.z * dims.M * dims.N, SPLIT);
  for (var i = 0u; i < 4u; i++) {
    let row = r0 + i;
    for (var j = 0u; j < 4u; j++) {
      let col = c0 + j;
      if (!CHECK_BOUNDS || (row < dims.M && col < dims.N)) {
        var v = acc[i][j];
        if (!SPLIT) {
          if (HAS_BIAS) { v += bias[col]; }
          v = activate(v);
        }
        out[slab + row * dims.N + col] = v;
      }
    }
  }
}
