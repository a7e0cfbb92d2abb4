// Softmax and log-softmax along one axis of a tensor viewed as [outer, n, inner], forward and backward.
// Bindings: forward: x (read), out (write), params {outer, n, inner}; backward: y (the forward's output), g (the
//   gradient of y) (read), out (write), params.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation r = flatIndex(…) owns line r (o = r / inner,
//   i = r % inner), whose n elements lie `inner` apart from o·n·inner + i. No barriers: software adapters run them
//   slowly, and a line is short (classes, keys). Neighbouring invocations read neighbouring addresses when inner > 1.
// With LOG the forward writes log-softmax, and the backward takes y = log-softmax.
// Attention's scores come in raw: the forward reads scale·x (params.scale, 1 for a plain softmax) and the backward
// multiplies dx by scale, so the product Q·Kᵀ needs no separate scaling pass. With CAUSAL (inner = 1, lines are the
// rows of [rows, n] matrices) line r is query i = r % rows, which sees keys j ≤ i + offset only: the others get
// y = 0 and are never read, in place of an added −∞ mask. A line with no key visible is NaN, as with the mask.
//
// forward:  y_j = exp(x_j − max) / Σ exp(x_k − max), or x_j − max − log Σ exp(x_k − max): after the shift by the
//           line's maximum no exp exceeds 1, so no logits overflow.
// backward: softmax: dx_j = y_j · (g_j − Σ_k g_k y_k); log-softmax: dx_j = g_j − exp(y_j) · Σ_k g_k.

override LOG: bool = false;
override CAUSAL: bool = false;

struct Params { outer: u32, n: u32, inner: u32, scale: f32, rows: u32, offset: i32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn lineStart(r: u32) -> u32 {
  return (r / params.inner) * params.n * params.inner + r % params.inner;
}

// How many keys line r sees: all n, or under CAUSAL those up to i + offset.
fn visibleKeys(r: u32) -> u32 {
  if (!CAUSAL) { return params.n; }
  return u32(clamp(i32(r % params.rows) + params.offset + 1, 0, i32(params.n)));
}

fn notANumber() -> f32 {
  // Through a var: a constant NaN would be a shader-creation error.
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = flatIndex(wid, nwg, lid);
  if (r >= params.outer * params.inner) { return; }
  let base = lineStart(r);
  let step = params.inner;
  let scale = params.scale;
  let count = visibleKeys(r);
  var top = x[base] * scale;
  for (var j = 1u; j < count; j++) { top = max(top, x[base + j * step] * scale); }
  var total = 0.0;
  for (var j = 0u; j < count; j++) { total += exp(x[base + j * step] * scale - top); }
  let logTotal = log(total);
  let empty = count == 0u;
  for (var j = 0u; j < params.n; j++) {
    let shifted = x[base + j * step] * scale - top;
    let y = select(select(exp(shifted) / total, shifted - logTotal, LOG), 0.0, j >= count);
    out[base + j * step] = select(y, notANumber(), empty);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = flatIndex(wid, nwg, lid);
  if (r >= params.outer * params.inner) { return; }
  let base = lineStart(r);
  let step = params.inner;
  // Σ g for log-softmax, Σ g·y for softmax.
  var dot = 0.0;
  for (var j = 0u; j < params.n; j++) {
    let gj = g[base + j * step];
    dot += select(gj * y[base + j * step], gj, LOG);
  }
  for (var j = 0u; j < params.n; j++) {
    let at = base + j * step;
    out[at] = params.scale * select(y[at] * (g[at] - dot), g[at] - exp(y[at]) * dot, LOG);
  }
}
