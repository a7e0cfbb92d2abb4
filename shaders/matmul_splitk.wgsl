// Second pass of split-K matmul: out[i] = act(Σ_s partials[s·M·N + i] + bias[i % N]), s = 0, 1, … in order,
// so the result is the same on every run.
// Bindings: partials, bias (read; bias is any read buffer when HAS_BIAS is off), out (write), params {M, N, splits}.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) computes out[i]; invocations past
// M·N return.

override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // a code of src/ops/activation.ts
// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.

struct Params { M: u32, N: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  let size = params.M * params.N;
  if (i >= size) { return; }
  var v = 0.0;
  for (var s = 0u; s < params.splits; s++) { v += partials[s * size + i]; }
  if (HAS_BIAS) { v += bias[i % params.N]; }
  out[i] = activate(v);
}
