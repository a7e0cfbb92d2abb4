// Concat: copies one input into its band of the output along one axis. Concat dispatches it once per input;
// stack is the same copy with each input an extent-1 band of a new axis.
// Bindings: x (read), out (write), params {size, extent, inner, total, offset}: x seen as [outer, extent, inner]
// (size = outer · extent · inner), out as [outer, total, inner]; x's band starts at `offset` along the middle.
// Grid: the 64-wide grid of shaders/prelude.wgsl, no barriers; invocation e = flatIndex(…) copies x[e] to its
// place in out. The bands of all inputs tile the output, so every element is written exactly once.

struct Params { size: u32, extent: u32, inner: u32, total: u32, offset: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.size) { return; }
  let i = e % params.inner;
  let r = (e / params.inner) % params.extent;
  let o = e / (params.inner * params.extent);
  out[(o * params.total + params.offset + r) * params.inner + i] = x[e];
}
