// Matmul with no workgroup memory: out[M,N] = act(op(A) · op(B) + bias), op transposing per TRANSPOSE_A / TRANSPOSE_B.
//   A is stored [M,K] (or [K,M]), B is [K,N] (or [N,K]); row-major f32, bound as vec4 so aligned reads are 16 bytes.
// Bindings and params: shaders/matmul_blocked.wgsl.
// Grid: (ceil(N / ((WIDE ? 8 : 4)·WG_X)), ceil(M / (4·WG_Y)), batch · splits) workgroups of WG_X×WG_Y invocations.
// One invocation computes a 4×4 block (4×8 with WIDE) of out of batch entry z / splits over k in [s·kChunk, (s+1)·kChunk),
// s = z % splits, reading each operand as four vec4s per step of 4 along k. With SPLIT it writes the raw partial sum to slab z of out ([splits, M, N]) and no epilogue.
// No barriers and no shared staging: software rasterisers (SwiftShader) run this several times faster than tiled code.

// activate(), the epilogue, is shaders/activation.wgsl, appended to this source.
// Each invocation computes 4×8 outputs (two column blocks sharing the A reads) instead of 4×4: half the A reads
// and loop overhead per output, at 8 more registers. An override, not a uniform: SwiftShader would run both paths.
override WIDE: bool = false;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

// The params, bindings, operand reads (branch-free, see there), store() and storeRow() are
// shaders/matmul_blocked.wgsl, appended.

// Written out by hand, with no arrays or dynamically indexed matrices: SwiftShader keeps named values in registers
// but spills anything indexed at run time to memory.
@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.y * 4u;
  let c0 = gid.x * select(4u, 8u, WIDE);
  let c1 = c0 + 4u;
  if (CHECK_BOUNDS && (r0 >= params.M || c0 >= params.N)) { return; }
  setBatch(gid.z / params.splits);
  let kBegin = (gid.z % params.splits) * params.kChunk;
  let kEnd = min(params.K, kBegin + params.kChunk);
  // acc_i = out row r0+i, columns c0..c0+3.
  var acc0 = vec4(0.0);
  var acc1 = vec4(0.0);
  var acc2 = vec4(0.0);
  var acc3 = vec4(0.0);
  // WIDE only: out rows r0+i, columns c1..c1+3.
  var acc4 = vec4(0.0);
  var acc5 = vec4(0.0);
  var acc6 = vec4(0.0);
  var acc7 = vec4(0.0);
  for (var k = kBegin; k < kEnd; k += 4u) {
    // a_i = A(r0+i, k..k+3).
    var a0: vec4<f32>; var a1: vec4<f32>; var a2: vec4<f32>; var a3: vec4<f32>;
    if (TRANSPOSE_A) {
      let t0 = colA(r0, k, kEnd); let t1 = colA(r0, k + 1u, kEnd);
      let t2 = colA(r0, k + 2u, kEnd); let t3 = colA(r0, k + 3u, kEnd);
      a0 = vec4(t0.x, t1.x, t2.x, t3.x); a1 = vec4(t0.y, t1.y, t2.y, t3.y);
      a2 = vec4(t0.z, t1.z, t2.z, t3.z); a3 = vec4(t0.w, t1.w, t2.w, t3.w);
    } else {
      a0 = rowA(r0, k, kEnd); a1 = rowA(r0 + 1u, k, kEnd); a2 = rowA(r0 + 2u, k, kEnd); a3 = rowA(r0 + 3u, k, kEnd);
    }
    // b_c = B(k+c, c0..c0+3).
    var b0: vec4<f32>; var b1: vec4<f32>; var b2: vec4<f32>; var b3: vec4<f32>;
    if (TRANSPOSE_B) {
      let t0 = colB(k, c0, kEnd); let t1 = colB(k, c0 + 1u, kEnd);
      let t2 = colB(k, c0 + 2u, kEnd); let t3 = colB(k, c0 + 3u, kEnd);
      b0 = vec4(t0.x, t1.x, t2.x, t3.x); b1 = vec4(t0.y, t1.y, t2.y, t3.y);
      b2 = vec4(t0.z, t1.z, t2.z, t3.z); b3 = vec4(t0.w, t1.w, t2.w, t3.w);
    } else {
      b0 = rowB(k, c0, kEnd); b1 = rowB(k + 1u, c0, kEnd); b2 = rowB(k + 2u, c0, kEnd); b3 = rowB(k + 3u, c0, kEnd);
    }
    acc0 = fma(vec4(a0.x), b0, fma(vec4(a0.y), b1, fma(vec4(a0.z), b2, fma(vec4(a0.w), b3, acc0))));
    acc1 = fma(vec4(a1.x), b0, fma(vec4(a1.y), b1, fma(vec4(a1.z), b2, fma(vec4(a1.w), b3, acc1))));
    acc2 = fma(vec4(a2.x), b0, fma(vec4(a2.y), b1, fma(vec4(a2.z), b2, fma(vec4(a2.w), b3, acc2))));
    acc3 = fma(vec4(a3.x), b0, fma(vec4(a3.y), b1, fma(vec4(a3.z), b2, fma(vec4(a3.w), b3, acc3))));
    if (WIDE) {
      // d_c = B(k+c, c1..c1+3); out-of-range columns read 0 when CHECK_BOUNDS, and are never stored.
      var d0: vec4<f32>; var d1: vec4<f32>; var d2: vec4<f32>; var d3: vec4<f32>;
      if (TRANSPOSE_B) {
        let t0 = colB(k, c1, kEnd); let t1 = colB(k, c1 + 1u, kEnd);
        let t2 = colB(k, c1 + 2u, kEnd); let t3 = colB(k, c1 + 3u, kEnd);
        d0 = vec4(t0.x, t1.x, t2.x, t3.x); d1 = vec4(t0.y, t1.y, t2.y, t3.y);
        d2 = vec4(t0.z, t1.z, t2.z, t3.z); d3 = vec4(t0.w, t1.w, t2.w, t3.w);
      } else {
        d0 = rowB(k, c1, kEnd); d1 = rowB(k + 1u, c1, kEnd); d2 = rowB(k + 2u, c1, kEnd); d3 = rowB(k + 3u, c1, kEnd);
      }
      acc4 = fma(vec4(a0.x), d0, fma(vec4(a0.y), d1, fma(vec4(a0.z), d2, fma(vec4(a0.w), d3, acc4))));
      acc5 = fma(vec4(a1.x), d0, fma(vec4(a1.y), d1, fma(vec4(a1.z), d2, fma(vec4(a1.w), d3, acc5))));
      acc6 = fma(vec4(a2.x), d0, fma(vec4(a2.y), d1, fma(vec4(a2.z), d2, fma(vec4(a2.w), d3, acc6))));
      acc7 = fma(vec4(a3.x), d0, fma(vec4(a3.y), d1, fma(vec4(a3.z), d2, fma(vec4(a3.w), d3, acc7))));
    }
  }
  // Matrix z of out: a batch entry, or (SPLIT, one matrix) a slab of partial sums.
  let slab = gid.z * params.M * params.N;
  storeRow(r0, c0, slab, acc0);
  storeRow(r0 + 1u, c0, slab, acc1);
  storeRow(r0 + 2u, c0, slab, acc2);
  storeRow(r0 + 3u, c0, slab, acc3);
  if (WIDE) {
    storeRow(r0, c1, slab, acc4);
    storeRow(r0 + 1u, c1, slab, acc5);
    storeRow(r0 + 2u, c1, slab, acc6);
    storeRow(r0 + 3u, c1, slab, acc7);
  }
}
