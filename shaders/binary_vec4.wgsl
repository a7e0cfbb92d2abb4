// The binary kernel (shaders/binary.wgsl), four elements per invocation, when size % 4 == 0 and each operand is
// read at i (A_MODE/B_MODE 1) or at i mod a period that is a multiple of 4 (mode 2: a bias row); never through
// strides (mode 0).
// Bindings: a, b (read), out (write), as vec4 arrays; params (see there).
// Grid: the 64-wide grid of shaders/prelude.wgsl over size / 4 invocations; invocation i computes out[4i..4i+3].
// Why: on SwiftShader every lane's read or write is a gather or scatter of its own, and one of a vec4 costs about
// half what four of a float do (bench/NOTES.md).

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;

fn quadIndex(mode: u32, i: u32, period: u32) -> u32 {
  if (mode == 2u) { return i % (period / 4u); }
  return i;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size / 4u) { return; }
  let u = a[quadIndex(A_MODE, i, params.aPeriod)];
  let v = b[quadIndex(B_MODE, i, params.bPeriod)];
  out[i] = vec4(applyBinary(u.x, v.x), applyBinary(u.y, v.y), applyBinary(u.z, v.z), applyBinary(u.w, v.w));
}
