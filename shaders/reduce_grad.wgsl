// The gradient of max and min over the middle axis of [outer, reduce, inner]: each output's upstream gradient goes
// to the first element of its row equal to the result (the first maximum, or minimum), and 0 to the rest.
// Bindings: x (read, the reduction's input), picked (read, its result), g (read, the upstream gradient; picked and g
// hold outer·inner values), out (write, x's shape), params {outer, reduce, inner}.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation o = flatIndex(…) writes the whole row of output o,
// walking it once with no barriers; invocations past outer·inner return.

struct Params { outer: u32, reduce: u32, inner: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> picked: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = flatIndex(wid, nwg, lid);
  if (o >= params.outer * params.inner) { return; }
  let base = (o / params.inner) * params.reduce * params.inner + o % params.inner;
  let best = picked[o];
  let grad = g[o];
  var found = false;
  for (var r = 0u; r < params.reduce; r++) {
    let at = base + r * params.inner;
    let hit = !found && x[at] == best;
    out[at] = select(0.0, grad, hit);
    found = found || hit;
  }
}
