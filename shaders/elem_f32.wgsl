// The element type of a kernel written over Elem, one float per invocation step (shaders/elem_vec4.wgsl is the other
// choice). Prepended to shaders/optimizer.wgsl and shaders/norm.wgsl.
alias Elem = f32;
const PER_INVOCATION = 1u;

// The sum of an Elem's floats.
fn total(v: Elem) -> f32 {
  return v;
}
