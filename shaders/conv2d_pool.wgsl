// A convolution, its bias, its activation and a 2×2 max pool (stride 2) in one kernel, and the backward of the pool
// and the activation in one more (src/ops/conv-pool.ts). Appended to shaders/conv2d.wgsl and the activations, whose
// bindings, Params, convBlock and activate it uses. On a software adapter every pass over an activation costs about
// as much per element as the convolution's epilogue: these two kernels replace four such passes (relu, max pool, their
// two backwards) per layer.
//
// forward_max_pool  bindings x, w, bias (read), out (write: y [N, O, ⌊Ho/2⌋, ⌊Wo/2⌋]), slots (write: each window's
//                   winner 2a + b, for its pixel (2·hp + a, 2·wp + b)), params. Grid: 64-wide (x, y) over the
//                   N·⌊Ho/2⌋·⌊Wo/2⌋ windows, z over groups · ceil(Og / 4) blocks of 4 output channels. One invocation:
//                   the 4 pixels of one window × 4 channels (convBlock), bias and activation, then per channel the
//                   FIRST maximum of the 4 values in row-major order (a later one must be strictly larger), as maxPool2d.
// max_pool_grad     bindings g (read: ∂L/∂y), saved (read: the slots), pooled (read: y), out (write: dz [N, O, Ho, Wo],
//                   the gradient at the activation's input), params. 64-wide grid over the N·O·⌈Ho/2⌉·⌈Wo/2⌉ cells of
//                   2×2 pixels. One invocation writes its cell: g·act'(y) at the window's winner, 0 at the other three
//                   and at an odd last row or column that no window covers. Each element is written once: no atomics.

@group(0) @binding(7) var<storage, read_write> slots: array<f32>;
@group(0) @binding(8) var<storage, read> saved: array<f32>;
@group(0) @binding(9) var<storage, read> pooled: array<f32>;

fn biasBlock(o0: u32, oEnd: u32) -> vec4<f32> {
  if (!HAS_BIAS) { return vec4(0.0); }
  let last = oEnd - 1u;
  return vec4(bias[o0], bias[min(o0 + 1u, last)], bias[min(o0 + 2u, last)], bias[min(o0 + 3u, last)]);
}

fn activate4(v: vec4<f32>) -> vec4<f32> {
  return vec4(activate(v.x), activate(v.y), activate(v.z), activate(v.w));
}

