// Bounds-checked element reads and batch offsets shared by the blocked matmul kernels, appended to their source.
// The kernel declares params {M, N, K, splits, batchShape, aStrides, bStrides}, CHECK_BOUNDS, TRANSPOSE_A/B, and
// f32 views aScalars/bScalars of its operands.

// Where this invocation's matrices of A and B start, in elements: set once by setBatch before any read.
var<private> aBase: u32;
var<private> bBase: u32;

fn batchStep(s: ptr<function, vec3<u32>>, dim: u32, strideA: u32, strideB: u32) {
  let i = (*s).x % dim;
  *s = vec3((*s).x / dim, (*s).y + i * strideA, (*s).z + i * strideB);
}

// Decodes the output's batch index into each operand's offset. The batch dimensions (merged where both operands
// step alike, padded on the left with 1s to eight) carry per-operand strides, 0 along a broadcast dimension.
// Constant component indices only: a run-time index into a vector costs SwiftShader seconds of compilation.
fn setBatch(batch: u32) {
  var s = vec3(batch, 0u, 0u);
  let d1 = params.batchShape[1]; let a1 = params.aStrides[1]; let b1 = params.bStrides[1];
  batchStep(&s, d1.w, a1.w, b1.w); batchStep(&s, d1.z, a1.z, b1.z);
  batchStep(&s, d1.y, a1.y, b1.y); batchStep(&s, d1.x, a1.x, b1.x);
  let d0 = params.batchShape[0]; let a0 = params.aStrides[0]; let b0 = params.bStrides[0];
  batchStep(&s, d0.w, a0.w, b0.w); batchStep(&s, d0.z, a0.z, b0.z);
  batchStep(&s, d0.y, a0.y, b0.y); batchStep(&s, d0.x, a0.x, b0.x);
  aBase = s.y;
  bBase = s.z;
}

// Reads outside the matrix give 0. Branch-free (the element at 0 is read instead, then dropped): SwiftShader
// compiles every branch of an inlined helper into masked code, and sixteen of them took it seconds per pipeline.
fn scalarA(m: u32, k: u32, kEnd: u32) -> f32 {
  let inside = !CHECK_BOUNDS || ((m < params.M) & (k < kEnd));
  let i = select(m * params.K + k, k * params.M + m, TRANSPOSE_A);
  return select(0.0, aScalars[aBase + select(0u, i, inside)], inside);
}

fn scalarB(k: u32, n: u32, kEnd: u32) -> f32 {
  let inside = !CHECK_BOUNDS || ((k < kEnd) & (n < params.N));
  let i = select(k * params.N + n, n * params.K + k, TRANSPOSE_B);
  return select(0.0, bScalars[bBase + select(0u, i, inside)], inside);
}
