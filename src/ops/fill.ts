import { apply, defineOp, type Context, type Tensor } from '../tensor/tensor.js';
import { sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import source from '../../shaders/fill.wgsl?raw';

const shader = new Shader('fill', source);

interface FillParams {
  shape: Shape;
  value: number;
}

export const fillOp = defineOp<FillParams>({
  name: 'fill',
  shape: (_inputs, { shape }) => shape,
  cpu: (_inputs, { value }, shape) => new Float64Array(sizeOf(shape)).fill(value),
  gpu(gpu, _inputs, { value }, out) {
    const size = sizeOf(out.shape);
    const bits = new Uint32Array(Float32Array.of(value).buffer)[0];
    gpu.dispatch({ name: 'fill', shader }, { out, params: { size, value: bits } }, elementwiseGrid(size));
  },
});

/** A tensor of one repeated value, made on the device without an upload. */
export function full(owner: Context, shape: Shape, value: number): Tensor {
  return apply(owner, fillOp, [], { shape, value });
}
