// Fills a buffer with one value: zeros, ones, and the NaN poison that tests use to catch unwritten outputs.
// Grid: (x, y) workgroups of 64 invocations, x ≤ 65535; invocation i = (wid.y * num_workgroups.x + wid.x) * 64 + lid.x.
// One invocation writes out[i] = value; invocations past `size` return.
// Bindings: out (write), params {size, value}. The value arrives as bits so that NaN survives the upload.

struct Params { size: u32, value: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid.x;
  if (i >= params.size) { return; }
  out[i] = bitcast<f32>(params.value);
}
