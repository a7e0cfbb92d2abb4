// 2-D max and average pooling over x [N, C, H, W] (planes = N·C), windows kernelH×kernelW every strideH, strideW
// rows and columns, starting padH, padW before the input. Padded positions are skipped: they never win a max
// window, and count as zeros in an average, which always divides by the full window (count_include_pad).
// Bindings: x (read), g (read: the output gradient), out (write), slots (read_write: the saving forward writes
// each window's winning slot i·kernelW + j), saved (read: the same values, as the backward reads them), params.
//
// Grids follow shaders/prelude.wgsl's 64-wide grid, with no workgroup memory and no barriers:
// max_forward, max_forward_saving, avg_forward: invocation o = flatIndex(…) computes output o of
//   [N, C, outHeight, outWidth]. Max keeps the FIRST maximal element of the window in row-major order (a later one
//   must be strictly larger); the saving variant also records its slot, when a gradient will be taken.
// max_backward, avg_backward: invocation i = flatIndex(…) computes dx[i] for input element i, gathering g from the
//   windows that cover it in ascending (oh, ow) order; for max, only from windows whose saved winner is element i.
//   Each element is written by exactly one invocation, so the result is deterministic.

struct Params {
  count: u32,
  height: u32,
  width: u32,
  outHeight: u32,
  outWidth: u32,
  kernelH: u32,
  kernelW: u32,
  strideH: u32,
  strideW: u32,
  padH: u32,
  padW: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> slots: array<f32>;
@group(0) @binding(5) var<storage, read> saved: array<f32>;

// The top-left corner of window (oh, ow), in input coordinates (negative inside the padding).
fn windowOrigin(oh: u32, ow: u32) -> vec2<i32> {
  return vec2<i32>(i32(oh * params.strideH) - i32(params.padH), i32(ow * params.strideW) - i32(params.padW));
}

fn inside(row: i32, col: i32) -> bool {
  return row >= 0 && row < i32(params.height) && col >= 0 && col < i32(params.width);
}

// The slot i·kernelW + j of the first maximal element of window (oh, ow) of `plane`; padding is skipped, and every
// window holds at least one real element since padding is at most half the kernel.
fn firstMaxSlot(plane: u32, oh: u32, ow: u32) -> u32 {
  let origin = windowOrigin(oh, ow);
  var found = false;
  var best = 0.0;
  var slot = 0u;
  for (var i = 0u; i < params.kernelH; i++) {
    let row = origin.x + i32(i);
    for (var j = 0u; j < params.kernelW; j++) {
      let col = origin.y + i32(j);
      if (!inside(row, col)) { continue; }
      let v = x[(plane * params.height + u32(row)) * params.width + u32(col)];
      if (!found || v > best) {
        found = true;
        best = v;
        slot = i * params.kernelW + j;
      }
    }
  }
  return slot;
}

// The input element in slot `slot` of window (oh, ow) of `plane`.
fn slotValue(plane: u32, oh: u32, ow: u32, slot: u32) -> f32 {
  let origin = windowOrigin(oh, ow);
  let row = u32(origin.x + i32(slot / params.kernelW));
  let col = u32(origin.y + i32(slot % params.kernelW));
  return x[(plane * params.height + row) * params.width + col];
}

// Output coordinates (plane, oh, ow) of output index o.
fn outputCoords(o: u32) -> vec3<u32> {
  let ow = o % params.outWidth;
  let rest = o / params.outWidth;
  return vec3<u32>(rest / params.outHeight, rest % params.outHeight, ow);
}

// The outputs along one axis whose windows cover input position pos: [first, last], empty when first > last.
fn coveringRange(pos: u32, kernel: u32, stride: u32, pad: u32, outSize: u32) -> vec2<i32> {
  let shifted = i32(pos + pad);
  // ceil((shifted − kernel + 1)/stride) for a possibly negative numerator, without signed-division rounding.
  let low = shifted - i32(kernel) + 1;
  var first = 0;
  if (low > 0) { first = (low + i32(stride) - 1) / i32(stride); }
  let last = min(i32(outSize) - 1, shifted / i32(stride));
  return vec2<i32>(first, last);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = flatIndex(wid, nwg, lid);
  if (o >= params.count) { return; }
  let c = outputCoords(o);
  out[o] = slotValue(c.x, c.y, c.z, firstMaxSlot(c.x, c.y, c.z));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_forward_saving(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = flatIndex(wid, nwg, lid);
  if (o >= params.count) { return; }
  let c = outputCoords(o);
  let slot = firstMaxSlot(c.x, c.y, c.z);
  slots[o] = f32(slot);
  out[o] = slotValue(c.x, c.y, c.z, slot);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = flatIndex(wid, nwg, lid);
  if (o >= params.count) { return; }
  let c = outputCoords(o);
  let origin = windowOrigin(c.y, c.z);
  var total = 0.0;
  for (var i = 0u; i < params.kernelH; i++) {
    let row = origin.x + i32(i);
    for (var j = 0u; j < params.kernelW; j++) {
      let col = origin.y + i32(j);
      if (inside(row, col)) { total += x[(c.x * params.height + u32(row)) * params.width + u32(col)]; }
    }
  }
  out[o] = total / f32(params.kernelH * params.kernelW);
}

// Input coordinates (plane, row, col) of input index i.
fn inputCoords(i: u32) -> vec3<u32> {
  let col = i % params.width;
  let rest = i / params.width;
  return vec3<u32>(rest / params.height, rest % params.height, col);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.count) { return; }
  let c = inputCoords(i);
  let rows = coveringRange(c.y, params.kernelH, params.strideH, params.padH, params.outHeight);
  let cols = coveringRange(c.z, params.kernelW, params.strideW, params.padW, params.outWidth);
  var total = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    // This element's slot in window (oh, ow): its offset from the window's corner.
    let slotRow = i32(c.y) - (oh * i32(params.strideH) - i32(params.padH));
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let slotCol = i32(c.z) - (ow * i32(params.strideW) - i32(params.padW));
      let o = (c.x * params.outHeight + u32(oh)) * params.outWidth + u32(ow);
      if (saved[o] == f32(u32(slotRow) * params.kernelW + u32(slotCol))) { total += g[o]; }
    }
  }
  out[i] = total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.count) { return; }
  let c = inputCoords(i);
  let rows = coveringRange(c.y, params.kernelH, params.strideH, params.padH, params.outHeight);
  let cols = coveringRange(c.z, params.kernelW, params.strideW, params.padW, params.outWidth);
  let area = f32(params.kernelH * params.kernelW);
  var total = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    for (var ow = cols.x; ow <= cols.y; ow++) {
      total += g[(c.x * params.outHeight + u32(oh)) * params.outWidth + u32(ow)] / area;
    }
  }
  out[i] = total;
}
