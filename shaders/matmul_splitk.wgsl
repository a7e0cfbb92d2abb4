// Second pass of split-K matmul: out[i] = act(Σ_s partials[s·M·N + i] + bias[i % N]), s = 0, 1, … in order,
// so the result is the same on every run. UNROLL issues the loads of eight slabs before adding them, still in that
// order (the same sums, bit for bit), so that eight reads are in flight instead of one.
// Bindings: partials, bias (read; bias is any read buffer when HAS_BIAS is off), out (write), params {M, N, splits}.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) computes out[i]; invocations past
// M·N return.

override UNROLL: bool = false;
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
  var s = 0u;
  if (UNROLL) {
    for (; s + 8u <= params.splits; s += 8u) {
      let p0 = partials[s * size + i];
      let p1 = partials[(s + 1u) * size + i];
      let p2 = partials[(s + 2u) * size + i];
      let p3 = partials[(s + 3u) * size + i];
      let p4 = partials[(s + 4u) * size + i];
      let p5 = partials[(s + 5u) * size + i];
      let p6 = partials[(s + 6u) * size + i];
      let p7 = partials[(s + 7u) * size + i];
      v += p0; v += p1; v += p2; v += p3; v += p4; v += p5; v += p6; v += p7;
    }
  }
  for (; s < params.splits; s++) { v += partials[s * size + i]; }
  if (HAS_BIAS) { v += bias[i % params.N]; }
  out[i] = activate(v);
}
