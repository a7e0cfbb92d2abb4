// Batch normalisation over x [N, C, H, W] in training mode, statistics per channel c over its count = N·H·W values
// (spatial = H·W; element i is in channel (i / spatial) % channels). With r = 1/√(var + eps), x̂ = (x − mean)·r:
//   forward: y = x̂·γ + β;   backward: dx = γ·r·(g − Σg/count − x̂·Σ(g·x̂)/count), where Σg = dβ and Σ(g·x̂) = dγ
//   arrive already reduced per channel (the reduction kernel makes them).
// The saved statistics are [C, 2]: (mean, biased variance) per channel; `stats` (read_write) when the statistics
// kernel writes them, `saved` (read) when the others read them. When γ or β is absent the caller binds x in its
// place and clears the flag, so the kernel never reads it. Each entry binds only what it uses.
// Bindings: x, gamma, beta, g, dgamma, dbeta, saved (read), stats, out, runningMean, runningVar (read_write), params.
//
// Grids (shaders/prelude.wgsl's 64-wide grid, no workgroup memory, no barriers):
// statistics: invocation c = flatIndex(…) walks channel c twice (the mean, then the squared deviations from it, so
//   a channel far from 0 keeps its variance) and writes stats[c].
// forward, backward, scaled_normalized (g·x̂, whose channel sums are dγ): invocation i writes element i.
// running_update: invocation c blends channel c's batch statistics into the running ones, in place, with the
//   unbiased variance var·count/(count − 1).

// momentum is read by running_update alone; the other entries pass 0.
struct Params {
  size: u32, channels: u32, spatial: u32, count: u32, eps: f32, hasGamma: u32, hasBeta: u32, momentum: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> dgamma: array<f32>;
@group(0) @binding(5) var<storage, read> dbeta: array<f32>;
@group(0) @binding(6) var<storage, read> saved: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;
@group(0) @binding(9) var<uniform> params: Params;
@group(0) @binding(10) var<storage, read_write> runningMean: array<f32>;
@group(0) @binding(11) var<storage, read_write> runningVar: array<f32>;

fn channelOf(i: u32) -> u32 {
  return (i / params.spatial) % params.channels;
}

fn gammaAt(c: u32) -> f32 {
  if (params.hasGamma != 0u) { return gamma[c]; }
  return 1.0;
}

fn betaAt(c: u32) -> f32 {
  if (params.hasBeta != 0u) { return beta[c]; }
  return 0.0;
}

fn inverseStd(c: u32) -> f32 {
  return inverseSqrt(saved[2u * c + 1u] + params.eps);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn statistics(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = flatIndex(wid, nwg, lid);
  if (c >= params.channels) { return; }
  let batch = params.count / params.spatial;
  var total = 0.0;
  for (var n = 0u; n < batch; n++) {
    let base = (n * params.channels + c) * params.spatial;
    for (var s = 0u; s < params.spatial; s++) { total += x[base + s]; }
  }
  let first = total / f32(params.count);
  // Residuals around the first mean: their mean corrects it, their squares give the variance without cancellation.
  var residuals = vec2<f32>(0.0);
  for (var n = 0u; n < batch; n++) {
    let base = (n * params.channels + c) * params.spatial;
    for (var s = 0u; s < params.spatial; s++) {
      let d = x[base + s] - first;
      residuals += vec2<f32>(d, d * d);
    }
  }
  let shift = residuals.x / f32(params.count);
  stats[2u * c] = first + shift;
  stats[2u * c + 1u] = max(residuals.y / f32(params.count) - shift * shift, 0.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  let c = channelOf(i);
  out[i] = (x[i] - saved[2u * c]) * inverseStd(c) * gammaAt(c) + betaAt(c);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scaled_normalized(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  let c = channelOf(i);
  out[i] = g[i] * (x[i] - saved[2u * c]) * inverseStd(c);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  let c = channelOf(i);
  let r = inverseStd(c);
  let xhat = (x[i] - saved[2u * c]) * r;
  let n = f32(params.count);
  out[i] = gammaAt(c) * r * (g[i] - dbeta[c] / n - xhat * dgamma[c] / n);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn running_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = flatIndex(wid, nwg, lid);
  if (c >= params.channels) { return; }
  let m = params.momentum;
  let unbias = f32(params.count) / f32(params.count - 1u);
  runningMean[c] = (1.0 - m) * runningMean[c] + m * saved[2u * c];
  runningVar[c] = (1.0 - m) * runningVar[c] + m * saved[2u * c + 1u] * unbias;
}
