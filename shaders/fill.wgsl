// Fills a buffer with one value: zeros, ones, and the NaN poison that tests use to catch unwritten outputs.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) writes out[i] = value; invocations
// past `size` return.
// Bindings: out (write), params {size, value}. The value arrives as bits so that NaN survives the upload.

struct Params { size: u32, value: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  out[i] = bitcast<f32>(params.value);
}
