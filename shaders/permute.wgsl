// Permute whose innermost axis stays innermost and is a multiple of 4 long: out[i] = x[ix] on vec4s, where ix follows
// x's strides (in vec4s, output order) through the output's shape with its last dimension divided by 4.
// Bindings: x (read), out (write), params {size, shape, strides}: size in vec4s; shape and strides padded to rank 8.
// HIGH_DIMS (an override) is false when out has rank ≤ 4: the upper four dimensions are not unravelled.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) writes vec4 i of out.
// Why: the element-wise strided copy (broadcast.wgsl) unravels every element's index, one emulated division per
// dimension on SwiftShader; here one unravelling serves four elements.

override HIGH_DIMS: bool = true;

struct Params { size: u32, shape: Index8, strides: Index8 }

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  var coords: Index8;
  if (HIGH_DIMS) { coords = unravelIndex(i, params.shape); } else { coords = unravelIndexLow(i, params.shape); }
  out[i] = x[stridedOffset(coords, params.strides)];
}
