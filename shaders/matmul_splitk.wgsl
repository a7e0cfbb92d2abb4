// Second pass of split-K matmul: out[i] = act(Σ_s partials[s·M·N + i] + bias[i % N]), s = 0, 1, … in order,
// so the result is the same on every run.
// Bindings: partials, bias (read; bias is any read buffer when HAS_BIAS is off), out (write), dims {M, N, splits}.
// Grid: (x, y) workgroups of 64 invocations, x ≤ 65535; invocation i = (wid.y · num_workgroups.x + wid.x) · 64 + lid.x
// computes out[i]; invocations past M·N return.

override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u; // 0 identity, 1 relu, 2 tanh, 3 gelu
// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.

struct Dims { M: u32, N: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid.x;
  let size = dims.M * dims.N;
  if (i >= size) { return; }
  var v = 0.0;
  for (var s = 0u; s < dims.splits; s++) { v += partials[s * size + i]; }
  if (HAS_BIAS) { v += bias[i % dims.N]; }
  out[i] = activate(v);
}
