// The dense 3×3 convolution (stride 1, dilation 1, any padding and groups), appended to shaders/conv2d.wgsl, whose
// bindings, Params and stores it uses. Each invocation owns a 2×4 tile of pixels × 4 channels and reads one 4×6 patch
// per channel, bounds checked once per row and column: on SwiftShader the per-tap bounds and index arithmetic of the
// generic kernels cost more than their FMAs.


// forward_3x3      the forward of a 3×3 kernel with stride 1 and dilation 1, as forward (same bindings and epilogue).
//                  Grid: 64-wide (x, y) over N·⌈Ho/2⌉·⌈Wo/4⌉ tiles of 2 rows × 4 columns of output pixels, z over
//                  groups · ceil(Og / 4) blocks of 4 output channels. One invocation: its 8 pixels × 4 channels,
//                  from the 4×6 patch of x under the tile (24 reads per input channel, bounds checked once per row and
//                  column) and 9 taps × 4 channels of w (36 reads), 288 FMAs: forward reads 72 values for 144.

// One output row of a tile: 4 pixels (a..d) × 4 channels.
struct Row4 { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }

// A row of the patch: 6 consecutive values of x (0 in the padding).
struct Six { lo: vec3<f32>, hi: vec3<f32> }

// Where the tile's patch lies in x: clamped offsets (always in bounds) and which of them are real.
struct Patch { rows: vec4<u32>, rowIn: vec4<bool>, colsLo: vec3<u32>, colsHi: vec3<u32>, inLo: vec3<bool>, inHi: vec3<bool> }

// The patch of rows top..top+3 and columns left..left+5 of a height × width plane.
fn patchOf(top: i32, left: i32, height: u32, width: u32) -> Patch {
  let rows = vec4(top, top + 1, top + 2, top + 3);
  let lo = vec3(left, left + 1, left + 2);
  let hi = lo + vec3(3);
  let lastRow = vec4(i32(height) - 1);
  let lastCol = vec3(i32(width) - 1);
  return Patch(
    vec4<u32>(clamp(rows, vec4(0), lastRow)) * width,
    (rows >= vec4(0)) & (rows <= lastRow),
    vec3<u32>(clamp(lo, vec3(0), lastCol)),
    vec3<u32>(clamp(hi, vec3(0), lastCol)),
    (lo >= vec3(0)) & (lo <= lastCol),
    (hi >= vec3(0)) & (hi <= lastCol),
  );
}

fn patchRow(base: u32, rowOff: u32, rowIn: bool, p: Patch) -> Six {
  let at = base + rowOff;
  let lo = vec3(x[at + p.colsLo.x], x[at + p.colsLo.y], x[at + p.colsLo.z]);
  let hi = vec3(x[at + p.colsHi.x], x[at + p.colsHi.y], x[at + p.colsHi.z]);
  return Six(select(vec3(0.0), lo, p.inLo & vec3(rowIn)), select(vec3(0.0), hi, p.inHi & vec3(rowIn)));
}

// acc + one kernel row (taps k0, k1, k2, each over 4 channels) slid along one patch row.
fn rowFma(acc: Row4, p: Six, k0: vec4<f32>, k1: vec4<f32>, k2: vec4<f32>) -> Row4 {
  return Row4(
    fma(vec4(p.lo.z), k2, fma(vec4(p.lo.y), k1, fma(vec4(p.lo.x), k0, acc.a))),
    fma(vec4(p.hi.x), k2, fma(vec4(p.lo.z), k1, fma(vec4(p.lo.y), k0, acc.b))),
    fma(vec4(p.hi.y), k2, fma(vec4(p.hi.x), k1, fma(vec4(p.lo.z), k0, acc.c))),
    fma(vec4(p.hi.z), k2, fma(vec4(p.hi.y), k1, fma(vec4(p.hi.x), k0, acc.d))),
  );
}

// Tap t of channels o0..o0+3 (offsets d1..d3 of the next three), from w at `at`.
fn kernelTap(at: u32, d: vec3<u32>) -> vec4<f32> {
  return vec4(w[at], w[at + d.x], w[at + d.y], w[at + d.z]);
}

// y before the epilogue on rows r0, r0 + 1 and columns c0..c0 + 3 of image n, channels o0..o0+3 of `group`.
struct Tile { top: Row4, bottom: Row4 }

