// Matmul with no workgroup memory and up to 16×8 outputs per invocation: out[M,N] = act(op(A)·op(B) + bias), op
//   transposing per TRANSPOSE_A / TRANSPOSE_B. A is stored [M,K] (or [K,M]), B is [K,N] (or [N,K]); row-major f32.
// Bindings and params: shaders/matmul_blocked.wgsl.
// Grid: (ceil(N / (BLOCK_N·WG_X)), ceil(M / (BLOCK_M·WG_Y)), batch · splits) workgroups of WG_X×WG_Y invocations,
//   BLOCK_M = 4·ROW_TILES, BLOCK_N = WIDE ? 8 : 4.
// One invocation computes a BLOCK_M×BLOCK_N block of out (of batch entry z / splits, over the k range of split
// z % splits) as one to eight 4×4 tiles; each step of 4 along k is one mat4x4 product per tile. With SPLIT it writes
// the raw partial sum to slab z of out ([splits, M, N]) and no epilogue.
// Why: on SwiftShader the loads bound this kernel, not the arithmetic (each lane's vec4 read is four gathers, each
// bounds-checked), and an 8×8 block does four multiply-adds per float read where a 4×4 block does two, a 16×8 block
// 5.3 (bench/NOTES.md: 16×8 ran the MLP's 784-wide products 17–19% faster than 8×8 in Chromium).

// Overrides, not uniforms: SwiftShader would run both paths of a uniform branch.
// Row tiles per invocation: 1, 2 or 4 (blocks of 4, 8 or 16 rows).
override ROW_TILES: u32 = 2u;
override WIDE: bool = true;
override WG_X: u32 = 4u;
override WG_Y: u32 = 4u;

// The params, bindings, operand reads, store() and storeRow() are shaders/matmul_blocked.wgsl, appended.

// The 4×4 tile of A at rows m..m+3, k..k+3, transposed: column i is A(m+i, k..k+3).
fn tileA(m: u32, k: u32, kEnd: u32) -> mat4x4<f32> {
  if (TRANSPOSE_A) {
    return transpose(mat4x4(colA(m, k, kEnd), colA(m, k + 1u, kEnd), colA(m, k + 2u, kEnd), colA(m, k + 3u, kEnd)));
  }
  return mat4x4(rowA(m, k, kEnd), rowA(m + 1u, k, kEnd), rowA(m + 2u, k, kEnd), rowA(m + 3u, k, kEnd));
}

// The 4×4 tile of B at k..k+3, columns n..n+3, transposed: column j is B(k+j, n..n+3).
fn tileB(k: u32, n: u32, kEnd: u32) -> mat4x4<f32> {
  if (TRANSPOSE_B) {
    return transpose(mat4x4(colB(k, n, kEnd), colB(k, n + 1u, kEnd), colB(k, n + 2u, kEnd), colB(k, n + 3u, kEnd)));
  }
  return mat4x4(rowB(k, n, kEnd), rowB(k + 1u, n, kEnd), rowB(k + 2u, n, kEnd), rowB(k + 3u, n, kEnd));
}

// Column i of a tile accumulator is out row m+i, columns n..n+3. Constant indices only: a run-time index into a
// matrix would spill it to memory on SwiftShader.
fn storeTile(m: u32, n: u32, slab: u32, t: mat4x4<f32>) {
  storeRow(m, n, slab, t[0]);
  storeRow(m + 1u, n, slab, t[1]);
  storeRow(m + 2u, n, slab, t[2]);
  storeRow(m + 3u, n, slab, t[3]);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.y * 4u * ROW_TILES;
  let c0 = gid.x * select(4u, 8u, WIDE);
  let r1 = r0 + 4u;
  let r2 = r0 + 8u;
  let r3 = r0 + 12u;
  let c1 = c0 + 4u;
  if (CHECK_BOUNDS && (r0 >= params.M || c0 >= params.N)) { return; }
  setBatch(gid.z / params.splits);
  let kBegin = (gid.z % params.splits) * params.kChunk;
  let kEnd = min(params.K, kBegin + params.kChunk);
  // accIJ: the tile at rows r_I, columns c_J. Tiles outside the block stay zero and are never stored.
  var acc00 = mat4x4<f32>();
  var acc01 = mat4x4<f32>();
  var acc10 = mat4x4<f32>();
  var acc11 = mat4x4<f32>();
  var acc20 = mat4x4<f32>();
  var acc21 = mat4x4<f32>();
  var acc30 = mat4x4<f32>();
  var acc31 = mat4x4<f32>();
  for (var k = kBegin; k < kEnd; k += 4u) {
    // (B tileᵀ)·(A tileᵀ) = (A tile · B tile)ᵀ: column i of the product is out row i of the tile.
    let a0 = tileA(r0, k, kEnd);
    let b0 = tileB(k, c0, kEnd);
    acc00 += b0 * a0;
    if (WIDE) {
      let b1 = tileB(k, c1, kEnd);
      acc01 += b1 * a0;
      if (ROW_TILES >= 2u) {
        let a1 = tileA(r1, k, kEnd);
        acc10 += b0 * a1;
        acc11 += b1 * a1;
      }
      if (ROW_TILES == 4u) {
        let a2 = tileA(r2, k, kEnd);
        acc20 += b0 * a2;
        acc21 += b1 * a2;
        let a3 = tileA(r3, k, kEnd);
        acc30 += b0 * a3;
        acc31 += b1 * a3;
      }
    } else {
      if (ROW_TILES >= 2u) { acc10 += b0 * tileA(r1, k, kEnd); }
      if (ROW_TILES == 4u) {
        acc20 += b0 * tileA(r2, k, kEnd);
        acc30 += b0 * tileA(r3, k, kEnd);
      }
    }
  }
  // Matrix z of out: a batch entry, or (SPLIT, one matrix) a slab of partial sums.
  let slab = gid.z * params.M * params.N;
  storeTile(r0, c0, slab, acc00);
  if (WIDE) { storeTile(r0, c1, slab, acc01); }
  if (ROW_TILES >= 2u) { storeTile(r1, c0, slab, acc10); }
  if (WIDE && ROW_TILES >= 2u) { storeTile(r1, c1, slab, acc11); }
  if (ROW_TILES == 4u) {
    storeTile(r2, c0, slab, acc20);
    storeTile(r3, c0, slab, acc30);
  }
  if (WIDE && ROW_TILES == 4u) {
    storeTile(r2, c1, slab, acc21);
    storeTile(r3, c1, slab, acc31);
  }
}
