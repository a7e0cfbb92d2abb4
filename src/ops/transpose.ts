import { defineOp } from '../tensor/tensor.js';
import { apply, type Tensor } from '../tensor/tensor.js';
import { formatShape } from '../core/shape.js';
import { Shader } from '../core/shader.js';
import source from '../../shaders/transpose.wgsl?raw';

const shader = new Shader('transpose', source);

/** A materialised 2-D transpose, for users who ask for one. Gradient paths use matmul's flags instead. */
export const transposeOp = defineOp({
  name: 'transpose',
  shape([x]) {
    if (x.length !== 2) throw new Error(`transpose: expects a 2-D tensor, got ${formatShape(x)}`);
    return [x[1], x[0]];
  },
  cpu([x]) {
    const [rows, cols] = x.shape;
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x.data[r * cols + c];
    return out;
  },
  gpu(gpu, [x], _p, out) {
    const [rows, cols] = x.shape;
    gpu.dispatch({ name: 'transpose', shader }, { x, out, params: { rows, cols } }, [Math.ceil(cols / 16), Math.ceil(rows / 16)]);
  },
  vjp: (g) => [transpose(g)],
});

export function transpose(x: Tensor): Tensor {
  return apply(x.owner, transposeOp, [x], undefined);
}
