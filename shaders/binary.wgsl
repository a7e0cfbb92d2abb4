// Binary elementwise kernel with NumPy broadcasting, specialised by the override OP.
// Grid: (x, y) workgroups of 64 invocations, x ≤ 65535; invocation i = (wid.y * num_workgroups.x + wid.x) * 64 + lid.x.
// One invocation computes out[i] = f(a[ia], b[ib]); invocations past `size` return.
// Bindings: a, b (read), out (write), params {size, shape, aStrides, bStrides}.
//   shape and strides are padded to rank 4; a stride of 0 repeats the operand along that dimension.

override OP: u32 = 0u;

const ADD = 0u;
const SUB = 1u;
const MUL = 2u;
const DIV = 3u;
const RELU_GRAD = 4u;   // a = upstream gradient, b = relu input
const TANH_GRAD = 5u;   // a = upstream gradient, b = tanh output
const GELU_GRAD = 6u;   // a = upstream gradient, b = gelu input (the tanh form of GELU)

struct Params { size: u32, shape: vec4<u32>, aStrides: vec4<u32>, bStrides: vec4<u32> }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * 64u + lid.x;
}

fn applyBinary(u: f32, v: f32) -> f32 {
  switch OP {
    case ADD: { return u + v; }
    case SUB: { return u - v; }
    case MUL: { return u * v; }
    case DIV: { return u / v; }
    case RELU_GRAD: { return select(0.0, u, v > 0.0); }
    case TANH_GRAD: { return u * (1.0 - v * v); }
    case GELU_GRAD: {
      let t = tanh(clamp(0.7978845608 * (v + 0.044715 * v * v * v), -20.0, 20.0));
      return u * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * 0.7978845608 * (1.0 + 0.134145 * v * v));
    }
    default: { return u; }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  let p = params;
  if (i >= p.size) { return; }
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = 3i; d >= 0i; d--) {
    let coord = rest % p.shape[d];
    rest = rest / p.shape[d];
    ia += coord * p.aStrides[d];
    ib += coord * p.bStrides[d];
  }
  out[i] = applyBinary(a[ia], b[ib]);
}
