// 2-D convolution as three implicit GEMMs. x [N, C, H, W], w [O, Cg, kh, kw] (Cg = C / groups, Og = O / groups),
// y and its gradient g [N, O, Ho, Wo], all row-major f32. With P the patch matrix [N·Ho·Wo, Cg·kh·kw] of one group:
// Y = P·Wᵀ, dW = gᵀ·P, dP = g·W folded back onto x. P is never stored: every read of it goes through the im2col
// index map (h = ho·strideH − padTop + i·dilationH, and likewise along w), and a tap that lands in the padding reads 0.
// Software adapters first, as shaders/matmul_direct.wgsl: no workgroup memory, no barriers, and each invocation keeps
// a 4×4 block of outputs in named vec4 registers (SwiftShader spills anything indexed at run time).
//
// forward          bindings x, w, bias (read; any read buffer when HAS_BIAS is off), out (write), params.
//                  Grid: 64-wide (x, y) over ceil(M / 4) blocks of 4 consecutive output pixels (M = N·Ho·Wo), z over
//                  groups · ceil(Og / 4) blocks of 4 output channels of one group. One invocation: y for its 4 pixels
//                  × 4 channels, reduced over Cg·kh·kw, with bias[o] and the activation (override ACTIVATION, a
//                  code of src/ops/activation.ts) applied in the epilogue.
// input_grad       bindings g, w (read), out (write: dx), params. Grid: 64-wide (x, y) over ceil(N·H·W / 4) blocks of
//                  4 input pixels, z over groups · ceil(Cg / 4) blocks of 4 input channels. One invocation: dx for its
//                  4 pixels × 4 channels, gathered from the outputs whose windows cover each pixel (the transposed
//                  convolution), reduced over Og·kh·kw: no scatter, no atomics, the same bits on every run.
// weight_grad      bindings x, g (read), out (write: dW, or with splits > 1 slab s of partials [splits, O·Cg·kh·kw]),
//                  params. Grid: 64-wide (x, y) over splits × blocks (the block index varying fastest), with
//                  groups · ceil(Og / 4) · ceil(Cg·kh·kw / 4) blocks. One invocation: a 4 channels × 4 taps block of
//                  dW, reduced over the output pixels m ∈ [s·mChunk, (s+1)·mChunk) of its split s.
// weight_grad_sum  bindings partials (read), out (write), params. 64-wide grid, one invocation per element of dW:
//                  the sum of its partials over s = 0, 1, … in order, so split-K stays deterministic.

override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u;

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  O: u32, Ho: u32, Wo: u32, kh: u32, kw: u32,
  strideH: u32, strideW: u32, padTop: u32, padLeft: u32, dilationH: u32, dilationW: u32,
  Cg: u32, Og: u32, mChunk: u32, splits: u32, size: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> partials: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

// An output pixel (n, ho, wo): where its window starts in x, and where it lies in y.
struct OutPixel { xBase: u32, h0: i32, w0: i32, yBase: u32, valid: bool }

fn outPixel(p: u32, group: u32) -> OutPixel {
  let valid = p < params.N * params.Ho * params.Wo;
  let plane = params.Ho * params.Wo;
  let q = select(0u, p, valid);
  let n = q / plane;
  let r = q % plane;
  let ho = r / params.Wo;
  let wo = r % params.Wo;
  let xBase = (n * params.C + group * params.Cg) * params.H * params.W;
  let h0 = i32(ho * params.strideH) - i32(params.padTop);
  let w0 = i32(wo * params.strideW) - i32(params.padLeft);
  return OutPixel(xBase, h0, w0, n * params.O * plane + r, valid);
}

// The index in x of tap (i, j) of a pixel's window in its group's first channel, or -1 in the padding.
fn tapOf(px: OutPixel, i: u32, j: u32) -> i32 {
  let h = px.h0 + i32(i * params.dilationH);
  let col = px.w0 + i32(j * params.dilationW);
  if (!px.valid || h < 0 || h >= i32(params.H) || col < 0 || col >= i32(params.W)) { return -1; }
  return i32(px.xBase) + h * i32(params.W) + col;
}

// Reads without branches (a tap in the padding reads element `offset` and discards it): SwiftShader runs
// invocations in SIMD lanes, where a divergent branch costs both paths.
fn xAt(tap: i32, offset: u32) -> f32 {
  return select(0.0, x[u32(max(tap, 0)) + offset], tap >= 0);
}

fn gAt(tap: i32, offset: u32) -> f32 {
  return select(0.0, g[u32(max(tap, 0)) + offset], tap >= 0);
}

