// Bounds-checked element reads shared by the blocked matmul kernels, appended to their source. The kernel declares
// params {M, N, K}, CHECK_BOUNDS, TRANSPOSE_A/B, and f32 views aScalars/bScalars of its operands.

// Reads outside the matrix give 0. Branch-free (the element at 0 is read instead, then dropped): SwiftShader
// compiles every branch of an inlined helper into masked code, and sixteen of them took it seconds per pipeline.
fn scalarA(m: u32, k: u32, kEnd: u32) -> f32 {
  let inside = !CHECK_BOUNDS || ((m < params.M) & (k < kEnd));
  let i = select(m * params.K + k, k * params.M + m, TRANSPOSE_A);
  return select(0.0, aScalars[select(0u, i, inside)], inside);
}

fn scalarB(k: u32, n: u32, kEnd: u32) -> f32 {
  let inside = !CHECK_BOUNDS || ((k < kEnd) & (n < params.N));
  let i = select(k * params.N + n, n * params.K + k, TRANSPOSE_B);
  return select(0.0, bScalars[select(0u, i, inside)], inside);
}
