// Matrix-vector product with subgroup reductions, for lines contiguous along k (the ROW_DOT layout of gemv.wgsl):
//   y[j] = act(Σ_k v[k] · mat[j·K + k] + bias), for M = 1 with B transposed, or N = 1 with A untransposed.
// Needs the `subgroups` feature; only chosen where `rt.tune()` measured it faster than gemv.wgsl.
// Bindings: mat, x (the vector v), bias (read; any read buffer when HAS_BIAS is off), out (write),
//   params {J, K, biasStride} (biasStride 1: one bias per output; 0: bias[0] for all).
// Grid: ceil(J / 64) workgroups of 64 invocations on the 2-D grid of shaders/prelude.wgsl; workgroup w (its
// workgroupIndex) owns lines 64·w … 64·w + 63.
// Each subgroup computes the lines named by its own members' local indices, one after another: for each, its lanes
// read consecutive k (coalesced) and subgroupAdd combines them. That covers every line exactly once whatever the
// subgroup size or the way invocations are grouped, and needs no workgroup memory or barriers. Every lane runs the
// k loop the same number of times (a lane past K adds 0), so the subgroup is converged at subgroupAdd without
// relying on the driver to reconverge after a divergent loop.

enable subgroups;
// The line index comes from a shuffle, so it is the same in every lane, which the analysis cannot see.
diagnostic(off, subgroup_uniformity);

override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // a code of src/ops/activation.ts
// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.

struct Params { J: u32, K: u32, biasStride: u32 }

@group(0) @binding(0) var<storage, read> mat: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32,
        @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) width: u32) {
  for (var r = 0u; r < width; r++) {
    let j = workgroupIndex(wid, nwg) * 64u + subgroupShuffle(local, r);
    if (j >= params.J) { continue; }
    var partial = 0.0;
    for (var k0 = 0u; k0 < params.K; k0 += width) {
      let k = k0 + lane;
      if (k < params.K) { partial = fma(mat[j * params.K + k], x[k], partial); }
    }
    let total = subgroupAdd(partial);
    if (lane == r) {
      var v = total;
      if (HAS_BIAS) { v += bias[j * params.biasStride]; }
      out[j] = activate(v);
    }
  }
}
