// One-hot encoding: out[i, c] = 1 where c == indices[i], else 0. Indices arrive as f32 class numbers.
// Bindings: indices (read), out (write), dims {m, n}.
// Grid: (x, y) workgroups of 64 invocations, x ≤ 65535; invocation e = (wid.y * num_workgroups.x + wid.x) * 64 + lid.x
// writes element e of out [m, n].

struct Dims { m: u32, n: u32 }

@group(0) @binding(0) var<storage, read> indices: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = (wid.y * nwg.x + wid.x) * 64u + lid.x;
  if (e >= dims.m * dims.n) { return; }
  let cls = indices[e / dims.n];
  out[e] = select(0.0, 1.0, u32(cls) == e % dims.n && cls >= 0.0);
}
