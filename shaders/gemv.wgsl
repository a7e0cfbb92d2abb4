// Matrix-vector product for a matmul with one output row or column: y[j] = act(Σ_k v[k] · L(j, k) + bias).
//   M = 1: v is A's only row, L(j, k) = op(B)(k, j).  N = 1: v is B's only column, L(j, k) = op(A)(j, k).
//   `mat` holds L either k-contiguous (ROW_DOT: L(j,k) at j·K + k) or j-contiguous (L(j,k) at k·J + j).
// Bindings: mat, x (the vector v), bias (read; bias is any read buffer when HAS_BIAS is off), out (write),
//   params {J, K, biasStride, kChunk} (biasStride 1: one bias per output; 0: bias[0] for all).
// Grid: ceil(J / 64) workgroups of 16×16 invocations on the 2-D grid of shaders/prelude.wgsl (x ≤ 65535, y the
// rest; workgroupIndex numbers them), times `splits` in z.
// Invocation (x, y) of workgroup g accumulates outputs j0..j0+3 (j0 = 4·(16·g + x)) over the k in slice y (every
// 16th vec4, or every 16th k for j-contiguous) of the range [z·kChunk, (z+1)·kChunk), then the 16 slices are summed
// in workgroup memory in a fixed order. With SPLIT, range z writes its raw sums to row z of out ([splits, J]) for
// matmul_splitk_sum: more workgroups than J / 64 alone gives, to fill a large GPU.

override ROW_DOT: bool = false;
// The contiguous dimension of `mat` is a multiple of 4.
override VEC: bool = false;
override SPLIT: bool = false;
override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // a code of src/ops/activation.ts
// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.

struct Params { J: u32, K: u32, biasStride: u32, kChunk: u32 }

@group(0) @binding(0) var<storage, read> mat: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const SLICES = 16u;
var<workgroup> partial: array<array<vec4<f32>, 16>, SLICES>; // [slice][x]

// The end of this workgroup's k range.
var<private> kEnd: u32;

fn element(j: u32, k: u32) -> f32 {
  if (j >= params.J || k >= kEnd) { return 0.0; }
  let i = select(k * params.J + j, j * params.K + k, ROW_DOT);
  return mat[i / 4u][i % 4u];
}

fn vecAt(k: u32) -> f32 {
  if (k >= kEnd) { return 0.0; }
  return x[k];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let j0 = (workgroupIndex(wid, nwg) * 16u + lid.x) * 4u;
  let kBegin = wid.z * params.kChunk;
  kEnd = min(params.K, kBegin + params.kChunk);
  var acc = vec4(0.0);
  if (ROW_DOT) {
    // Four output lines, each dotted with v four k at a time.
    for (var k = kBegin + lid.y * 4u; k < kEnd; k += SLICES * 4u) {
      let v = vec4(vecAt(k), vecAt(k + 1u), vecAt(k + 2u), vecAt(k + 3u));
      for (var r = 0u; r < 4u; r++) {
        var line: vec4<f32>;
        if (VEC) {
          if (j0 + r < params.J) { line = mat[((j0 + r) * params.K + k) / 4u]; } else { line = vec4(0.0); }
        } else {
          line = vec4(element(j0 + r, k), element(j0 + r, k + 1u), element(j0 + r, k + 2u), element(j0 + r, k + 3u));
        }
        acc[r] += dot(v, line);
      }
    }
  } else {
    // Sixteen invocations in x read 256 consecutive bytes of one k-row of `mat`.
    for (var k = kBegin + lid.y; k < kEnd; k += SLICES) {
      var line: vec4<f32>;
      if (VEC) {
        if (j0 < params.J) { line = mat[(k * params.J + j0) / 4u]; } else { line = vec4(0.0); }
      } else {
        line = vec4(element(j0, k), element(j0 + 1u, k), element(j0 + 2u, k), element(j0 + 3u, k));
      }
      acc = fma(vec4(x[k]), line, acc);
    }
  }
  partial[lid.y][lid.x] = acc;
  workgroupBarrier();
  if (lid.y != 0u) { return; }
  var total = partial[0][lid.x];
  for (var s = 1u; s < SLICES; s++) { total += partial[s][lid.x]; }
  for (var r = 0u; r < 4u; r++) {
    let j = j0 + r;
    if (j < params.J && SPLIT) {
      out[wid.z * params.J + j] = total[r];
    } else if (j < params.J) {
      var v = total[r];
      if (HAS_BIAS) { v += bias[j * params.biasStride]; }
      out[j] = activate(v);
    }
  }
}
