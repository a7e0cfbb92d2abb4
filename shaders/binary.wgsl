// Binary elementwise ops with NumPy broadcasting, specialised by the override OP: what the two entry files share
// (shaders/binary_f32.wgsl, one element per invocation, and binary_vec4.wgsl, four; one of them is appended).
// Params {size, aPeriod, bPeriod, shape, aStrides, bStrides}:
//   shape and strides are padded to rank 8 (an Index8 each, see shaders/prelude.wgsl); a stride of 0 repeats the
//   operand along that dimension. A_MODE/B_MODE say how an operand is read: 0 through its strides, 1 at i (the
//   same shape as out), 2 at i mod its period (its shape is a trailing part of out's: a bias row, a scalar).
//   HIGH_DIMS is false when out has rank ≤ 4, so the upper four dimensions are not unravelled.
// The op codes (ADD, SUB, …) are generated from the table in src/ops/elementwise.ts and appended to this source.

override OP: u32 = 0u;
// Overrides, not uniforms: SwiftShader runs both sides of a branch on a uniform value (masked), and only folds away
// the side an override constant rules out. Unravelling an index costs an add over [B,T,C] more than the add itself
// there (u32 division is emulated lane by lane).
override A_MODE: u32 = 0u;
override B_MODE: u32 = 0u;
override HIGH_DIMS: bool = true;

struct Params { size: u32, aPeriod: u32, bPeriod: u32, shape: Index8, aStrides: Index8, bStrides: Index8 }


fn applyBinary(u: f32, v: f32) -> f32 {
  switch OP {
    case ADD: { return u + v; }
    case SUB: { return u - v; }
    case MUL: { return u * v; }
    case DIV: { return u / v; }
    // The gradient helpers: u is the upstream gradient, v the op's input (relu, gelu) or output (tanh).
    case RELU_GRAD: { return select(0.0, u, v > 0.0); }
    case TANH_GRAD: { return u * (1.0 - v * v); }
    case GELU_GRAD: { return u * geluDerivative(v); }
    case MAXIMUM: { return max(u, v); }
    case MINIMUM: { return min(u, v); }
    // Comparisons give 1 or 0; they have no gradient.
    case GREATER: { return select(0.0, 1.0, u > v); }
    case GREATER_EQUAL: { return select(0.0, 1.0, u >= v); }
    case LESS: { return select(0.0, 1.0, u < v); }
    case LESS_EQUAL: { return select(0.0, 1.0, u <= v); }
    case EQUAL: { return select(0.0, 1.0, u == v); }
    case SIGMOID_GRAD: { return u * v * (1.0 - v); } // from the output v
    case SILU_GRAD: { let s = sigmoid(v); return u * s * (1.0 + v * (1.0 - s)); }
    case ABS_GRAD: { return select(select(0.0, -u, v < 0.0), u, v > 0.0); }
    // The share of maximum(u, v)'s gradient that u gets: all of it when u wins, half on a tie.
    case MAXIMUM_MASK: { return select(select(0.0, 0.5, u == v), 1.0, u > v); }
    default: { return unknownOpCode(); }
  }
}

fn operandIndex(mode: u32, i: u32, period: u32, coords: Index8, strides: Index8) -> u32 {
  switch mode {
    case 1u: { return i; }
    case 2u: { return i % period; }
    default: { return stridedOffset(coords, strides); }
  }
}
