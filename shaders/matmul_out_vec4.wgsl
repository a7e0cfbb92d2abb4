// The output of shaders/matmul_warp.wgsl when N % 4 == 0: one 16-byte store per four columns. Appended to its source.

@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

// Columns col..col+3 of the row that starts at element rowStart; the caller has checked col < N, and N % 4 == 0.
fn storeQuad(rowStart: u32, col: u32, v: vec4<f32>) {
  out[(rowStart + col) / 4u] = v;
}