fn storePooled(base: u32, o: u32, oEnd: u32, windows: u32, value: f32, slot: f32) {
  if (o >= oEnd) { return; }
  out[base + o * windows] = value;
  slots[base + o * windows] = slot;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_max_pool(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
  let poolW = params.Wo / 2u;
  let windows = (params.Ho / 2u) * poolW;
  let p = flatIndex(wid, nwg, lid);
  if (p >= params.N * windows) { return; }
  let oBlocks = (params.Og + 3u) / 4u;
  let group = wid.z / oBlocks;
  let o0 = group * params.Og + (wid.z % oBlocks) * 4u;
  let oEnd = (group + 1u) * params.Og;
  let n = p / windows;
  let r = p - n * windows;
  let row = r / poolW;
  let col = r - row * poolW;
  // The window's top-left pixel, then its right, lower and lower-right neighbours.
  let q0 = (n * params.Ho + 2u * row) * params.Wo + 2u * col;
  let y = convBlock(outPixel(q0, group), outPixel(q0 + 1u, group), outPixel(q0 + params.Wo, group),
                    outPixel(q0 + params.Wo + 1u, group), o0, oEnd);
  poolWindow(n * params.O * windows + r, o0, oEnd, windows, y.a0, y.a1, y.a2, y.a3);
}

// Bias, activation and the first maximum of window (row-major pixels q0..q3) for channels o0..o0+3; stores the
// maximum and its slot at `base` (the window's index in channel 0 of its image).
fn poolWindow(base: u32, o0: u32, oEnd: u32, windows: u32, q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32>) {
  let b = biasBlock(o0, oEnd);
  let v1 = activate4(q1 + b);
  let v2 = activate4(q2 + b);
  let v3 = activate4(q3 + b);
  var best = activate4(q0 + b);
  var slot = vec4(0.0);
  let m1 = v1 > best;
  best = select(best, v1, m1);
  slot = select(slot, vec4(1.0), m1);
  let m2 = v2 > best;
  best = select(best, v2, m2);
  slot = select(slot, vec4(2.0), m2);
  let m3 = v3 > best;
  best = select(best, v3, m3);
  slot = select(slot, vec4(3.0), m3);
  storePooled(base, o0, oEnd, windows, best.x, slot.x);
  storePooled(base, o0 + 1u, oEnd, windows, best.y, slot.y);
  storePooled(base, o0 + 2u, oEnd, windows, best.z, slot.z);
  storePooled(base, o0 + 3u, oEnd, windows, best.w, slot.w);
}

// forward_max_pool with convTile3x3 (shaders/conv2d_3x3.wgsl: 3×3, stride 1, dilation 1): one invocation computes two
// neighbouring windows (a 2×4 tile), over a grid of N·⌊Ho/2⌋·⌈⌊Wo/2⌋/2⌉ tiles.
@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_max_pool_3x3(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid: vec3<u32>) {
  let poolH = params.Ho / 2u;
  let poolW = params.Wo / 2u;
  let pairs = (poolW + 1u) / 2u;
  let t = flatIndex(wid, nwg, lid);
  if (t >= params.N * poolH * pairs) { return; }
  let oBlocks = (params.Og + 3u) / 4u;
  let group = wid.z / oBlocks;
  let o0 = group * params.Og + (wid.z % oBlocks) * 4u;
  let oEnd = (group + 1u) * params.Og;
  let n = t / (poolH * pairs);
  let r = t - n * poolH * pairs;
  let row = r / pairs;
  let col = 2u * (r - row * pairs);
  let y = convTile3x3(n, group, i32(2u * row), i32(2u * col), o0, oEnd);
  let windows = poolH * poolW;
  let base = n * params.O * windows + row * poolW + col;
  poolWindow(base, o0, oEnd, windows, y.top.a, y.top.b, y.bottom.a, y.bottom.b);
  if (col + 1u < poolW) { poolWindow(base + 1u, o0, oEnd, windows, y.top.c, y.top.d, y.bottom.c, y.bottom.d); }
}

// act'(z) written in y = act(z), for the activations whose derivative the output determines.
fn slopeFromOutput(y: f32) -> f32 {
  switch ACTIVATION {
    case IDENTITY: { return 1.0; }
    case RELU: { return select(0.0, 1.0, y > 0.0); }
    case TANH: { return 1.0 - y * y; }
    default: { return unknownOpCode(); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_pool_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let cellsW = (params.Wo + 1u) / 2u;
  let cells = ((params.Ho + 1u) / 2u) * cellsW;
  let e = flatIndex(wid, nwg, lid);
  if (e >= params.N * params.O * cells) { return; }
  let plane = e / cells;
  let r = e - plane * cells;
  let row = r / cellsW;
  let col = r - row * cellsW;
  let poolH = params.Ho / 2u;
  let poolW = params.Wo / 2u;
  let inWindow = row < poolH && col < poolW;
  // Branch-free reads: a cell outside every window reads window 0 and discards it.
  let p = select(0u, (plane * poolH + row) * poolW + col, inWindow);
  let grad = select(0.0, g[p] * slopeFromOutput(pooled[p]), inWindow);
  let winner = select(-1.0, saved[p], inWindow);
  let top = (plane * params.Ho + 2u * row) * params.Wo + 2u * col;
  let right = 2u * col + 1u < params.Wo;
  out[top] = select(0.0, grad, winner == 0.0);
  if (right) { out[top + 1u] = select(0.0, grad, winner == 1.0); }
  if (2u * row + 1u < params.Ho) {
    out[top + params.Wo] = select(0.0, grad, winner == 2.0);
    if (right) { out[top + params.Wo + 1u] = select(0.0, grad, winner == 3.0); }
  }
}
