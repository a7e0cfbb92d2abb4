// Matrix-vector product for a matmul with one output row or column: y[j] = act(Σ_k v[k] · L(j, k) + bias).
//   M = 1: v is A's only row, L(j, k) = op(B)(k, j).  N = 1: v is B's only column, L(j, k) = op(A)(j, k).
//   `mat` holds L either k-contiguous (ROW_DOT: L(j,k) at j·K + k) or j-contiguous (L(j,k) at k·J + j).
// Bindings: mat, x (the vector v), bias (read; bias is any read buffer when HAS_BIAS is off), out (write),
//   params {J, K, biasStride} (biasStride 1: one bias per output; 0: bias[0] for all).
// Grid: (ceil(J / 4 / 16), 1, 1) workgroups of 16×16 invocations.
// Invocation (x, y) accumulates outputs j0..j0+3 (j0 = 4·(16·wid.x + x)) over the k in slice y (every 16th vec4,
// or every 16th k for j-contiguous), then the 16 slices are summed in workgroup memory in a fixed order.

override ROW_DOT: bool = false;
// The contiguous dimension of `mat` is a multiple of 4.
override VEC: bool = false;
override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // a code of src/ops/activation.ts
// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.

struct Params { J: u32, K: u32, biasStride: u32 }

@group(0) @binding(0) var<storage, read> mat: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const SLICES = 16u;
var<workgroup> partial: array<array<vec4<f32>, 16>, SLICES>; // [slice][x]

fn element(j: u32, k: u32) -> f32 {
  if (j >= params.J || k >= params.K) { return 0.0; }
  let i = select(k * params.J + j, j * params.K + k, ROW_DOT);
  return mat[i / 4u][i % 4u];
}

fn vecAt(k: u32) -> f32 {
  if (k >= params.K) { return 0.0; }
  return x[k];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j0 = (wid.x * 16u + lid.x) * 4u;
  var acc = vec4(0.0);
  if (ROW_DOT) {
    // Four output lines, each dotted with v four k at a time.
    for (var k = lid.y * 4u; k < params.K; k += SLICES * 4u) {
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
    for (var k = lid.y; k < params.K; k += SLICES) {
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
    if (j < params.J) {
      var v = total[r];
      if (HAS_BIAS) { v += bias[j * params.biasStride]; }
      out[j] = activate(v);
    }
  }
}
