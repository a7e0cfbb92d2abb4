// The binary kernel (shaders/binary.wgsl), one element per invocation, any broadcast.
// Bindings: a, b (read), out (write), params (see there).
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) computes out[i] = f(a[ia], b[ib]);
// invocations past `size` return.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  var coords: Index8;
  if (A_MODE == 0u || B_MODE == 0u) {
    if (HIGH_DIMS) { coords = unravelIndex(i, params.shape); } else { coords = unravelIndexLow(i, params.shape); }
  }
  out[i] = applyBinary(a[operandIndex(A_MODE, i, params.aPeriod, coords, params.aStrides)],
                       b[operandIndex(B_MODE, i, params.bPeriod, coords, params.bStrides)]);
}
