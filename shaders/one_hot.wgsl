// One-hot encoding: out[i, c] = 1 where c == indices[i], else 0. Indices arrive as f32 class numbers; an index equal
// to `ignore`, or outside [0, n), gives a row of zeros (a position that adds nothing to a loss).
// Bindings: indices (read), out (write), params {m, n, ignore}.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation e = flatIndex(…) writes element e of out [m, n].

struct Params { m: u32, n: u32, ignore: f32 }

@group(0) @binding(0) var<storage, read> indices: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.m * params.n) { return; }
  let cls = indices[e / params.n];
  out[e] = select(0.0, 1.0, u32(cls) == e % params.n && cls >= 0.0 && cls != params.ignore);
}
