// Optimizer updates: one invocation per parameter element (Elem = f32), or per four (Elem = vec4<f32>, when the size
// is a multiple of 4: half the cost per element on SwiftShader, bench/NOTES.md), writing the parameter and its state
// in place. Elem and PER_INVOCATION come from shaders/elem_f32.wgsl or elem_vec4.wgsl, prepended.
// Grid: the 64-wide grid of shaders/prelude.wgsl, invocation i = flatIndex(…) updates element i of the Elem arrays;
// invocations past size / PER_INVOCATION return. Each element is independent, so no barriers are needed.
// Entry points and bindings (params is one struct for all entries; each reads only its own fields):
//   sgd:          param (read_write), grad (read), params {size, lr, momentum, weightDecay}
//   sgd_momentum: param, velocity (read_write), grad (read), params
//   adam:         param, m, v (read_write), grad (read), stepCount (read), params {size, lr, beta1, beta2, eps,
//                 weightDecay, firstStep}
//   count_step:   stepCount (read_write): one invocation adds 1, after every parameter's update of the step.
// Adam's step t comes from a counter on the device, not from a uniform: a recorded step (rt.compile) replays the
// same dispatches and uniforms, and still gets this step's bias correction. t = stepCount − firstStep + 1, where
// firstStep is the count when this parameter took its first step.

struct Params {
  size: u32, lr: f32, weightDecay: f32,
  momentum: f32,
  beta1: f32, beta2: f32, eps: f32, firstStep: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<Elem>;
@group(0) @binding(1) var<storage, read> grad: array<Elem>;
@group(0) @binding(2) var<storage, read_write> velocity: array<Elem>;
@group(0) @binding(3) var<storage, read_write> m: array<Elem>;
@group(0) @binding(4) var<storage, read_write> v: array<Elem>;
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(6) var<storage, read_write> stepCount: array<f32>;

// p ← p − lr·(g + λ·p)
@compute @workgroup_size(WORKGROUP_SIZE)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size / PER_INVOCATION) { return; }
  let p = param[i];
  param[i] = p - params.lr * (grad[i] + params.weightDecay * p);
}

// u ← μ·u + (g + λ·p);  p ← p − lr·u   (PyTorch's convention: no dampening, lr outside the velocity)
@compute @workgroup_size(WORKGROUP_SIZE)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size / PER_INVOCATION) { return; }
  let p = param[i];
  let u = params.momentum * velocity[i] + grad[i] + params.weightDecay * p;
  velocity[i] = u;
  param[i] = p - params.lr * u;
}

// m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·(1 − lr·λ) − lr·m̂/(√v̂ + ε)
// Decoupled weight decay (AdamW); with λ = 0 this is Adam.
@compute @workgroup_size(WORKGROUP_SIZE)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  let s = params;
  if (i >= s.size / PER_INVOCATION) { return; }
  let g = grad[i];
  let mi = s.beta1 * m[i] + (1.0 - s.beta1) * g;
  let vi = s.beta2 * v[i] + (1.0 - s.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let t = stepCount[0] - s.firstStep + 1.0;
  let mHat = mi / (1.0 - pow(s.beta1, t));
  let vHat = vi / (1.0 - pow(s.beta2, t));
  param[i] = param[i] * (1.0 - s.lr * s.weightDecay) - s.lr * mHat / (sqrt(vHat) + s.eps);
}

// stepCount[0] += 1, once per optimizer step; dispatched after the step's parameter updates, which it follows in order.
@compute @workgroup_size(1)
fn count_step() {
  stepCount[0] = stepCount[0] + 1.0;
}
