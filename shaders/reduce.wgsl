// Sum over the middle axis of a tensor viewed as [outer, reduce, inner], scaled: out[o, i] = scale · Σ_r x[o, r, i].
// Sum over all elements is outer = inner = 1; over the rows of [m, n] it is outer = 1, reduce = m, inner = n.
// Bindings: x (read), out (write), params {outer, reduce, inner, scale}.
// Both entries add in a fixed order, so a result does not change from run to run.
//
// Grids follow shaders/prelude.wgsl:
// main, for long reductions over few outputs: one workgroup per output, w = workgroupIndex(…). Its 64
//   invocations each sum a strided share of the reduced axis, then workgroupSum adds the 64 partial sums.
// columns, for many outputs side by side (the bias gradient, a sum over the rows of [m, n]): the 64-wide grid,
//   invocation o = flatIndex(…) computes output o alone, walking the reduced axis; neighbouring invocations read
//   neighbouring addresses, and there are no barriers.

struct Params { outer: u32, reduce: u32, inner: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = workgroupIndex(wid, nwg);
  let outputs = params.outer * params.inner;
  // The whole workgroup leaves together, so the barriers below stay uniform.
  if (o >= outputs) { return; }
  let base = (o / params.inner) * params.reduce * params.inner + o % params.inner;
  var sum = 0.0;
  for (var r = lid.x; r < params.reduce; r += WORKGROUP_SIZE) {
    sum += x[base + r * params.inner];
  }
  let total = workgroupSum(&scratch, sum, lid.x);
  if (lid.x == 0u) { out[o] = total * params.scale; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn columns(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = flatIndex(wid, nwg, lid);
  if (o >= params.outer * params.inner) { return; }
  let base = (o / params.inner) * params.reduce * params.inner + o % params.inner;
  var sum = 0.0;
  for (var r = 0u; r < params.reduce; r++) {
    sum += x[base + r * params.inner];
  }
  out[o] = sum * params.scale;
}
