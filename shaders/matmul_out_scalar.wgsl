// The output of shaders/matmul_warp.wgsl for any N: four scalar stores, each inside the row. Appended to its source.

@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Columns col..col+3 of the row that starts at element rowStart; the caller has checked col < N.
fn storeQuad(rowStart: u32, col: u32, v: vec4<f32>) {
  out[rowStart + col] = v.x;
  if (!CHECK_BOUNDS || col + 1u < params.N) { out[rowStart + col + 1u] = v.y; }
  if (!CHECK_BOUNDS || col + 2u < params.N) { out[rowStart + col + 2u] = v.z; }
  if (!CHECK_BOUNDS || col + 3u < params.N) { out[rowStart + col + 3u] = v.w; }
}
