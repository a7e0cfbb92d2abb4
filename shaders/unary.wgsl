// Unary elementwise kernel over a flat f32 array, specialised by the override OP.
// Bindings: x (read), out (write), params {size, alpha}.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) computes out[i] = f(x[i], alpha);
// invocations past `size` return.
// The op codes (RELU, TANH, …) are generated from the table in src/ops/elementwise.ts and appended to this source.

override OP: u32 = 0u;

struct Params { size: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn applyUnary(v: f32, alpha: f32) -> f32 {
  switch OP {
    case RELU: { return max(v, 0.0); }
    case TANH: { return safeTanh(v); }
    case EXP: { return exp(v); }
    case LOG: { return log(v); }
    case NEG: { return -v; }
    case SCALE: { return v * alpha; }
    case SQUARE: { return v * v; }
    default: { return unknownOpCode(); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  out[i] = applyUnary(x[i], params.alpha);
}
