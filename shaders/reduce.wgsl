// Reductions over the middle axis of a tensor viewed as [outer, reduce, inner], out[o, i] = R_r x[o, r, i], with R
// chosen by the override OP: a scaled sum (scale · Σ, so mean is a sum), max, min, log-sum-exp (shifted by the
// maximum, so finite for any finite input), or the index of the first max or min (argmax, argmin: a float32 index).
// A reduction over all elements is outer = inner = 1; over the rows of [m, n] it is outer = 1, reduce = m, inner = n;
// a contiguous run of axes is one middle axis.
// Bindings: x (read), out (write), params {outer, reduce, inner, scale}.
// Both entries combine in a fixed order, so a result does not change from run to run.
// The op codes (SUM, MAX, …) are generated from the table in src/ops/reduce.ts and appended to this source.
//
// Grids follow shaders/prelude.wgsl:
// main, for long reductions over few outputs: one workgroup per output, w = workgroupIndex(…). Its 64
//   invocations each reduce a strided share of the reduced axis, then workgroupSum/workgroupMax combine the 64.
// columns, for many outputs or short rows: the 64-wide grid, invocation o = flatIndex(…) computes output o alone,
//   walking the reduced axis; there are no barriers (slow on software adapters), and when inner > 1 neighbouring
//   invocations read neighbouring addresses.

override OP: u32 = 0u;

struct Params { outer: u32, reduce: u32, inner: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

// Where output o's row starts in x; its elements are `inner` apart.
fn rowBase(o: u32) -> u32 {
  return (o / params.inner) * params.reduce * params.inner + o % params.inner;
}

// log-sum-exp from the row's maximum m and Σ exp(x − m); an infinite m is the answer itself (and would make
// x − m NaN).
fn logSumExpFrom(m: f32, shiftedSum: f32) -> f32 {
  if (abs(m) > 3.4028234e38) { return m; }
  return m + log(shiftedSum);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn columns(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = flatIndex(wid, nwg, lid);
  if (o >= params.outer * params.inner) { return; }
  let base = rowBase(o);
  let stride = params.inner;
  let first = x[base];
  var result = 0.0;
  switch OP {
    case SUM: {
      var sum = 0.0;
      for (var r = 0u; r < params.reduce; r++) { sum += x[base + r * stride]; }
      result = sum * params.scale;
    }
    case MAX, MIN, LOG_SUM_EXP: {
      var best = first;
      for (var r = 1u; r < params.reduce; r++) {
        let v = x[base + r * stride];
        best = select(max(best, v), min(best, v), OP == MIN);
      }
      result = best;
      if (OP == LOG_SUM_EXP && abs(best) <= 3.4028234e38) {
        var sum = 0.0;
        for (var r = 0u; r < params.reduce; r++) { sum += exp(x[base + r * stride] - best); }
        result = logSumExpFrom(best, sum);
      }
    }
    case ARGMAX, ARGMIN: {
      // Strictly better only, so the first of equal values wins.
      var best = first;
      var index = 0u;
      for (var r = 1u; r < params.reduce; r++) {
        let v = x[base + r * stride];
        if (select(v > best, v < best, OP == ARGMIN)) {
          best = v;
          index = r;
        }
      }
      result = f32(index);
    }
    default: { result = unknownOpCode(); }
  }
  out[o] = result;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = workgroupIndex(wid, nwg);
  // The whole workgroup leaves together, so the barriers below stay uniform.
  if (o >= params.outer * params.inner) { return; }
  let base = rowBase(o);
  let stride = params.inner;
  // Every lane starts from element 0, which is in every row: lanes with no share of a short row then hold a value
  // of the row, never an identity that could win.
  let first = x[base];
  // Negated for min and argmin, so that one workgroupMax serves both directions.
  let sign = select(1.0, -1.0, OP == MIN || OP == ARGMIN);
  var result = 0.0;
  if (OP == SUM) {
    var sum = 0.0;
    for (var r = lid.x; r < params.reduce; r += WORKGROUP_SIZE) { sum += x[base + r * stride]; }
    result = workgroupSum(&scratch, sum, lid.x) * params.scale;
  } else if (OP == MAX || OP == MIN || OP == LOG_SUM_EXP) {
    var best = sign * first;
    for (var r = lid.x; r < params.reduce; r += WORKGROUP_SIZE) { best = max(best, sign * x[base + r * stride]); }
    let m = sign * workgroupMax(&scratch, best, lid.x);
    result = m;
    if (OP == LOG_SUM_EXP) {
      var sum = 0.0;
      if (abs(m) <= 3.4028234e38) {
        for (var r = lid.x; r < params.reduce; r += WORKGROUP_SIZE) { sum += exp(x[base + r * stride] - m); }
      }
      result = logSumExpFrom(m, workgroupSum(&scratch, sum, lid.x));
    }
  } else if (OP == ARGMAX || OP == ARGMIN) {
    // Each lane keeps its first best index (its indices rise); the smallest index among lanes holding the overall
    // best is then the first occurrence in the row.
    var best = sign * first;
    var index = 0u;
    for (var r = lid.x; r < params.reduce; r += WORKGROUP_SIZE) {
      let v = sign * x[base + r * stride];
      if (v > best) {
        best = v;
        index = r;
      }
    }
    let m = workgroupMax(&scratch, best, lid.x);
    let candidate = select(-3.4028234e38, -f32(index), best == m);
    result = -workgroupMax(&scratch, candidate, lid.x);
  } else {
    result = unknownOpCode();
  }
  if (lid.x == 0u) { out[o] = result; }
}
