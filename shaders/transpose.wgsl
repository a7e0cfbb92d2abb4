// 2-D transpose: out[c, r] = x[r, c] for x of shape [rows, cols].
// Bindings: x (read), out (write), params {rows, cols}.
// Grid: (ceil(cols / 16), ceil(rows / 16)) workgroups of 16×16 invocations.
// One invocation moves one element through a 16×16 tile in workgroup memory, so reads and writes both coalesce.

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// One padding column keeps the column reads free of bank conflicts.
var<workgroup> tile: array<array<f32, 17>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y * 16u + lid.y;
  let c = wid.x * 16u + lid.x;
  if (r < params.rows && c < params.cols) {
    tile[lid.y][lid.x] = x[r * params.cols + c];
  }
  workgroupBarrier();
  let outRow = wid.x * 16u + lid.y;
  let outCol = wid.y * 16u + lid.x;
  if (outRow < params.cols && outCol < params.rows) {
    out[outRow * params.rows + outCol] = tile[lid.x][lid.y];
  }
}
