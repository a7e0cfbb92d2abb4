// Dropout with a counter-based mask: element i of a call keyed by (seed, counter) is kept when
// hash(seed, counter, i) ≥ threshold, all in u32 arithmetic, so that src/ops/dropout.ts (Math.imul, >>> 0)
// computes the same mask bit for bit. Kept elements are scaled by `scale` = 1/(1 − p).
// A key is 4 floats (seed low 16 bits, seed high 16 bits, counter low, counter high): halves that float32 holds
// exactly, so the CPU reference (float64) and the GPU store the same numbers.
// Bindings: x (read), key (read; `keyed` only), out (write), params {size, seed, counter, threshold, scale}.
// Grids: seeded and keyed use the 64-wide grid of shaders/prelude.wgsl, invocation i = flatIndex(…) writes out[i].
// snapshot (one invocation) copies the runtime's generator state into a fresh key; advance (one invocation) then
// adds 1 to the state's counter in place, so a replayed step draws a new mask each time.

struct Params { size: u32, seed: u32, counter: u32, threshold: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> key: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> counter: array<f32>;

fn mix32(v0: u32) -> u32 {
  var v = v0;
  v ^= v >> 16u;
  v *= 0x21f0aaadu;
  v ^= v >> 15u;
  v *= 0x735a2d97u;
  v ^= v >> 15u;
  return v;
}

fn maskBits(seed: u32, count: u32, i: u32) -> u32 {
  let callKey = mix32(mix32(seed ^ 0x9e3779b9u) ^ count);
  return mix32(callKey ^ (i * 0x85ebca6bu));
}

fn dropped(seed: u32, count: u32, i: u32) -> f32 {
  if (maskBits(seed, count, i) >= params.threshold) { return x[i] * params.scale; }
  return 0.0;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn seeded(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  out[i] = dropped(params.seed, params.counter, i);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn keyed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  let seed = u32(key[0]) | (u32(key[1]) << 16u);
  let count = u32(key[2]) | (u32(key[3]) << 16u);
  out[i] = dropped(seed, count, i);
}

@compute @workgroup_size(1)
fn snapshot() {
  for (var j = 0u; j < 4u; j++) { out[j] = state[j]; }
}

@compute @workgroup_size(1)
fn advance() {
  var low = counter[2] + 1.0;
  var high = counter[3];
  if (low >= 65536.0) {
    low = 0.0;
    high = select(high + 1.0, 0.0, high >= 65535.0);
  }
  counter[2] = low;
  counter[3] = high;
}
