// Gather and its gradient, a scatter-add written as a gather so that it is deterministic.
// a is seen as [outer, extent, inner] around the gathered axis; the `count` indices arrive as f32 values.
//
// main     bindings a (read), indices (read), out (write), params {size, count, extent, inner}; out is
//          [outer, count, inner]: out[o, j, i] = a[o, indices[j], i]. An index that is not an integer in
//          [0, extent) (possible only for indices given as a GPU tensor, which cannot be checked without a
//          readback) makes NaN, and nothing outside `a` is read.
// The gradient g [outer, count, inner] → out [outer, extent, inner]: out[o, r, i] = Σ_{j: indices[j] = r} g[o, j, i],
// summed by one invocation per output element over its own matches only, in the order j = 0, 1, …, with no
// atomics: repeated indices accumulate and the result is bit-identical from run to run. A bad index matches no r.
// Both ways of finding the matches visit the same terms in the same order, so they give the same bits.
// scatter_sorted  bindings g (read), starts (read), positions (read), out (write), params {size, count, extent,
//          inner}: row r's matches are positions[starts[r] .. starts[r + 1]), ascending, made on the host (a
//          counting sort) when the indices were given as numbers.
// first_match, next_match, scatter_linked  for indices given as a GPU tensor, which the host cannot invert:
//          first_match (bindings indices, head; one invocation per row r) sets head[r] to the first j with
//          indices[j] = r, next_match (bindings indices, next; one invocation per position j) sets next[j] to the
//          next j' > j with the same index, both END (0xffffffff) when there is none; scatter_linked (bindings g,
//          head, next, out) walks each row's chain. O(extent · count + count² + size), not O(size · count).
// Grid: the 64-wide grid of shaders/prelude.wgsl, one invocation per output element (per row, per position for the
// two linking passes), no barriers.

struct Params { size: u32, count: u32, extent: u32, inner: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> starts: array<f32>;
@group(0) @binding(6) var<storage, read> positions: array<f32>;
@group(0) @binding(7) var<storage, read_write> head: array<u32>;
@group(0) @binding(8) var<storage, read_write> next: array<u32>;

const END = 0xffffffffu;

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

@compute @workgroup_size(WORKGROUP_SIZE)
fn first_match(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = flatIndex(wid, nwg, lid);
  if (r >= params.extent) { return; }
  var first = END;
  for (var j = 0u; j < params.count; j++) {
    if (indices[j] == f32(r)) { first = j; break; }
  }
  head[r] = first;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn next_match(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = flatIndex(wid, nwg, lid);
  if (j >= params.count) { return; }
  var following = END;
  for (var k = j + 1u; k < params.count; k++) {
    if (indices[k] == indices[j]) { following = k; break; }
  }
  next[j] = following;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter_linked(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.size) { return; }
  let i = e % params.inner;
  let r = (e / params.inner) % params.extent;
  let o = e / (params.inner * params.extent);
  var acc = 0.0;
  // next[j] > j always, so the walk ends.
  for (var j = head[r]; j < params.count; j = next[j]) {
    acc += g[(o * params.count + j) * params.inner + i];
  }
  out[e] = acc;
}
