// Unary elementwise ops over a flat f32 array, specialised by the override OP: what the two entry files share
// (shaders/unary_f32.wgsl, one element per invocation, and unary_vec4.wgsl, four; one of them is appended).
// Params {size, alpha, beta}: the element count and the op's constants (a scale, an exponent, clamp's bounds),
// unused by most ops.
// The op codes (RELU, TANH, …) are generated from the table in src/ops/elementwise.ts and appended to this source.

override OP: u32 = 0u;

struct Params { size: u32, alpha: f32, beta: f32 }


fn applyUnary(v: f32, alpha: f32, beta: f32) -> f32 {
  switch OP {
    case RELU: { return max(v, 0.0); }
    case TANH: { return safeTanh(v); }
    case EXP: { return exp(v); }
    case LOG: { return log(v); }
    case NEG: { return -v; }
    case SCALE: { return v * alpha; }
    case SQUARE: { return v * v; }
    case SIGMOID: { return sigmoid(v); }
    case GELU: { return gelu(v); }
    case SILU: { return v * sigmoid(v); }
    case SOFTPLUS: { return max(v, 0.0) + log1p(exp(-abs(v))); }
    case SQRT: { return sqrt(v); }
    case RSQRT: { return inverseSqrt(v); }
    case ABS: { return abs(v); }
    case SIN: { return sinCos(v).x; }
    case COS: { return sinCos(v).y; }
    case POW: { return powNumPy(v, alpha); }
    // min/max rather than WGSL's clamp, which is undefined when the bounds cross and differs on NaN.
    case CLAMP: { return min(max(v, alpha), beta); }
    case LEAKY_RELU: { return select(alpha * v, v, v > 0.0); }
    // Derivatives used by VJPs (the gradient is multiplied in by a binary op), not differentiated themselves.
    case CLAMP_GRAD_MASK: { return select(0.0, 1.0, v > alpha && v < beta); }
    case LEAKY_RELU_SLOPE: { return select(alpha, 1.0, v > 0.0); }
    default: { return unknownOpCode(); }
  }
}

// log(1 + u) for u ≥ 0. WGSL has no log1p, and its log is only good to an absolute 2⁻²¹ near 1, which would
// swamp a small u; below 0.01 the series is exact to float32 (the first term left out is u⁵/5 < 2⁻³³·u).
fn log1p(u: f32) -> f32 {
  if (u < 0.01) { return u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - u * 0.25))); }
  return log(1.0 + u);
}

// (sin v, cos v) to about an ulp for |v| up to 8192. WGSL only bounds its built-ins' absolute error by 2⁻¹¹,
// and SwiftShader's are off by up to 2·10⁻⁴ (measured), so they are computed here instead: v = k·π/2 + r with
// |r| ≤ π/4, π/2 split in three parts short enough that k times each is exact, then Taylor series in r (the
// first terms left out are below 10⁻¹¹), rotated by the quadrant k mod 4.
fn sinCos(v: f32) -> vec2<f32> {
  let k = round(v * 0.63661977236758134);
  let r = ((v - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.549789954891882e-8;
  let z = r * r;
  let s = r + r * z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362880.0 + z * (-1.0 / 39916800.0)))));
  let c = 1.0 + z * (-0.5 + z * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40320.0 + z * (-1.0 / 3628800.0 + z * (1.0 / 479001600.0))))));
  switch (i32(k) & 3) {
    case 0: { return vec2<f32>(s, c); }
    case 1: { return vec2<f32>(c, -s); }
    case 2: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}

fn quietNan() -> f32 {
  // Through a var: a constant NaN would be a shader-creation error.
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// v^e as NumPy computes it: WGSL's pow is exp2(e·log2(v)), NaN for every negative base. An integer exponent goes
// by repeated squaring, which keeps the sign of a negative base (odd powers stay negative); a non-integer
// exponent of a negative base has no real value, so NaN.
fn powNumPy(v: f32, e: f32) -> f32 {
  if (e == 0.0) { return 1.0; }
  if (fract(e) != 0.0) { return select(pow(v, e), quietNan(), v < 0.0); }
  // Past 2²⁴ every float32 is an even integer, so the sign goes and WGSL's pow of |v| is the answer.
  if (abs(e) >= 16777216.0) { return pow(abs(v), e); }
  var n = u32(abs(e));
  var base = v;
  var result = 1.0;
  loop {
    if ((n & 1u) == 1u) { result *= base; }
    n = n >> 1u;
    if (n == 0u) { break; }
    base *= base;
  }
  return select(result, 1.0 / result, e < 0.0);
}
