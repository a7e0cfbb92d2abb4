// Appended by the Shader class to every kernel's source (after it, so that `enable` directives stay first and
// compiler line numbers match the kernel's own file). Functions, consts and structs only: WGSL ignores unused ones,
// whereas an override or a workgroup variable here would land in every module's interface.
//
// The 64-wide grid: a 1-D problem runs on (x, y) workgroups of WORKGROUP_SIZE invocations, with x ≤ 65535 and y
// taking the rest (elementwiseGrid in src/backend/webgpu/dispatcher.ts); flatIndex numbers the invocations 0, 1, …
// in that order. Kernels that give a workgroup one output use workgroupIndex instead.

// The TS side reads the same number as WORKGROUP_SIZE in src/backend/webgpu/dispatcher.ts.
const WORKGROUP_SIZE = 64u;

fn workgroupIndex(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return workgroupIndex(wid, nwg) * WORKGROUP_SIZE + lid.x;
}

// Tree reductions over one value per invocation of a WORKGROUP_SIZE-wide workgroup, in a fixed order, so a result
// does not change from run to run. Every invocation gets the total. The caller owns the workgroup scratch array,
// since a workgroup variable declared here would be shared by every kernel in a module. All invocations of the
// workgroup must call these together (they contain barriers).
fn workgroupSum(scratch: ptr<workgroup, array<f32, WORKGROUP_SIZE>>, v: f32, lane: u32) -> f32 {
  (*scratch)[lane] = v;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
    if (lane < half) { (*scratch)[lane] += (*scratch)[lane + half]; }
    workgroupBarrier();
  }
  let total = (*scratch)[0];
  workgroupBarrier();
  return total;
}

fn workgroupMax(scratch: ptr<workgroup, array<f32, WORKGROUP_SIZE>>, v: f32, lane: u32) -> f32 {
  (*scratch)[lane] = v;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
    if (lane < half) { (*scratch)[lane] = max((*scratch)[lane], (*scratch)[lane + half]); }
    workgroupBarrier();
  }
  let total = (*scratch)[0];
  workgroupBarrier();
  return total;
}

// GELU in its tanh form and the clamped tanh, written once for the unary/binary kernels and the matmul epilogue.
// The CPU twins are in src/ops/activation.ts.
// Clamped because tanh overflows in some implementations once |x| passes about 44.
fn safeTanh(v: f32) -> f32 {
  return tanh(clamp(v, -20.0, 20.0));
}

const GELU_C = 0.7978845608; // √(2/π)

fn gelu(v: f32) -> f32 {
  return 0.5 * v * (1.0 + safeTanh(GELU_C * (v + 0.044715 * v * v * v)));
}

fn geluDerivative(v: f32) -> f32 {
  let t = safeTanh(GELU_C * (v + 0.044715 * v * v * v));
  return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * 0.044715 * v * v);
}

// A value that cannot pass for a result: what a `switch` on an op code returns for a code with no case, so a
// table/shader mismatch shows up as NaN (and trips checkNumerics) instead of silently computing something else.
fn unknownOpCode() -> f32 {
  // Through a var: a constant NaN would be a shader-creation error.
  var bits = 0x7fc0deadu;
  return bitcast<f32>(bits);
}

// N-D indexing for kernels with one invocation per output element. Shapes and strides are padded on the left to
// rank 8 (padLeft in src/core/shape.ts: shape with 1, strides with 0) and packed as an Index8: dimensions 0-3 in
// `high`, 4-7 in `low`. unravelIndex turns a row-major index into coordinates once; stridedOffset then reads each
// operand through its strides (0 along a broadcast dimension, permuted for a permute). The CPU twin is stridedIndex
// in src/core/shape.ts. Written with two vec4s, no arrays, loops or runtime indices: SwiftShader ran an elementwise
// add 3-5× slower with uniform arrays (array<vec4<u32>, 2>) or a loop over the dimensions.
struct Index8 { high: vec4<u32>, low: vec4<u32> }

fn unravelIndex(index: u32, shape: Index8) -> Index8 {
  var rest = index;
  let low = unravel4(&rest, shape.low);
  // Up to rank 4 the upper dimensions are all 1: a uniform branch, so low ranks skip their divisions.
  var high = vec4<u32>(0u);
  if (any(shape.high != vec4<u32>(1u))) { high = unravel4(&rest, shape.high); }
  return Index8(high, low);
}

// unravelIndex for rank ≤ 4, where the upper half is all 1. Kernels choose between the two with an override
// constant (HIGH_DIMS), since SwiftShader evaluates both sides of a branch on a uniform value.
fn unravelIndexLow(index: u32, shape: Index8) -> Index8 {
  var rest = index;
  return Index8(vec4<u32>(0u), unravel4(&rest, shape.low));
}

// Four dimensions of unravelIndex, innermost (w) first; `rest` carries the index on to the next four.
// One division per dimension, the remainder by a multiply-subtract: SwiftShader emulates u32 division (and modulo)
// lane by lane, so this halves what unravelling costs there.
fn unravel4(rest: ptr<function, u32>, shape: vec4<u32>) -> vec4<u32> {
  let r0 = *rest;
  let q0 = r0 / shape.w;
  let q1 = q0 / shape.z;
  let q2 = q1 / shape.y;
  let q3 = q2 / shape.x;
  *rest = q3;
  return vec4<u32>(q2 - q3 * shape.x, q1 - q2 * shape.y, q0 - q1 * shape.z, r0 - q0 * shape.w);
}

fn stridedOffset(coords: Index8, strides: Index8) -> u32 {
  return dot(coords.high, strides.high) + dot(coords.low, strides.low);
}

// The logistic function, from whichever side keeps exp from overflowing. The CPU twin is in src/ops/scalar.ts.
fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}
