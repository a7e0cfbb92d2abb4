// The unary kernel (shaders/unary.wgsl), one element per invocation.
// Bindings: x (read), out (write), params (see there).
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) computes out[i] = f(x[i], alpha, beta);
// invocations past `size` return.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  out[i] = applyUnary(x[i], params.alpha, params.beta);
}
