// Scalar functions that CPU references share; each has a WGSL twin in shaders/prelude.wgsl.

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); the WGSL twin is `gelu` in shaders/prelude.wgsl. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x ** 3)));
}

/** d gelu/dx; the WGSL twin is `geluDerivative` in shaders/prelude.wgsl. */
export function geluDerivative(x: number): number {
  const t = Math.tanh(GELU_C * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
}

/** The logistic function, from whichever side keeps exp from overflowing; the WGSL twin is `sigmoid` in shaders/prelude.wgsl. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): exp never overflows, and tiny values keep their precision. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