fn storeForward(px: OutPixel, o0: u32, oEnd: u32, acc: vec4<f32>) {
  if (!px.valid) { return; }
  let plane = params.Ho * params.Wo;
  // Lane by lane, by name: a vec4 indexed at run time costs SwiftShader seconds of pipeline compilation.
  storeY(px.yBase, o0, oEnd, plane, acc.x);
  storeY(px.yBase, o0 + 1u, oEnd, plane, acc.y);
  storeY(px.yBase, o0 + 2u, oEnd, plane, acc.z);
  storeY(px.yBase, o0 + 3u, oEnd, plane, acc.w);
}

fn storeY(yBase: u32, o: u32, oEnd: u32, plane: u32, value: f32) {
  if (o >= oEnd) { return; }
  var v = value;
  if (HAS_BIAS) { v += bias[o]; }
  out[yBase + o * plane] = activate(v);
}

// y before the epilogue at 4 pixels (a0..a3) for channels o0..o0+3 of one group.
struct Block { a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32> }

fn convBlock(px0: OutPixel, px1: OutPixel, px2: OutPixel, px3: OutPixel, o0: u32, oEnd: u32) -> Block {
  let plane = params.H * params.W;
  let taps = params.kh * params.kw;
  let wStride = params.Cg * taps;
  // A block's spare lanes (past the group's last channel) read that channel again; the stores drop their sums.
  let d1 = (min(o0 + 1u, oEnd - 1u) - o0) * wStride;
  let d2 = (min(o0 + 2u, oEnd - 1u) - o0) * wStride;
  let d3 = (min(o0 + 3u, oEnd - 1u) - o0) * wStride;
  // acc_q = y at pixel q for channels o0..o0+3.
  var acc0 = vec4(0.0);
  var acc1 = vec4(0.0);
  var acc2 = vec4(0.0);
  var acc3 = vec4(0.0);
  for (var i = 0u; i < params.kh; i++) {
    for (var j = 0u; j < params.kw; j++) {
      // The window positions depend on (i, j) only: found once, then reused across every channel.
      let t0 = tapOf(px0, i, j);
      let t1 = tapOf(px1, i, j);
      let t2 = tapOf(px2, i, j);
      let t3 = tapOf(px3, i, j);
      var wIndex = o0 * wStride + i * params.kw + j;
      for (var c = 0u; c < params.Cg; c++) {
        let off = c * plane;
        let wv = vec4(w[wIndex], w[wIndex + d1], w[wIndex + d2], w[wIndex + d3]);
        acc0 = fma(vec4(xAt(t0, off)), wv, acc0);
        acc1 = fma(vec4(xAt(t1, off)), wv, acc1);
        acc2 = fma(vec4(xAt(t2, off)), wv, acc2);
        acc3 = fma(vec4(xAt(t3, off)), wv, acc3);
        wIndex += taps;
      }
    }
  }
  return Block(acc0, acc1, acc2, acc3);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let p0 = flatIndex(wid, nwg, lid) * 4u;
  if (p0 >= params.N * params.Ho * params.Wo) { return; }
  let oBlocks = (params.Og + 3u) / 4u;
  let group = wid.z / oBlocks;
  let o0 = group * params.Og + (wid.z % oBlocks) * 4u;
  let oEnd = (group + 1u) * params.Og;
  let px0 = outPixel(p0, group);
  let px1 = outPixel(p0 + 1u, group);
  let px2 = outPixel(p0 + 2u, group);
  let px3 = outPixel(p0 + 3u, group);
  let y = convBlock(px0, px1, px2, px3, o0, oEnd);
  storeForward(px0, o0, oEnd, y.a0);
  storeForward(px1, o0, oEnd, y.a1);
  storeForward(px2, o0, oEnd, y.a2);
  storeForward(px3, o0, oEnd, y.a3);
}

// An input pixel (n, h, w): where its gradient goes in dx, and where its group's outputs start in g.
struct InPixel { xBase: u32, h: i32, col: i32, gBase: u32, valid: bool }

fn inPixel(p: u32, group: u32) -> InPixel {
  let plane = params.H * params.W;
  let valid = p < params.N * plane;
  let q = select(0u, p, valid);
  let n = q / plane;
  let r = q % plane;
  let h = i32(r / params.W) + i32(params.padTop);
  let col = i32(r % params.W) + i32(params.padLeft);
  let gBase = (n * params.O + group * params.Og) * params.Ho * params.Wo;
  return InPixel(n * params.C * plane + r, h, col, gBase, valid);
}

