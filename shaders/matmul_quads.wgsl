// Vec4 reads of the tiled matmul kernels (shaders/matmul.wgsl, shaders/matmul_warp.wgsl), appended to their source.
// The kernel declares a, b as vec4 arrays, params {M, N, K}, CHECK_BOUNDS, TRANSPOSE_A/B and VEC_A/B; scalarA and
// scalarB (shaders/matmul_edges.wgsl) serve the unaligned case.

// Four consecutive elements of `line` (a row or column of the tile) along the operand's contiguous dimension.
fn fourA(m: u32, k: u32, kEnd: u32) -> vec4<f32> {
  if (TRANSPOSE_A) {
    // m..m+3 at k; with VEC_A, M % 4 == 0 so the vec4 is wholly inside or outside.
    if (VEC_A) {
      if (CHECK_BOUNDS && (m >= params.M || k >= kEnd)) { return vec4(0.0); }
      return a[(aBase + k * params.M + m) / 4u];
    }
    return vec4(scalarA(m, k, kEnd), scalarA(m + 1u, k, kEnd), scalarA(m + 2u, k, kEnd), scalarA(m + 3u, k, kEnd));
  }
  // k..k+3 at m; with VEC_A, K % 4 == 0 and split ranges are multiples of 4.
  if (VEC_A) {
    if (CHECK_BOUNDS && (m >= params.M || k >= kEnd)) { return vec4(0.0); }
    return a[(aBase + m * params.K + k) / 4u];
  }
  return vec4(scalarA(m, k, kEnd), scalarA(m, k + 1u, kEnd), scalarA(m, k + 2u, kEnd), scalarA(m, k + 3u, kEnd));
}

fn fourB(k: u32, n: u32, kEnd: u32) -> vec4<f32> {
  if (TRANSPOSE_B) {
    // k..k+3 at n.
    if (VEC_B) {
      if (CHECK_BOUNDS && (n >= params.N || k >= kEnd)) { return vec4(0.0); }
      return b[(bBase + n * params.K + k) / 4u];
    }
    return vec4(scalarB(k, n, kEnd), scalarB(k + 1u, n, kEnd), scalarB(k + 2u, n, kEnd), scalarB(k + 3u, n, kEnd));
  }
  // n..n+3 at k.
  if (VEC_B) {
    if (CHECK_BOUNDS && (n >= params.N || k >= kEnd)) { return vec4(0.0); }
    return b[(bBase + k * params.N + n) / 4u];
  }
  return vec4(scalarB(k, n, kEnd), scalarB(k, n + 1u, kEnd), scalarB(k, n + 2u, kEnd), scalarB(k, n + 3u, kEnd));
}
