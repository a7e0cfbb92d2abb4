// Strided copy: out[i] = scale · x[ix], where ix follows x's strides through the output's shape.
// With stride 0 along some dimensions it broadcasts (broadcastTo, and the VJP of a reduction: the gradient of a
// sum is its upstream gradient repeated along the summed axes); with permuted strides it is permute.
// Bindings: x (read), out (write), params {size, shape, strides, scale}; shape and strides padded to rank 8,
// with stride 0 along the broadcast dimensions
// (permute: x's strides in output order).
// HIGH_DIMS (an override) is false when out has rank ≤ 4: the upper four dimensions are not unravelled.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) writes out[i]; invocations past
// `size` return.

override HIGH_DIMS: bool = true;

struct Params { size: u32, shape: Index8, strides: Index8, scale: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  var coords: Index8;
  if (HIGH_DIMS) { coords = unravelIndex(i, params.shape); } else { coords = unravelIndexLow(i, params.shape); }
  let ix = stridedOffset(coords, params.strides);
  out[i] = x[ix] * params.scale;
}
