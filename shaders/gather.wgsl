// Gather and its gradient, a scatter-add written as a gather so that it is deterministic.
// a is seen as [outer, extent, inner] around the gathered axis; the `count` indices arrive as f32 values.
//
// main     bindings a (read), indices (read), out (write), params {size, count, extent, inner}; out is
//          [outer, count, inner]: out[o, j, i] = a[o, indices[j], i]. An index that is not an integer in
//          [0, extent) (possible only for indices given as a GPU tensor, which cannot be checked without a
//          readback) makes NaN, and nothing outside `a` is read.
// scatter  bindings g (read), indices (read), out (write), params {size, count, extent, inner}; g is
//          [outer, count, inner], out [outer, extent, inner]: out[o, r, i] = Σ_{j: indices[j] = r} g[o, j, i],
//          summed in the order j = 0, 1, … by one invocation per output element, with no atomics, so repeated
//          indices accumulate and the result is bit-identical from run to run. A bad index matches no r.
// scatter_sorted  bindings g (read), starts (read), positions (read), out (write), params as scatter: the same sums
//          over only the matches of row r, positions[starts[r] .. starts[r + 1]) (ascending j, made on the host when
//          the indices are), so each invocation loops over its own matches instead of every index; same terms in
//          the same order as scatter, so the same bits.
// Grid: the 64-wide grid of shaders/prelude.wgsl, one invocation per output element, no barriers.

struct Params { size: u32, count: u32, extent: u32, inner: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> starts: array<f32>;
@group(0) @binding(6) var<storage, read> positions: array<f32>;

fn badIndex() -> f32 {
  // Through a var: a constant NaN would be a shader-creation error.
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.size) { return; }
  let i = e % params.inner;
  let j = (e / params.inner) % params.count;
  let o = e / (params.inner * params.count);
  let index = indices[j];
  if (!(index >= 0.0 && index < f32(params.extent) && floor(index) == index)) {
    out[e] = badIndex();
    return;
  }
  out[e] = a[(o * params.extent + u32(index)) * params.inner + i];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.size) { return; }
  let i = e % params.inner;
  let r = f32((e / params.inner) % params.extent);
  let o = e / (params.inner * params.extent);
  var acc = 0.0;
  for (var j = 0u; j < params.count; j++) {
    if (indices[j] == r) { acc += g[(o * params.count + j) * params.inner + i]; }
  }
  out[e] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter_sorted(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.size) { return; }
  let i = e % params.inner;
  let r = (e / params.inner) % params.extent;
  let o = e / (params.inner * params.extent);
  var acc = 0.0;
  for (var p = u32(starts[r]); p < u32(starts[r + 1u]); p++) {
    acc += g[(o * params.count + u32(positions[p])) * params.inner + i];
  }
  out[e] = acc;
}
