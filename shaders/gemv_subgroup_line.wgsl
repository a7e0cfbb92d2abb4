// Matrix-vector product with one line per subgroup, for lines contiguous along k (the ROW_DOT layout of gemv.wgsl):
//   y[j] = act(Σ_k v[k] · mat[j·K + k] + bias), for M = 1 with B transposed, or N = 1 with A untransposed.
// Needs the `subgroups` feature; a `rt.tune()` candidate, never a default.
// Bindings: mat, x (the vector v) as vec4 arrays and matScalars, xScalars as f32 views of the same buffers, bias
//   (read; any read buffer when HAS_BIAS is off), out (write), params {J, K, biasStride} (biasStride 1: one bias per
//   output; 0: bias[0] for all).
// Grid: ceil(J / LINES) workgroups of 64 invocations on the 2-D grid of shaders/prelude.wgsl; workgroup w (its
//   workgroupIndex) owns lines LINES·w … LINES·w + LINES − 1.
// Invocation i names line ⌊i·LINES / 64⌋ of its workgroup, and each subgroup computes the lines its members name.
// Whatever the grouping, every line is computed (by every subgroup that names it: the same value); with subgroups
// of 64 / LINES consecutive invocations, as NVIDIA's 32 for LINES = 2, each subgroup computes exactly one line. Its
// lanes read the line in vec4s (VEC: K % 4 == 0), four independent loads per lane in flight, every lane running the
// same number of iterations (lanes past the end add nothing), and subgroupAdd combines them.

enable subgroups;
// The line index is the same in every lane of a subgroup (it comes from a shuffle with a uniform lane), which the
// analysis cannot see.
diagnostic(off, subgroup_uniformity);

override VEC: bool = false;
override LINES: u32 = 2u;
override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // a code of src/ops/activation.ts
// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.

struct Params { J: u32, K: u32, biasStride: u32 }

@group(0) @binding(0) var<storage, read> mat: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> matScalars: array<f32>;
@group(0) @binding(6) var<storage, read> xScalars: array<f32>;

// Σ over this lane's share of line j: quads q = lane, lane + width, … (VEC), else elements.
fn lanePartial(j: u32, lane: u32, width: u32) -> f32 {
  if (VEC) {
    let quads = params.K / 4u;
    let line = j * quads;
    var acc0 = vec4(0.0);
    var acc1 = vec4(0.0);
    var acc2 = vec4(0.0);
    var acc3 = vec4(0.0);
    for (var q0 = 0u; q0 < quads; q0 += 4u * width) {
      let q = q0 + lane;
      if (q < quads) { acc0 = fma(mat[line + q], x[q], acc0); }
      if (q + width < quads) { acc1 = fma(mat[line + q + width], x[q + width], acc1); }
      if (q + 2u * width < quads) { acc2 = fma(mat[line + q + 2u * width], x[q + 2u * width], acc2); }
      if (q + 3u * width < quads) { acc3 = fma(mat[line + q + 3u * width], x[q + 3u * width], acc3); }
    }
    let acc = (acc0 + acc1) + (acc2 + acc3);
    return (acc.x + acc.y) + (acc.z + acc.w);
  }
  var acc = 0.0;
  for (var k0 = 0u; k0 < params.K; k0 += width) {
    let k = k0 + lane;
    if (k < params.K) { acc = fma(matScalars[j * params.K + k], xScalars[k], acc); }
  }
  return acc;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32,
        @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) width: u32) {
  let named = local * LINES / 64u;
  for (var r = 0u; r < width; r++) {
    let l = subgroupShuffle(named, r);
    // Members that name the line of the member before them add nothing new.
    if (r > 0u && subgroupShuffle(named, r - 1u) == l) { continue; }
    let j = workgroupIndex(wid, nwg) * LINES + l;
    if (j >= params.J) { continue; }
    let total = subgroupAdd(lanePartial(j, lane, width));
    if (lane == r) {
      var v = total;
      if (HAS_BIAS) { v += bias[j * params.biasStride]; }
      out[j] = activate(v);
    }
  }
}
