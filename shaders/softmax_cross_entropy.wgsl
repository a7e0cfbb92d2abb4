// Softmax cross-entropy over the rows of logits [m, n] against label distributions [m, n] (one-hot or soft).
// Bindings: logits, labels (read), out (write), dims {m, n}; the backward entries also read rowGrad [m].
//
// forward:  out[w] = Σ_j y_wj · (logsumexp(x_w) − x_wj).
// backward: out[w, j] = rowGrad[w] · ((Σ_j y_wj) · softmax(x_w)_j − y_wj).
// Both subtract the row maximum before exp, so large logits do not overflow.
//
// Two layouts of the same arithmetic:
// - forward / backward, for wide rows: grid (x, y) workgroups of 64, x ≤ 65535; workgroup
//   w = wid.y * num_workgroups.x + wid.x owns row w, each invocation a strided share of it, combined in a fixed order.
// - forwardByRow / backwardByRow, for narrow rows (a few classes): grid (x, y) workgroups of 64, and invocation
//   (wid.y * num_workgroups.x + wid.x) * 64 + lid.x owns a whole row, with no barriers (which software adapters
//   execute slowly).

struct Dims { m: u32, n: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;
@group(0) @binding(4) var<storage, read> rowGrad: array<f32>;

const WG = 64u;
var<workgroup> scratch: array<f32, WG>;

// Combines the 64 per-invocation values in a fixed order; every invocation gets the total.
fn workgroupSum(v: f32, lane: u32) -> f32 {
  scratch[lane] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lane < half) { scratch[lane] += scratch[lane + half]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}

fn workgroupMax(v: f32, lane: u32) -> f32 {
  scratch[lane] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lane < half) { scratch[lane] = max(scratch[lane], scratch[lane + half]); }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}

struct RowStats { maxLogit: f32, sumExp: f32, labelSum: f32, labelDot: f32 }

fn rowStats(row: u32, lane: u32) -> RowStats {
  let base = row * dims.n;
  var localMax = -3.4028234e38;
  for (var j = lane; j < dims.n; j += WG) { localMax = max(localMax, logits[base + j]); }
  let maxLogit = workgroupMax(localMax, lane);
  var sumExp = 0.0;
  var labelSum = 0.0;
  var labelDot = 0.0;
  for (var j = lane; j < dims.n; j += WG) {
    let x = logits[base + j];
    let y = labels[base + j];
    sumExp += exp(x - maxLogit);
    labelSum += y;
    labelDot += y * (x - maxLogit);
  }
  return RowStats(maxLogit, workgroupSum(sumExp, lane), workgroupSum(labelSum, lane), workgroupSum(labelDot, lane));
}

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= dims.m) { return; }
  let s = rowStats(row, lid.x);
  // Σ y (lse − x) with lse − max = log(sumExp), so max cancels.
  if (lid.x == 0u) { out[row] = s.labelSum * log(s.sumExp) - s.labelDot; }
}

@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= dims.m) { return; }
  let s = rowStats(row, lid.x);
  let g = rowGrad[row];
  let base = row * dims.n;
  for (var j = lid.x; j < dims.n; j += WG) {
    let p = exp(logits[base + j] - s.maxLogit) / s.sumExp;
    out[base + j] = g * (s.labelSum * p - labels[base + j]);
  }
}

fn rowIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid.x;
}

fn rowStatsSerial(row: u32) -> RowStats {
  let base = row * dims.n;
  var maxLogit = logits[base];
  for (var j = 1u; j < dims.n; j++) { maxLogit = max(maxLogit, logits[base + j]); }
  var s = RowStats(maxLogit, 0.0, 0.0, 0.0);
  for (var j = 0u; j < dims.n; j++) {
    let x = logits[base + j];
    let y = labels[base + j];
    s.sumExp += exp(x - maxLogit);
    s.labelSum += y;
    s.labelDot += y * (x - maxLogit);
  }
  return s;
}

@compute @workgroup_size(64)
fn forwardByRow(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = rowIndex(wid, nwg, lid);
  if (row >= dims.m) { return; }
  let s = rowStatsSerial(row);
  out[row] = s.labelSum * log(s.sumExp) - s.labelDot;
}

@compute @workgroup_size(64)
fn backwardByRow(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = rowIndex(wid, nwg, lid);
  if (row >= dims.m) { return; }
  let s = rowStatsSerial(row);
  let g = rowGrad[row];
  let base = row * dims.n;
  for (var j = 0u; j < dims.n; j++) {
    let p = exp(logits[base + j] - s.maxLogit) / s.sumExp;
    out[base + j] = g * (s.labelSum * p - labels[base + j]);
  }
}
