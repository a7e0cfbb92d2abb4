// Ternary elementwise kernel with NumPy broadcasting of all three operands, specialised by the override OP.
// Bindings: cond, a, b (read), out (write), params {size, shape, condStrides, aStrides, bStrides}; shape and strides
// padded to rank 8 (an Index8 each, see shaders/prelude.wgsl), a stride of 0 repeating the operand along that
// dimension.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) computes out[i] from the three
// operands' elements at their strided indices; invocations past `size` return.
// The op codes (WHERE) are generated from the table in src/ops/where.ts and appended to this source.

override OP: u32 = 0u;
// False when out has rank ≤ 4: the upper four dimensions are not unravelled (an override, see unravelIndexLow).
override HIGH_DIMS: bool = true;

struct Params {
  size: u32,
  shape: Index8,
  condStrides: Index8,
  aStrides: Index8,
  bStrides: Index8,
}

@group(0) @binding(0) var<storage, read> cond: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn applyTernary(c: f32, u: f32, v: f32) -> f32 {
  switch OP {
    // select, not arithmetic on a mask: the branch not taken may hold Inf or NaN and must not leak through.
    case WHERE: { return select(v, u, c != 0.0); }
    default: { return unknownOpCode(); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  var coords: Index8;
  if (HIGH_DIMS) { coords = unravelIndex(i, params.shape); } else { coords = unravelIndexLow(i, params.shape); }
  let c = cond[stridedOffset(coords, params.condStrides)];
  out[i] = applyTernary(c, a[stridedOffset(coords, params.aStrides)], b[stridedOffset(coords, params.bStrides)]);
}