// The index in g of the output whose tap (i, j) reads this pixel (first channel of the group), or -1 when none does:
// the tap must land on a stride step inside the output.
fn coverOf(px: InPixel, i: u32, j: u32) -> i32 {
  let th = px.h - i32(i * params.dilationH);
  let tw = px.col - i32(j * params.dilationW);
  if (!px.valid || th < 0 || tw < 0) { return -1; }
  let sh = i32(params.strideH);
  let sw = i32(params.strideW);
  if (th % sh != 0 || tw % sw != 0) { return -1; }
  let ho = th / sh;
  let wo = tw / sw;
  if (ho >= i32(params.Ho) || wo >= i32(params.Wo)) { return -1; }
  return i32(px.gBase) + ho * i32(params.Wo) + wo;
}

fn storeInputGrad(px: InPixel, c0: u32, cEnd: u32, acc: vec4<f32>) {
  if (!px.valid) { return; }
  let plane = params.H * params.W;
  if (c0 < cEnd) { out[px.xBase + c0 * plane] = acc.x; }
  if (c0 + 1u < cEnd) { out[px.xBase + (c0 + 1u) * plane] = acc.y; }
  if (c0 + 2u < cEnd) { out[px.xBase + (c0 + 2u) * plane] = acc.z; }
  if (c0 + 3u < cEnd) { out[px.xBase + (c0 + 3u) * plane] = acc.w; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn input_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let p0 = flatIndex(wid, nwg, lid) * 4u;
  if (p0 >= params.N * params.H * params.W) { return; }
  let cBlocks = (params.Cg + 3u) / 4u;
  let group = wid.z / cBlocks;
  let local0 = (wid.z % cBlocks) * 4u;
  let c0 = group * params.Cg + local0;
  let cEnd = (group + 1u) * params.Cg;
  let px0 = inPixel(p0, group);
  let px1 = inPixel(p0 + 1u, group);
  let px2 = inPixel(p0 + 2u, group);
  let px3 = inPixel(p0 + 3u, group);
  let plane = params.Ho * params.Wo;
  let taps = params.kh * params.kw;
  let wStride = params.Cg * taps;
  // Spare lanes read the group's last channel again; storeInputGrad drops their sums.
  let d1 = (min(c0 + 1u, cEnd - 1u) - c0) * taps;
  let d2 = (min(c0 + 2u, cEnd - 1u) - c0) * taps;
  let d3 = (min(c0 + 3u, cEnd - 1u) - c0) * taps;
  // acc_q = dx at pixel q for channels c0..c0+3.
  var acc0 = vec4(0.0);
  var acc1 = vec4(0.0);
  var acc2 = vec4(0.0);
  var acc3 = vec4(0.0);
  for (var i = 0u; i < params.kh; i++) {
    for (var j = 0u; j < params.kw; j++) {
      let t0 = coverOf(px0, i, j);
      let t1 = coverOf(px1, i, j);
      let t2 = coverOf(px2, i, j);
      let t3 = coverOf(px3, i, j);
      if (t0 < 0 && t1 < 0 && t2 < 0 && t3 < 0) { continue; }
      var wIndex = (group * params.Og * params.Cg + local0) * taps + i * params.kw + j;
      for (var o = 0u; o < params.Og; o++) {
        let off = o * plane;
        let wv = vec4(w[wIndex], w[wIndex + d1], w[wIndex + d2], w[wIndex + d3]);
        acc0 = fma(vec4(gAt(t0, off)), wv, acc0);
        acc1 = fma(vec4(gAt(t1, off)), wv, acc1);
        acc2 = fma(vec4(gAt(t2, off)), wv, acc2);
        acc3 = fma(vec4(gAt(t3, off)), wv, acc3);
        wIndex += wStride;
      }
    }
  }
  storeInputGrad(px0, c0, cEnd, acc0);
  storeInputGrad(px1, c0, cEnd, acc1);
  storeInputGrad(px2, c0, cEnd, acc2);
  storeInputGrad(px3, c0, cEnd, acc3);
}

// A column (c, i, j) of the patch matrix: its channel's offset in x and its window offsets.
struct Column { chanOff: u32, dh: i32, dw: i32, valid: bool }

fn column(k: u32, group: u32) -> Column {
  let taps = params.kh * params.kw;
  let valid = k < params.Cg * taps;
  let q = select(0u, k, valid);
  let c = group * params.Cg + q / taps;
  let i = (q / params.kw) % params.kh;
  let j = q % params.kw;
  let dh = i32(i * params.dilationH) - i32(params.padTop);
  let dw = i32(j * params.dilationW) - i32(params.padLeft);
  return Column(c * params.H * params.W, dh, dw, valid);
}

// P[m, column] for the output pixel at (xBase = n·C·H·W, h0 = ho·strideH, w0 = wo·strideW): x, or 0 in the padding.
fn patchAt(col: Column, xBase: u32, h0: i32, w0: i32) -> f32 {
  let h = h0 + col.dh;
  let wi = w0 + col.dw;
  let inside = col.valid && h >= 0 && h < i32(params.H) && wi >= 0 && wi < i32(params.W);
  let index = select(0u, xBase + col.chanOff + u32(h) * params.W + u32(wi), inside);
  return select(0.0, x[index], inside);
}

fn storeWeightGrad(slab: u32, o: u32, oEnd: u32, k0: u32, acc: vec4<f32>) {
  if (o >= oEnd) { return; }
  let kg = params.Cg * params.kh * params.kw;
  let row = slab + o * kg + k0;
  if (k0 < kg) { out[row] = acc.x; }
  if (k0 + 1u < kg) { out[row + 1u] = acc.y; }
  if (k0 + 2u < kg) { out[row + 2u] = acc.z; }
  if (k0 + 3u < kg) { out[row + 3u] = acc.w; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn weight_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let kg = params.Cg * params.kh * params.kw;
  let kBlocks = (kg + 3u) / 4u;
  let oBlocks = (params.Og + 3u) / 4u;
  let blocks = params.O / params.Og * oBlocks * kBlocks;
  // Blocks vary fastest, so that a workgroup's invocations are full even when the blocks are few.
  let id = flatIndex(wid, nwg, lid);
  let split = id / blocks;
  if (split >= params.splits) { return; }
  let b = id - split * blocks;
  let k0 = (b % kBlocks) * 4u;
  let group = b / kBlocks / oBlocks;
  let o0 = group * params.Og + (b / kBlocks % oBlocks) * 4u;
  let oEnd = (group + 1u) * params.Og;
  let col0 = column(k0, group);
  let col1 = column(k0 + 1u, group);
  let col2 = column(k0 + 2u, group);
  let col3 = column(k0 + 3u, group);
  let plane = params.Ho * params.Wo;
  // Spare lanes read the group's last channel again; storeWeightGrad drops their sums.
  let d1 = (min(o0 + 1u, oEnd - 1u) - o0) * plane;
  let d2 = (min(o0 + 2u, oEnd - 1u) - o0) * plane;
  let d3 = (min(o0 + 3u, oEnd - 1u) - o0) * plane;
  let total = params.N * plane;
  let mBegin = split * params.mChunk;
  let mEnd = min(total, mBegin + params.mChunk);
  // (n, ho, wo) of m, advanced in step with it instead of divided out at each step.
  var n = mBegin / plane;
  var ho = (mBegin % plane) / params.Wo;
  var wo = mBegin % params.Wo;
  // acc_q = dW of channel o0+q for taps k0..k0+3.
  var acc0 = vec4(0.0);
  var acc1 = vec4(0.0);
  var acc2 = vec4(0.0);
  var acc3 = vec4(0.0);
  for (var m = mBegin; m < mEnd; m++) {
    let gIndex = (n * params.O + o0) * plane + ho * params.Wo + wo;
    let xBase = n * params.C * params.H * params.W;
    let h0 = i32(ho * params.strideH);
    let w0 = i32(wo * params.strideW);
    let pv = vec4(patchAt(col0, xBase, h0, w0), patchAt(col1, xBase, h0, w0), patchAt(col2, xBase, h0, w0),
                  patchAt(col3, xBase, h0, w0));
    acc0 = fma(vec4(g[gIndex]), pv, acc0);
    acc1 = fma(vec4(g[gIndex + d1]), pv, acc1);
    acc2 = fma(vec4(g[gIndex + d2]), pv, acc2);
    acc3 = fma(vec4(g[gIndex + d3]), pv, acc3);
    wo++;
    if (wo == params.Wo) {
      wo = 0u;
      ho++;
      if (ho == params.Ho) { ho = 0u; n++; }
    }
  }
  let slab = split * params.O * kg;
  storeWeightGrad(slab, o0, oEnd, k0, acc0);
  storeWeightGrad(slab, o0 + 1u, oEnd, k0, acc1);
  storeWeightGrad(slab, o0 + 2u, oEnd, k0, acc2);
  storeWeightGrad(slab, o0 + 3u, oEnd, k0, acc3);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn weight_grad_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.size) { return; }
  var v = 0.0;
  for (var s = 0u; s < params.splits; s++) { v += partials[s * params.size + e]; }
  out[e] = v;
}
