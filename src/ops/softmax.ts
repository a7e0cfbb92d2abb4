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
  /** The input is read as scale·x (attention's scores, unscaled); 1 for a plain softmax. */
  scale: number;
  /**
   * Attention's causal mask, applied in the kernel (the last axis only, softmax only): line r is query
   * i = r % rows, which sees keys j ≤ i + offset; the others get 0. Null for a plain softmax.
   */
  causal: { rows: number; offset: number } | null;
}

/** How many of a line's n keys line r sees. */
function visibleKeys(r: number, n: number, causal: SoftmaxParams['causal']): number {
  return causal ? Math.min(n, Math.max(0, (r % causal.rows) + causal.offset + 1)) : n;
}

/** The kernel's uniforms: the [outer, n, inner] view, the scale and the causal rows. */
function kernelParams(shape: Shape, { axis, scale, causal }: SoftmaxParams) {
  return { ...lines(shape, axis), scale, rows: causal?.rows ?? 1, offset: causal?.offset ?? 0 };
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
  shape([x], { axis, log, causal }) {
    checkAxis(opName(log), x, axis);
    if (causal && (log || axis !== x.length - 1))
      throw new Error(`${opName(log)}: a causal mask needs a softmax over the last axis, got axis ${axis}`);
    return x;
  },
  cpu([x], { axis, log, scale, causal }) {
    const { outer, n, inner } = lines(x.shape, axis);
    const out = new Float64Array(x.data.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        const count = visibleKeys(o * inner + i, n, causal);
        const at = (j: number) => scale * x.data[base + j * inner];
        let top = -Infinity;
        for (let j = 0; j < count; j++) top = Math.max(top, at(j));
        let total = 0;
        for (let j = 0; j < count; j++) total += Math.exp(at(j) - top);
        for (let j = 0; j < n; j++) {
          const shifted = at(j) - top;
          const y = j >= count ? 0 : log ? shifted - Math.log(total) : Math.exp(shifted) / total;
          out[base + j * inner] = count === 0 ? NaN : y;
        }
      }
    }
    return out;
  },
  gpu(gpu, [x], p, out) {
    const params = kernelParams(x.shape, p);
    const kernel = {
      name: p.log ? 'log_softmax' : p.causal ? 'softmax_causal' : 'softmax',
      shader: softmaxShader,
      entry: 'forward',
      constants: { LOG: p.log, CAUSAL: p.causal !== null },
    };
    gpu.dispatch(kernel, { x, out, params }, elementwiseGrid(params.outer * params.inner), { axis: p.axis });
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
  cpu([y, g], { axis, log, scale }) {
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
          out[at] = scale * (log ? g.data[at] - Math.exp(y.data[at]) * dot : y.data[at] * (g.data[at] - dot));
        }
      }
    }
    return out;
  },
  gpu(gpu, [y, g], p, out) {
    // Hidden keys have y = 0, so the gradient needs no mask: CAUSAL stays off.
    const params = kernelParams(y.shape, p);
    const kernel = {
      name: p.log ? 'log_softmax_grad' : 'softmax_grad',
      shader: softmaxShader,
      entry: 'backward',
      constants: { LOG: p.log },
    };
    gpu.dispatch(kernel, { y, g, out, params }, elementwiseGrid(params.outer * params.inner), { axis: p.axis });
  },
});

/** exp(x − max) / Σ exp(x − max) along `axis` (negative counts from the end). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const params = { axis: normalizeAxis('softmax', axis, x.shape), log: false, scale: 1, causal: null };
  return apply(x.owner, softmaxOp, [x], params);
}

/** x − max − log Σ exp(x − max) along `axis` (negative counts from the end). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const params = { axis: normalizeAxis('logSoftmax', axis, x.shape), log: true, scale: 1, causal: null };
  return apply(x.owner, softmaxOp, [x], params);
}

/**
 * softmax(scale·x) over the last axis of attention's scores x [..., T, S], one kernel forward and one backward;
 * with `causal`, query i sees keys j ≤ i + (S − T) only (the others get 0), as an added −∞ mask would give.
 */
export function attentionSoftmax(x: Tensor, scale: number, causal: boolean): Tensor {
  if (x.rank < 2) throw new Error(`attentionSoftmax: scores must be [..., T, S], got ${formatShape(x.shape)}`);
  const [t, s] = x.shape.slice(-2);
  const params = { axis: x.rank - 1, log: false, scale, causal: causal ? { rows: t, offset: s - t } : null };
  return apply(x.owner, softmaxOp, [x], params);
}