fn convTile3x3(n: u32, group: u32, r0: i32, c0: i32, o0: u32, oEnd: u32) -> Tile {
  let p = patchOf(r0 - i32(params.padTop), c0 - i32(params.padLeft), params.H, params.W);
  let wStride = params.Cg * 9u;
  // Spare lanes read the group's last channel again; the stores drop their sums.
  let d = vec3(min(o0 + 1u, oEnd - 1u) - o0, min(o0 + 2u, oEnd - 1u) - o0, min(o0 + 3u, oEnd - 1u) - o0) * wStride;
  let planeSize = params.H * params.W;
  var base = (n * params.C + group * params.Cg) * planeSize;
  var wAt = o0 * wStride;
  var top = Row4(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
  var bottom = top;
  for (var c = 0u; c < params.Cg; c++) {
    let k00 = kernelTap(wAt, d);
    let k01 = kernelTap(wAt + 1u, d);
    let k02 = kernelTap(wAt + 2u, d);
    let k10 = kernelTap(wAt + 3u, d);
    let k11 = kernelTap(wAt + 4u, d);
    let k12 = kernelTap(wAt + 5u, d);
    let k20 = kernelTap(wAt + 6u, d);
    let k21 = kernelTap(wAt + 7u, d);
    let k22 = kernelTap(wAt + 8u, d);
    // Patch row q feeds the top output row through kernel row q and the bottom one through kernel row q − 1.
    let x0 = patchRow(base, p.rows.x, p.rowIn.x, p);
    top = rowFma(top, x0, k00, k01, k02);
    let x1 = patchRow(base, p.rows.y, p.rowIn.y, p);
    top = rowFma(top, x1, k10, k11, k12);
    bottom = rowFma(bottom, x1, k00, k01, k02);
    let x2 = patchRow(base, p.rows.z, p.rowIn.z, p);
    top = rowFma(top, x2, k20, k21, k22);
    bottom = rowFma(bottom, x2, k10, k11, k12);
    let x3 = patchRow(base, p.rows.w, p.rowIn.w, p);
    bottom = rowFma(bottom, x3, k20, k21, k22);
    base += planeSize;
    wAt += 9u;
  }
  return Tile(top, bottom);
}

// One output pixel (row, col) of image n, channels o0..o0+3, if it lies inside y.
fn storeTilePixel(n: u32, row: u32, col: u32, o0: u32, oEnd: u32, acc: vec4<f32>) {
  if (row >= params.Ho || col >= params.Wo) { return; }
  let plane = params.Ho * params.Wo;
  let yBase = n * params.O * plane + row * params.Wo + col;
  storeY(yBase, o0, oEnd, plane, acc.x);
  storeY(yBase, o0 + 1u, oEnd, plane, acc.y);
  storeY(yBase, o0 + 2u, oEnd, plane, acc.z);
  storeY(yBase, o0 + 3u, oEnd, plane, acc.w);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_3x3(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let tilesW = (params.Wo + 3u) / 4u;
  let tiles = ((params.Ho + 1u) / 2u) * tilesW;
  let t = flatIndex(wid, nwg, lid);
  if (t >= params.N * tiles) { return; }
  let oBlocks = (params.Og + 3u) / 4u;
  let group = wid.z / oBlocks;
  let o0 = group * params.Og + (wid.z % oBlocks) * 4u;
  let oEnd = (group + 1u) * params.Og;
  let n = t / tiles;
  let r = t - n * tiles;
  let row = 2u * (r / tilesW);
  let col = 4u * (r % tilesW);
  let y = convTile3x3(n, group, i32(row), i32(col), o0, oEnd);
  storeTilePixel(n, row, col, o0, oEnd, y.top.a);
  storeTilePixel(n, row, col + 1u, o0, oEnd, y.top.b);
  storeTilePixel(n, row, col + 2u, o0, oEnd, y.top.c);
  storeTilePixel(n, row, col + 3u, o0, oEnd, y.top.d);
  storeTilePixel(n, row + 1u, col, o0, oEnd, y.bottom.a);
  storeTilePixel(n, row + 1u, col + 1u, o0, oEnd, y.bottom.b);
  storeTilePixel(n, row + 1u, col + 2u, o0, oEnd, y.bottom.c);
  storeTilePixel(n, row + 1u, col + 3u, o0, oEnd, y.bottom.d);
}

// input_grad_3x3   the input gradient of a 3×3 kernel with stride 1 and dilation 1, as input_grad (same bindings): the
//                  convolution of g with the flipped kernel. Grid: 64-wide (x, y) over N·⌈H/2⌉·⌈W/4⌉ tiles of 2 rows
//                  × 4 columns of input pixels, z over groups · ceil(Cg / 4) blocks of 4 input channels. One
//                  invocation: dx for its 8 pixels × 4 channels, from a 4×6 patch of g per output channel.

fn gradPatchRow(base: u32, rowOff: u32, rowIn: bool, p: Patch) -> Six {
  let at = base + rowOff;
  let lo = vec3(g[at + p.colsLo.x], g[at + p.colsLo.y], g[at + p.colsLo.z]);
  let hi = vec3(g[at + p.colsHi.x], g[at + p.colsHi.y], g[at + p.colsHi.z]);
  return Six(select(vec3(0.0), lo, p.inLo & vec3(rowIn)), select(vec3(0.0), hi, p.inHi & vec3(rowIn)));
}

fn storeInputTilePixel(n: u32, row: u32, col: u32, c0: u32, cEnd: u32, acc: vec4<f32>) {
  if (row >= params.H || col >= params.W) { return; }
  let plane = params.H * params.W;
  storeInputGrad(InPixel(n * params.C * plane + row * params.W + col, 0, 0, 0u, true), c0, cEnd, acc);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn input_grad_3x3(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let tilesW = (params.W + 3u) / 4u;
  let tiles = ((params.H + 1u) / 2u) * tilesW;
  let t = flatIndex(wid, nwg, lid);
  if (t >= params.N * tiles) { return; }
  let cBlocks = (params.Cg + 3u) / 4u;
  let group = wid.z / cBlocks;
  let local0 = (wid.z % cBlocks) * 4u;
  let n = t / tiles;
  let r = t - n * tiles;
  let row = 2u * (r / tilesW);
  let col = 4u * (r % tilesW);
  // Output row ho = h + padTop − i feeds input row h through tap i: the patch starts 2 − padTop rows above.
  let p = patchOf(i32(row + params.padTop) - 2, i32(col + params.padLeft) - 2, params.Ho, params.Wo);
  let last = params.Cg - 1u;
  // Spare lanes read the group's last channel again; the stores drop their sums.
  let d = vec3(min(local0 + 1u, last) - local0, min(local0 + 2u, last) - local0, min(local0 + 3u, last) - local0) * 9u;
  let planeSize = params.Ho * params.Wo;
  var base = (n * params.O + group * params.Og) * planeSize;
  var wAt = (group * params.Og * params.Cg + local0) * 9u;
  var top = Row4(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
  var bottom = top;
  for (var o = 0u; o < params.Og; o++) {
    // The kernel flipped: patch offset 0, 1, 2 along a row meets tap column 2, 1, 0.
    let k00 = kernelTap(wAt, d);
    let k01 = kernelTap(wAt + 1u, d);
    let k02 = kernelTap(wAt + 2u, d);
    let k10 = kernelTap(wAt + 3u, d);
    let k11 = kernelTap(wAt + 4u, d);
    let k12 = kernelTap(wAt + 5u, d);
    let k20 = kernelTap(wAt + 6u, d);
    let k21 = kernelTap(wAt + 7u, d);
    let k22 = kernelTap(wAt + 8u, d);
    let g0 = gradPatchRow(base, p.rows.x, p.rowIn.x, p);
    top = rowFma(top, g0, k22, k21, k20);
    let g1 = gradPatchRow(base, p.rows.y, p.rowIn.y, p);
    top = rowFma(top, g1, k12, k11, k10);
    bottom = rowFma(bottom, g1, k22, k21, k20);
    let g2 = gradPatchRow(base, p.rows.z, p.rowIn.z, p);
    top = rowFma(top, g2, k02, k01, k00);
    bottom = rowFma(bottom, g2, k12, k11, k10);
    let g3 = gradPatchRow(base, p.rows.w, p.rowIn.w, p);
    bottom = rowFma(bottom, g3, k02, k01, k00);
    base += planeSize;
    wAt += params.Cg * 9u;
  }
  let c0 = group * params.Cg + local0;
  let cEnd = (group + 1u) * params.Cg;
  storeInputTilePixel(n, row, col, c0, cEnd, top.a);
  storeInputTilePixel(n, row, col + 1u, c0, cEnd, top.b);
  storeInputTilePixel(n, row, col + 2u, c0, cEnd, top.c);
  storeInputTilePixel(n, row, col + 3u, c0, cEnd, top.d);
  storeInputTilePixel(n, row + 1u, col, c0, cEnd, bottom.a);
  storeInputTilePixel(n, row + 1u, col + 1u, c0, cEnd, bottom.b);
  storeInputTilePixel(n, row + 1u, col + 2u, c0, cEnd, bottom.c);
  storeInputTilePixel(n, row + 1u, col + 3u, c0, cEnd, bottom.d);
}
