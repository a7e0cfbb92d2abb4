// The fused epilogue's activation, shared by the matmul family: appended to each kernel's source (after it, so
// that a kernel's `enable` directives stay first). The kernel declares `override ACTIVATION: u32`.
// Codes: 0 identity, 1 relu, 2 tanh, 3 gelu (the tanh form).

fn activate(v: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(v, 0.0); }
    // Clamped because tanh overflows in some implementations once |x| passes about 44.
    case 2u: { return tanh(clamp(v, -20.0, 20.0)); }
    case 3u: { return 0.5 * v * (1.0 + tanh(clamp(0.7978845608 * (v + 0.044715 * v * v * v), -20.0, 20.0))); }
    default: { return v; }
  }
}
