// The unary kernel (shaders/unary.wgsl), four elements per invocation, when size % 4 == 0.
// Bindings: x (read), out (write), as vec4 arrays; params (see there).
// Grid: the 64-wide grid of shaders/prelude.wgsl over size / 4 invocations; invocation i computes out[4i..4i+3].
// Why: on SwiftShader every lane's read or write is a gather or scatter of its own, and one of a vec4 costs about
// half what four of a float do (bench/NOTES.md).

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size / 4u) { return; }
  let v = x[i];
  let alpha = params.alpha;
  let beta = params.beta;
  out[i] = vec4(applyUnary(v.x, alpha, beta), applyUnary(v.y, alpha, beta), applyUnary(v.z, alpha, beta),
                applyUnary(v.w, alpha, beta));
}
