// Flags non-finite values, for rt.debug = { checkNumerics: true }.
// Bindings: x (read, the op's output seen as raw bits), flags (read_write, one slot per checked op),
//           params {size, slot}.
// Grid: the 64-wide grid of shaders/prelude.wgsl; invocation i = flatIndex(…) sets flags[slot] to 1 when x[i] is
// NaN or ±Inf (all exponent bits set).

struct Params { size: u32, slot: u32 }

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= params.size) { return; }
  if ((x[i] & 0x7f800000u) == 0x7f800000u) {
    atomicMax(&flags[params.slot], 1u);
  }
}
