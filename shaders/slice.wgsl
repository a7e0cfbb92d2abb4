// Slice: reads a box of x into a dense output; the VJP of pad, and how split and the VJPs of concat and stack
// take their pieces back.
// Bindings: x (read), out (write), params {size, base, shape, strides}: `shape` is the box's extents (8 dimensions
// as array<vec4<u32>, 2>, padded on the left with extent 1), `strides` x's row-major strides (0 where padded),
// `base` the flat index of the box's corner in x.
// Grid: the 64-wide grid of shaders/prelude.wgsl, no barriers; invocation i = flatIndex(…) writes
// out[i] = x[base + Σ_d coord_d(i) · strides_d], where coord(i) are i's coordinates in the box.

const KERNEL_RANK = 8u;

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

struct SliceParams { size: u32, base: u32, shape: array<vec4<u32>, 2>, strides: array<vec4<u32>, 2> }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: SliceParams;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  var rest = i;
  var ix = params.base;
  for (var d = KERNEL_RANK; d > 0u; d--) {
    let extent = dim(params.shape, d - 1u);
    ix += (rest % extent) * dim(params.strides, d - 1u);
    rest = rest / extent;
  }
  out[i] = x[ix];
}
