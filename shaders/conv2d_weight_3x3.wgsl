// The weight gradient of a 3×3 convolution, appended to shaders/conv2d.wgsl and shaders/conv2d_3x3.wgsl, whose
// bindings, Params and patch helpers it uses. weight_grad gives an invocation 4 channels × 4 columns of the patch
// matrix, so each pixel costs 4 bounds-checked patch reads and 4 reads of g for 16 FMAs; here an invocation owns
// 4 output channels × the 9 taps of one input channel.
//
// weight_grad_3x3  any stride, padding, dilation and groups. Bindings x, g (read), out (write: dW, or with splits > 1
//                  slab s of partials [splits, O·Cg·9]), params. Grid: 64-wide (x, y) over splits × groups ·
//                  ceil(Og / 4) · Cg blocks, blocks fastest. One invocation: dW[o0..o0+3, c, 0..2, 0..2], reduced over
//                  the output pixels m ∈ [s·mChunk, (s+1)·mChunk) of its split s, each pixel's 9 reads (bounds checked
//                  per row and per column) and 4 reads of g feeding 36 FMAs; weight_grad_sum then adds the slabs in order.

// x at (row, col) of one channel plane starting at `base`, or 0 in the padding, without a branch.
fn tap3(base: u32, row: i32, col: i32, inside: bool) -> f32 {
  return select(0.0, x[select(0u, base + u32(row) * params.W + u32(col), inside)], inside);
}

