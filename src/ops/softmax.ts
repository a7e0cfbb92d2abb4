// Softmax and log-softmax along any axis: one fused kernel forward and one backward, reading the axis in place
// through an (outer, n, inner) view, so no permute is ever made.
import { apply, defineOp, type Tensor } from '../tensor/tensor.js';
import { formatShape, normalizeAxis, sameShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import softmaxSource from '../../shaders/softmax.wgsl?raw';

const softmaxShader = new Shader('softmax', softmaxSource);

interface SoftmaxParams {
  /** Non-negative. */
  axis: number;
  /** Log-softmax instead of softmax. */
  log: boolean;
}

/** The tensor seen as [outer, n, inner] around the axis. */
function lines(shape: Shape, axis: number) {
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

const opName = (log: boolean) => (log ? 'logSoftmax' : 'softmax');

function checkAxis(op: string, shape: Shape, axis: number): void {
  if (shape.length === 0) throw new Error(`${op}: needs at least one dimension, got a scalar ${formatShape(shape)}`);
  if (axis < 0 || axis >= shape.length)
    throw new Error(`${op}: axis ${axis} is out of range for shape ${formatShape(shape)}`);
}

export const softmaxOp = defineOp<SoftmaxParams>({
  name: 'softmax',
  shape([x], { axis, log }) {
    checkAxis(opName(log), x, axis);
    return x;
  },
  cpu([x], { axis, log }) {
    const { outer, n, inner } = lines(x.shape, axis);
    const out = new Float64Array(x.data.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let top = -Infinity;
        for (let j = 0; j < n; j++) top = Math.max(top, x.data[base + j * inner]);
        let total = 0;
        for (let j = 0; j < n; j++) total += Math.exp(x.data[base + j * inner] - top);
        for (let j = 0; j < n; j++) {
          const shifted = x.data[base + j * inner] - top;
          out[base + j * inner] = log ? shifted - Math.log(total) : Math.exp(shifted) / total;
        }
      }
    }
    return out;
  },
  gpu(gpu, [x], { axis, log }, out) {
    const params = lines(x.shape, axis);
    const kernel = {
      name: log ? 'log_softmax' : 'softmax',
      shader: softmaxShader,
      entry: 'forward',
      constants: { LOG: log },
    };
    gpu.dispatch(kernel, { x, out, params }, elementwiseGrid(params.outer * params.inner), { axis });
  },
  // Both gradients need only the output: one fused kernel reads y and G.
  vjp: (g, _inputs, params, output) => [apply(g.owner, softmaxGradOp, [output, g], params)],
});

/** dx from y (the forward's output) and g = ∂L/∂y. */
export const softmaxGradOp = defineOp<SoftmaxParams>({
  name: 'softmaxGrad',
  shape([y, g], { axis, log }) {
    checkAxis(`${opName(log)}Grad`, y, axis);
    if (!sameShape(y, g))
      throw new Error(`${opName(log)}Grad: gradient ${formatShape(g)} does not match output ${formatShape(y)}`);
    return y;
  },
  cpu([y, g], { axis, log }) {
    const { outer, n, inner } = lines(y.shape, axis);
    const out = new Float64Array(y.data.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let dot = 0;
        for (let j = 0; j < n; j++)
          dot += log ? g.data[base + j * inner] : g.data[base + j * inner] * y.data[base + j * inner];
        for (let j = 0; j < n; j++) {
          const at = base + j * inner;
          out[at] = log ? g.data[at] - Math.exp(y.data[at]) * dot : y.data[at] * (g.data[at] - dot);
        }
      }
    }
    return out;
  },
  gpu(gpu, [y, g], { axis, log }, out) {
    const params = lines(y.shape, axis);
    const kernel = {
      name: log ? 'log_softmax_grad' : 'softmax_grad',
      shader: softmaxShader,
      entry: 'backward',
      constants: { LOG: log },
    };
    gpu.dispatch(kernel, { y, g, out, params }, elementwiseGrid(params.outer * params.inner), { axis });
  },
});

/** exp(x − max) / Σ exp(x − max) along `axis` (negative counts from the end). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return apply(x.owner, softmaxOp, [x], { axis: normalizeAxis('softmax', axis, x.shape), log: false });
}

/** x − max − log Σ exp(x − max) along `axis` (negative counts from the end). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return apply(x.owner, softmaxOp, [x], { axis: normalizeAxis('logSoftmax', axis, x.shape), log: true });
}
