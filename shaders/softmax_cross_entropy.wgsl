// Softmax cross-entropy over the rows of logits [m, n] against label distributions [m, n] (one-hot or soft).
// Bindings: logits, labels (read), out (write), params {m, n}; the backward entries also read rowGrad [m].
//
// forward:  out[w] = Σ_j y_wj · (logsumexp(x_w) − x_wj).
// backward: out[w, j] = rowGrad[w] · ((Σ_j y_wj) · softmax(x_w)_j − y_wj).
// Both subtract the row maximum before exp, so large logits do not overflow.
//
// Two layouts of the same arithmetic, on the grids of shaders/prelude.wgsl:
// - forward / backward, for wide rows: workgroup w = workgroupIndex(…) owns row w, each invocation a strided share
//   of it, combined in a fixed order (workgroupSum, workgroupMax).
// - forward_by_row / backward_by_row, for narrow rows (a few classes): the 64-wide grid, invocation
//   flatIndex(…) owns a whole row, with no barriers (which software adapters execute slowly).

struct Params { m: u32, n: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read> rowGrad: array<f32>;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

struct RowStats { maxLogit: f32, sumExp: f32, labelSum: f32, labelDot: f32 }

fn rowStats(row: u32, lane: u32) -> RowStats {
  let base = row * params.n;
  var localMax = -3.4028234e38;
  for (var j = lane; j < params.n; j += WORKGROUP_SIZE) { localMax = max(localMax, logits[base + j]); }
  let maxLogit = workgroupMax(&scratch, localMax, lane);
  var sumExp = 0.0;
  var labelSum = 0.0;
  var labelDot = 0.0;
  for (var j = lane; j < params.n; j += WORKGROUP_SIZE) {
    let x = logits[base + j];
    let y = labels[base + j];
    sumExp += exp(x - maxLogit);
    labelSum += y;
    labelDot += select(0.0, y * (x - maxLogit), y != 0.0); // 0·−∞ would be NaN
  }
  let total = workgroupSum(&scratch, sumExp, lane);
  return RowStats(maxLogit, total, workgroupSum(&scratch, labelSum, lane), workgroupSum(&scratch, labelDot, lane));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = workgroupIndex(wid, nwg);
  if (row >= params.m) { return; }
  let s = rowStats(row, lid.x);
  // Σ y (lse − x) with lse − max = log(sumExp), so max cancels.
  if (lid.x == 0u) { out[row] = s.labelSum * log(s.sumExp) - s.labelDot; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = workgroupIndex(wid, nwg);
  if (row >= params.m) { return; }
  let s = rowStats(row, lid.x);
  let g = rowGrad[row];
  let base = row * params.n;
  for (var j = lid.x; j < params.n; j += WORKGROUP_SIZE) {
    let p = exp(logits[base + j] - s.maxLogit) / s.sumExp;
    out[base + j] = g * (s.labelSum * p - labels[base + j]);
  }
}

fn rowStatsSerial(row: u32) -> RowStats {
  let base = row * params.n;
  var maxLogit = logits[base];
  for (var j = 1u; j < params.n; j++) { maxLogit = max(maxLogit, logits[base + j]); }
  var s = RowStats(maxLogit, 0.0, 0.0, 0.0);
  for (var j = 0u; j < params.n; j++) {
    let x = logits[base + j];
    let y = labels[base + j];
    s.sumExp += exp(x - maxLogit);
    s.labelSum += y;
    s.labelDot += select(0.0, y * (x - maxLogit), y != 0.0); // 0·−∞ would be NaN
  }
  return s;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_by_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = flatIndex(wid, nwg, lid);
  if (row >= params.m) { return; }
  let s = rowStatsSerial(row);
  out[row] = s.labelSum * log(s.sumExp) - s.labelDot;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_by_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = flatIndex(wid, nwg, lid);
  if (row >= params.m) { return; }
  let s = rowStatsSerial(row);
  let g = rowGrad[row];
  let base = row * params.n;
  for (var j = 0u; j < params.n; j++) {
    let p = exp(logits[base + j] - s.maxLogit) / s.sumExp;
    out[base + j] = g * (s.labelSum * p - labels[base + j]);
  }
}
