// Tiled matmul: out[M,N] = op(A) · op(B), where op transposes when TRANSPOSE_A / TRANSPOSE_B is set.
//   A is stored [M,K] (or [K,M] when transposed), B is [K,N] (or [N,K]); all row-major f32.
// Bindings: a, b (read), out (write), dims {M, N, K}.
// Grid: (ceil(N / 64), ceil(M / 64)) workgroups of 16×16 invocations.
// One invocation computes a 4×4 block of out, from 64×16 and 16×64 operand tiles staged in workgroup memory.
// Reads outside the matrices load zero and writes outside are dropped, so any M, N, K ≥ 1 is correct.

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;

struct Dims { M: u32, N: u32, K: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

const TILE = 64u;
const TILE_K = 16u;
const MICRO = 4u;

// Both tiles are stored k-major, so the inner loop reads four consecutive rows or columns.
var<workgroup> tileA: array<array<f32, TILE>, TILE_K>;
var<workgroup> tileB: array<array<f32, TILE>, TILE_K>;

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= dims.M || k >= dims.K) { return 0.0; }
  if (TRANSPOSE_A) { return a[k * dims.M + m]; }
  return a[m * dims.K + k];
}

fn loadB(k: u32, n: u32) -> f32 {
  if (k >= dims.K || n >= dims.N) { return 0.0; }
  if (TRANSPOSE_B) { return b[n * dims.K + k]; }
  return b[k * dims.N + n];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let rowBase = wid.y * TILE;
  let colBase = wid.x * TILE;
  var acc: array<array<f32, MICRO>, MICRO>;

  for (var k0 = 0u; k0 < dims.K; k0 += TILE_K) {
    // 256 invocations stage 1024 elements of each tile, four each.
    for (var i = 0u; i < 4u; i++) {
      let e = flat + i * 256u;
      // Consecutive invocations walk the dimension that is contiguous in memory, so loads coalesce.
      if (TRANSPOSE_A) {
        let m = e % TILE; let k = e / TILE;
        tileA[k][m] = loadA(rowBase + m, k0 + k);
      } else {
        let k = e % TILE_K; let m = e / TILE_K;
        tileA[k][m] = loadA(rowBase + m, k0 + k);
      }
      if (TRANSPOSE_B) {
        let k = e % TILE_K; let n = e / TILE_K;
        tileB[k][n] = loadB(k0 + k, colBase + n);
      } else {
        let n = e % TILE; let k = e / TILE;
        tileB[k][n] = loadB(k0 + k, colBase + n);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      var av: array<f32, MICRO>;
      var bv: array<f32, MICRO>;
      for (var i = 0u; i < MICRO; i++) {
        av[i] = tileA[k][lid.y * MICRO + i];
        bv[i] = tileB[k][lid.x * MICRO + i];
      }
      for (var i = 0u; i < MICRO; i++) {
        for (var j = 0u; j < MICRO; j++) {
          acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < MICRO; i++) {
    let row = rowBase + lid.y * MICRO + i;
    for (var j = 0u; j < MICRO; j++) {
      let col = colBase + lid.x * MICRO + j;
      if (row < dims.M && col < dims.N) {
        out[row * dims.N + col] = acc[i][j];
      }
    }
  }
}
