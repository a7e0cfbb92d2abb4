// The element type of a kernel written over Elem, four floats per invocation step, for arrays whose length (or row
// length) is a multiple of 4: on SwiftShader each lane's access is a gather of its own, and a vec4's costs about
// half of four floats' (bench/NOTES.md). Prepended to shaders/optimizer.wgsl and shaders/norm.wgsl.
alias Elem = vec4<f32>;
const PER_INVOCATION = 4u;

// The sum of an Elem's floats.
fn total(v: Elem) -> f32 {
  return v.x + v.y + v.z + v.w;
}
