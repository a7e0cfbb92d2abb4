// Layer and RMS normalisation over the last axis of x, viewed as [rows, cols]:
//   layer: y = (x − μ)·r·γ + β, with r = 1/√(σ² + eps) and σ² the biased variance of the row;
//   rms:   y = x·r·γ,           with r = 1/√(mean(x²) + eps), i.e. μ taken as 0.
// Backward (dx only; dγ and dβ are column sums done by the reduction kernel), with x̂ = (x − μ)·r and h = g·γ:
//   layer: dx = r·(h − mean(h) − x̂·mean(h·x̂));   rms: dx = r·(h − x̂·mean(h·x̂)).
// The forward saves (μ, r) per row in `stats` [rows, 2] when a gradient will be needed (the *_saving entries), and
// the backward reads them instead of walking the row twice more.
// Bindings: x, gamma, beta, g (read), stats (read_write: the saving forward writes it), saved (read: the same
// buffer, as the backward reads it), out (write), params {rows, cols, eps, rms, hasGamma, hasBeta}. When γ or β is absent the caller binds x in its place and clears the
// flag, so the kernel never reads it. Each entry binds only what it uses.
// Written over Elem (shaders/elem_f32.wgsl or elem_vec4.wgsl, prepended): with vec4s when cols % 4 == 0, so that
// every index below (j, base, i) counts Elems, not floats.
// The mean is two-pass with a correction term (the mean of the residuals), so a row offset far from 0 (mean 1e3,
// spread 1) keeps its variance instead of cancelling it away.
//
// Grids follow shaders/prelude.wgsl:
// forward_by_row, forward_saving_by_row, backward_by_row, for short rows: the 64-wide grid, invocation
//   r = flatIndex(…) handles row r alone, with no barriers (which software adapters run slowly).
// forward, forward_saving, backward, for long rows: one workgroup per row, r = workgroupIndex(…); each of its 64
//   invocations sums a strided share of the row, workgroupSum combines the shares, then each writes its share.
// scaled_normalized (g·x̂ for dγ): the 64-wide grid, invocation i = flatIndex(…) writes Elem i of out.

struct Params { rows: u32, cols: u32, eps: f32, rms: u32, hasGamma: u32, hasBeta: u32 }

@group(0) @binding(0) var<storage, read> x: array<Elem>;
@group(0) @binding(1) var<storage, read> gamma: array<Elem>;
@group(0) @binding(2) var<storage, read> beta: array<Elem>;
@group(0) @binding(3) var<storage, read> g: array<Elem>;
@group(0) @binding(4) var<storage, read_write> out: array<Elem>;
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(7) var<storage, read> saved: array<f32>;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

// Elems per row.
fn rowLength() -> u32 {
  return params.cols / PER_INVOCATION;
}

fn gammaAt(j: u32) -> Elem {
  if (params.hasGamma != 0u) { return gamma[j]; }
  return Elem(1.0);
}

fn betaAt(j: u32) -> Elem {
  if (params.hasBeta != 0u) { return beta[j]; }
  return Elem(0.0);
}

fn partialSum(base: u32, start: u32, step: u32) -> f32 {
  var s = Elem(0.0);
  for (var j = start; j < rowLength(); j += step) { s += x[base + j]; }
  return total(s);
}

// (Σ(x − c), Σ(x − c)²) over a share of the row.
fn partialResiduals(base: u32, start: u32, step: u32, c: f32) -> vec2<f32> {
  var sum = Elem(0.0);
  var squares = Elem(0.0);
  for (var j = start; j < rowLength(); j += step) {
    let d = x[base + j] - c;
    sum += d;
    squares += d * d;
  }
  return vec2<f32>(total(sum), total(squares));
}

// μ and r from the totals of the two passes: the first mean c, then the residual sums around it.
fn statistics(c: f32, residuals: vec2<f32>) -> vec2<f32> {
  let n = f32(params.cols);
  if (params.rms != 0u) { return vec2<f32>(0.0, inverseSqrt(residuals.y / n + params.eps)); }
  let shift = residuals.x / n;
  let variance = max(residuals.y / n - shift * shift, 0.0);
  return vec2<f32>(c + shift, inverseSqrt(variance + params.eps));
}

fn writeForward(base: u32, start: u32, step: u32, rowStats: vec2<f32>) {
  for (var j = start; j < rowLength(); j += step) {
    out[base + j] = (x[base + j] - rowStats.x) * rowStats.y * gammaAt(j) + betaAt(j);
  }
}

