// A scaled sum over the middle axis of x viewed as [outer, reduce, inner] (shaders/reduce.wgsl's `columns` entry
// with OP = SUM), four neighbouring outputs per invocation when inner % 4 == 0: the bias and norm-parameter
// gradients of a training step. Each output adds its rows in the same order as there, so the results are the same.
// Why: on SwiftShader each lane's read is a gather of its own, and a vec4's costs about half of four floats'.
// Bindings: x (read), out (write), as vec4 arrays; params {outer, reduce, inner, scale} as in reduce.wgsl.
// Grid: the 64-wide grid of shaders/prelude.wgsl over outer · inner / 4 invocations; invocation q writes outputs
// 4q..4q+3.

struct Params { outer: u32, reduce: u32, inner: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let q = flatIndex(wid, nwg, lid);
  let quads = params.inner / 4u;
  if (q >= params.outer * quads) { return; }
  let base = (q / quads) * params.reduce * quads + q % quads;
  var sum = vec4<f32>(0.0);
  for (var r = 0u; r < params.reduce; r++) { sum += x[base + r * quads]; }
  out[q] = sum * params.scale;
}
