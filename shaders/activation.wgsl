// The fused epilogue's activation, shared by the matmul family: appended to each kernel's source (after it, so
// that a kernel's `enable` directives stay first). The kernel declares `override ACTIVATION: u32`; the codes
// (IDENTITY, RELU, …) are generated from src/ops/activation.ts and appended with this file.

fn activate(v: f32) -> f32 {
  switch ACTIVATION {
    case IDENTITY: { return v; }
    case RELU: { return max(v, 0.0); }
    case TANH: { return safeTanh(v); }
    case GELU: { return gelu(v); }
    default: { return unknownOpCode(); }
  }
}