// (Σh, Σh·x̂) over a share of the row.
fn partialGradSums(base: u32, start: u32, step: u32, rowStats: vec2<f32>) -> vec2<f32> {
  var sumH = Elem(0.0);
  var sumHX = Elem(0.0);
  for (var j = start; j < rowLength(); j += step) {
    let h = g[base + j] * gammaAt(j);
    sumH += h;
    sumHX += h * (x[base + j] - rowStats.x) * rowStats.y;
  }
  return vec2<f32>(total(sumH), total(sumHX));
}

fn writeBackward(base: u32, start: u32, step: u32, rowStats: vec2<f32>, sums: vec2<f32>) {
  let n = f32(params.cols);
  var meanH = sums.x / n;
  if (params.rms != 0u) { meanH = 0.0; }
  let meanHX = sums.y / n;
  for (var j = start; j < rowLength(); j += step) {
    let h = g[base + j] * gammaAt(j);
    let xhat = (x[base + j] - rowStats.x) * rowStats.y;
    out[base + j] = rowStats.y * (h - meanH - xhat * meanHX);
  }
}

fn rowStatistics(base: u32) -> vec2<f32> {
  var c = 0.0;
  if (params.rms == 0u) { c = partialSum(base, 0u, 1u) / f32(params.cols); }
  return statistics(c, partialResiduals(base, 0u, 1u, c));
}

fn workgroupStatistics(base: u32, lane: u32) -> vec2<f32> {
  var c = 0.0;
  if (params.rms == 0u) { c = workgroupSum(&scratch, partialSum(base, lane, WORKGROUP_SIZE), lane) / f32(params.cols); }
  let residuals = partialResiduals(base, lane, WORKGROUP_SIZE, c);
  let total = vec2<f32>(workgroupSum(&scratch, residuals.x, lane), workgroupSum(&scratch, residuals.y, lane));
  return statistics(c, total);
}

fn savedStatistics(r: u32) -> vec2<f32> {
  return vec2<f32>(saved[2u * r], saved[2u * r + 1u]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_by_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = flatIndex(wid, nwg, lid);
  if (r >= params.rows) { return; }
  let base = r * rowLength();
  writeForward(base, 0u, 1u, rowStatistics(base));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_saving_by_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = flatIndex(wid, nwg, lid);
  if (r >= params.rows) { return; }
  let base = r * rowLength();
  let rowStats = rowStatistics(base);
  stats[2u * r] = rowStats.x;
  stats[2u * r + 1u] = rowStats.y;
  writeForward(base, 0u, 1u, rowStats);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = workgroupIndex(wid, nwg);
  // The whole workgroup leaves together, so the barriers below stay uniform.
  if (r >= params.rows) { return; }
  let base = r * rowLength();
  writeForward(base, lid.x, WORKGROUP_SIZE, workgroupStatistics(base, lid.x));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_saving(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = workgroupIndex(wid, nwg);
  if (r >= params.rows) { return; }
  let base = r * rowLength();
  let rowStats = workgroupStatistics(base, lid.x);
  if (lid.x == 0u) {
    stats[2u * r] = rowStats.x;
    stats[2u * r + 1u] = rowStats.y;
  }
  writeForward(base, lid.x, WORKGROUP_SIZE, rowStats);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_by_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = flatIndex(wid, nwg, lid);
  if (r >= params.rows) { return; }
  let base = r * rowLength();
  let rowStats = savedStatistics(r);
  writeBackward(base, 0u, 1u, rowStats, partialGradSums(base, 0u, 1u, rowStats));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = workgroupIndex(wid, nwg);
  if (r >= params.rows) { return; }
  let base = r * rowLength();
  let rowStats = savedStatistics(r);
  let partial = partialGradSums(base, lid.x, WORKGROUP_SIZE, rowStats);
  let sums = vec2<f32>(workgroupSum(&scratch, partial.x, lid.x), workgroupSum(&scratch, partial.y, lid.x));
  writeBackward(base, lid.x, WORKGROUP_SIZE, rowStats, sums);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scaled_normalized(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.rows * rowLength()) { return; }
  let rowStats = savedStatistics(i / rowLength());
  out[i] = g[i] * (x[i] - rowStats.x) * rowStats.y;
}
