// Pad: writes x into a box of a larger output and fills the rest with one value; the VJP of slice.
// Bindings: x (read), out (write), params {size, value, shape, inner, before, strides}: `shape` is the output's,
// `inner` the box's extents (x's shape), `before` the box's corner, `strides` x's row-major strides; all 8
// dimensions as array<vec4<u32>, 2>, padded on the left with extent 1. The value arrives as bits so that NaN
// and −0 survive the upload.
// Grid: the 64-wide grid of shaders/prelude.wgsl, no barriers; invocation i = flatIndex(…) writes out[i]:
// x at i's coordinates less `before` inside the box, the fill value outside it.

const KERNEL_RANK = 8u;

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

struct Params {
  size: u32,
  value: u32,
  shape: array<vec4<u32>, 2>,
  inner: array<vec4<u32>, 2>,
  before: array<vec4<u32>, 2>,
  strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  var rest = i;
  var ix = 0u;
  var inside = true;
  for (var d = KERNEL_RANK; d > 0u; d--) {
    let extent = dim(params.shape, d - 1u);
    let coord = rest % extent;
    rest = rest / extent;
    let before = dim(params.before, d - 1u);
    // Below the corner the subtraction wraps to a huge u32, so one comparison covers both sides of the box.
    let local = coord - before;
    inside = inside && local < dim(params.inner, d - 1u);
    ix += local * dim(params.strides, d - 1u);
  }
  out[i] = select(bitcast<f32>(params.value), x[min(ix, arrayLength(&x) - 1u)], inside);
}