// Taps t0..t8 (row-major) of dW for output channel o and input channel c (within the group), if o is a real channel.
fn store3x3(slab: u32, o: u32, oEnd: u32, c: u32, t012: vec3<f32>, t345: vec3<f32>, t678: vec3<f32>) {
  if (o >= oEnd) { return; }
  let at = slab + (o * params.Cg + c) * 9u;
  out[at] = t012.x;
  out[at + 1u] = t012.y;
  out[at + 2u] = t012.z;
  out[at + 3u] = t345.x;
  out[at + 4u] = t345.y;
  out[at + 5u] = t345.z;
  out[at + 6u] = t678.x;
  out[at + 7u] = t678.y;
  out[at + 8u] = t678.z;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn weight_grad_3x3(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let oBlocks = (params.Og + 3u) / 4u;
  let blocks = params.O / params.Og * oBlocks * params.Cg;
  // Blocks vary fastest, so that a workgroup's invocations are full even when the blocks are few.
  let id = flatIndex(wid, nwg, lid);
  let split = id / blocks;
  if (split >= params.splits) { return; }
  let b = id - split * blocks;
  let c = b % params.Cg;
  let group = b / params.Cg / oBlocks;
  let o0 = group * params.Og + (b / params.Cg % oBlocks) * 4u;
  let oEnd = (group + 1u) * params.Og;
  let plane = params.Ho * params.Wo;
  // Spare lanes read the group's last channel again; store3x3 drops their sums.
  let d1 = (min(o0 + 1u, oEnd - 1u) - o0) * plane;
  let d2 = (min(o0 + 2u, oEnd - 1u) - o0) * plane;
  let d3 = (min(o0 + 3u, oEnd - 1u) - o0) * plane;
  let chanOff = (group * params.Cg + c) * params.H * params.W;
  let dh = i32(params.dilationH);
  let dw = i32(params.dilationW);
  let height = i32(params.H);
  let width = i32(params.W);
  let mBegin = split * params.mChunk;
  let mEnd = min(params.N * plane, mBegin + params.mChunk);
  // (n, ho, wo) of m, advanced in step with it instead of divided out at each step.
  var n = mBegin / plane;
  var ho = (mBegin % plane) / params.Wo;
  var wo = mBegin % params.Wo;
  // a_ij = dW at tap (i, j) for channels o0..o0+3.
  var a00 = vec4(0.0);
  var a01 = vec4(0.0);
  var a02 = vec4(0.0);
  var a10 = vec4(0.0);
  var a11 = vec4(0.0);
  var a12 = vec4(0.0);
  var a20 = vec4(0.0);
  var a21 = vec4(0.0);
  var a22 = vec4(0.0);
  for (var m = mBegin; m < mEnd; m++) {
    let gIndex = (n * params.O + o0) * plane + ho * params.Wo + wo;
    let gv = vec4(g[gIndex], g[gIndex + d1], g[gIndex + d2], g[gIndex + d3]);
    let base = n * params.C * params.H * params.W + chanOff;
    let r0 = i32(ho * params.strideH) - i32(params.padTop);
    let c0 = i32(wo * params.strideW) - i32(params.padLeft);
    let rows = vec3(r0, r0 + dh, r0 + 2 * dh);
    let cols = vec3(c0, c0 + dw, c0 + 2 * dw);
    let rowIn = (rows >= vec3(0)) & (rows < vec3(height));
    let colIn = (cols >= vec3(0)) & (cols < vec3(width));
    a00 = fma(vec4(tap3(base, rows.x, cols.x, rowIn.x && colIn.x)), gv, a00);
    a01 = fma(vec4(tap3(base, rows.x, cols.y, rowIn.x && colIn.y)), gv, a01);
    a02 = fma(vec4(tap3(base, rows.x, cols.z, rowIn.x && colIn.z)), gv, a02);
    a10 = fma(vec4(tap3(base, rows.y, cols.x, rowIn.y && colIn.x)), gv, a10);
    a11 = fma(vec4(tap3(base, rows.y, cols.y, rowIn.y && colIn.y)), gv, a11);
    a12 = fma(vec4(tap3(base, rows.y, cols.z, rowIn.y && colIn.z)), gv, a12);
    a20 = fma(vec4(tap3(base, rows.z, cols.x, rowIn.z && colIn.x)), gv, a20);
    a21 = fma(vec4(tap3(base, rows.z, cols.y, rowIn.z && colIn.y)), gv, a21);
    a22 = fma(vec4(tap3(base, rows.z, cols.z, rowIn.z && colIn.z)), gv, a22);
    wo++;
    if (wo == params.Wo) {
      wo = 0u;
      ho++;
      if (ho == params.Ho) { ho = 0u; n++; }
    }
  }
  let slab = split * params.O * params.Cg * 9u;
  store3x3(slab, o0, oEnd, c, vec3(a00.x, a01.x, a02.x), vec3(a10.x, a11.x, a12.x), vec3(a20.x, a21.x, a22.x));
  store3x3(slab, o0 + 1u, oEnd, c, vec3(a00.y, a01.y, a02.y), vec3(a10.y, a11.y, a12.y), vec3(a20.y, a21.y, a22.y));
  store3x3(slab, o0 + 2u, oEnd, c, vec3(a00.z, a01.z, a02.z), vec3(a10.z, a11.z, a12.z), vec3(a20.z, a21.z, a22.z));
  store3x3(slab, o0 + 3u, oEnd, c, vec3(a00.w, a01.w, a02.w), vec3(a10.w, a11.w, a12.w), vec3(a20.w, a21.w, a22.w));
}

// weight_grad_3x3_tiles  the weight gradient of a dense 3×3 kernel (stride 1, dilation 1), as weight_grad_3x3 (same
//                  bindings, blocks and splits), but each split walks 2×4 tiles of output pixels (mChunk counts
//                  tiles): per tile, one 4×6 patch of x (24 reads) and g at 8 pixels × 4 channels (32 reads) feed
//                  8 × 9 × 4 = 288 FMAs.

// The three taps j = 0, 1, 2 of one kernel row, over 4 output channels.
struct Taps3 { j0: vec4<f32>, j1: vec4<f32>, j2: vec4<f32> }

// acc + g along one output row (4 pixels × 4 channels) times the patch row under it, at each of the 3 column shifts.
fn tapRow(acc: Taps3, gr: Row4, p: Six) -> Taps3 {
  return Taps3(
    fma(gr.d, vec4(p.hi.x), fma(gr.c, vec4(p.lo.z), fma(gr.b, vec4(p.lo.y), fma(gr.a, vec4(p.lo.x), acc.j0)))),
    fma(gr.d, vec4(p.hi.y), fma(gr.c, vec4(p.hi.x), fma(gr.b, vec4(p.lo.z), fma(gr.a, vec4(p.lo.y), acc.j1)))),
    fma(gr.d, vec4(p.hi.z), fma(gr.c, vec4(p.hi.y), fma(gr.b, vec4(p.hi.x), fma(gr.a, vec4(p.lo.z), acc.j2)))),
  );
}

// g at output row `row`, columns col..col+3 of image n, channels o0 and o0 + d (0 outside y).
fn gOf(at: u32, inside: bool, d: vec3<u32>) -> vec4<f32> {
  let i = select(0u, at, inside);
  return select(vec4(0.0), vec4(g[i], g[i + d.x], g[i + d.y], g[i + d.z]), inside);
}

fn gRow(n: u32, row: u32, col: u32, o0: u32, d: vec3<u32>) -> Row4 {
  let at = (n * params.O + o0) * params.Ho * params.Wo + row * params.Wo + col;
  let rowIn = row < params.Ho;
  return Row4(gOf(at, rowIn && col < params.Wo, d), gOf(at + 1u, rowIn && col + 1u < params.Wo, d),
              gOf(at + 2u, rowIn && col + 2u < params.Wo, d), gOf(at + 3u, rowIn && col + 3u < params.Wo, d));
}

fn storeTaps(slab: u32, o: u32, oEnd: u32, c: u32, t0: Taps3, t1: Taps3, t2: Taps3, lane: u32) {
  let pick = vec4<f32>(vec4(lane) == vec4(0u, 1u, 2u, 3u));
  store3x3(slab, o, oEnd, c, vec3(dot(t0.j0, pick), dot(t0.j1, pick), dot(t0.j2, pick)),
           vec3(dot(t1.j0, pick), dot(t1.j1, pick), dot(t1.j2, pick)),
           vec3(dot(t2.j0, pick), dot(t2.j1, pick), dot(t2.j2, pick)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn weight_grad_3x3_tiles(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid: vec3<u32>) {
  let oBlocks = (params.Og + 3u) / 4u;
  let blocks = params.O / params.Og * oBlocks * params.Cg;
  // Blocks vary fastest, so that a workgroup's invocations are full even when the blocks are few.
  let id = flatIndex(wid, nwg, lid);
  let split = id / blocks;
  if (split >= params.splits) { return; }
  let b = id - split * blocks;
  let c = b % params.Cg;
  let group = b / params.Cg / oBlocks;
  let o0 = group * params.Og + (b / params.Cg % oBlocks) * 4u;
  let oEnd = (group + 1u) * params.Og;
  let plane = params.Ho * params.Wo;
  let d = vec3(min(o0 + 1u, oEnd - 1u) - o0, min(o0 + 2u, oEnd - 1u) - o0, min(o0 + 3u, oEnd - 1u) - o0) * plane;
  let chanOff = (group * params.Cg + c) * params.H * params.W;
  let tilesW = (params.Wo + 3u) / 4u;
  let tilesH = (params.Ho + 1u) / 2u;
  let tBegin = split * params.mChunk;
  let tEnd = min(params.N * tilesH * tilesW, tBegin + params.mChunk);
  // (n, tile row, tile column) of t, advanced in step with it.
  var n = tBegin / (tilesH * tilesW);
  var th = (tBegin / tilesW) % tilesH;
  var tw = tBegin % tilesW;
  var t0 = Taps3(vec4(0.0), vec4(0.0), vec4(0.0));
  var t1 = t0;
  var t2 = t0;
  for (var t = tBegin; t < tEnd; t++) {
    let row = 2u * th;
    let col = 4u * tw;
    let p = patchOf(i32(row) - i32(params.padTop), i32(col) - i32(params.padLeft), params.H, params.W);
    let base = n * params.C * params.H * params.W + chanOff;
    let top = gRow(n, row, col, o0, d);
    let bottom = gRow(n, row + 1u, col, o0, d);
    // Output row r meets kernel row i through patch row r + i.
    let x0 = patchRow(base, p.rows.x, p.rowIn.x, p);
    t0 = tapRow(t0, top, x0);
    let x1 = patchRow(base, p.rows.y, p.rowIn.y, p);
    t0 = tapRow(t0, bottom, x1);
    t1 = tapRow(t1, top, x1);
    let x2 = patchRow(base, p.rows.z, p.rowIn.z, p);
    t1 = tapRow(t1, bottom, x2);
    t2 = tapRow(t2, top, x2);
    let x3 = patchRow(base, p.rows.w, p.rowIn.w, p);
    t2 = tapRow(t2, bottom, x3);
    tw++;
    if (tw == tilesW) {
      tw = 0u;
      th++;
      if (th == tilesH) { th = 0u; n++; }
    }
  }
  let slab = split * params.O * params.Cg * 9u;
  storeTaps(slab, o0, oEnd, c, t0, t1, t2, 0u);
  storeTaps(slab, o0 + 1u, oEnd, c, t0, t1, t2, 1u);
  storeTaps(slab, o0 + 2u, oEnd, c, t0, t1, t2, 2u);
  storeTaps(slab, o0 + 3u, oEnd, c, t0, t1, t2, 3u);
}
