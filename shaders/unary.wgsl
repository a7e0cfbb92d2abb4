// Unary elementwise kernel over a flat f32 array, specialised by the override OP.
// Grid: (x, y) workgroups of 64 invocations, x ≤ 65535; invocation i = (wid.y * num_workgroups.x + wid.x) * 64 + lid.x.
// One invocation computes out[i] = f(x[i], alpha); invocations past `size` return.
// Bindings: x (read), out (write), params {size, alpha}.

override OP: u32 = 0u;

const RELU = 0u;
const TANH = 1u;
const EXP = 2u;
const LOG = 3u;
const NEG = 4u;
const SCALE = 5u;
const SQUARE = 6u;

struct Params { size: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * 64u + lid.x;
}

fn applyUnary(v: f32, alpha: f32) -> f32 {
  switch OP {
    case RELU: { return max(v, 0.0); }
    // Clamped because tanh(x) overflows in some implementations once |x| passes about 44.
    case TANH: { return tanh(clamp(v, -20.0, 20.0)); }
    case EXP: { return exp(v); }
    case LOG: { return log(v); }
    case NEG: { return -v; }
    case SCALE: { return v * alpha; }
    case SQUARE: { return v * v; }
    default: { return v; }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  out[i] = applyUnary(x[i], params.alpha);
}

