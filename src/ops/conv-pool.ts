// conv2d with its `maxPool` option: maxPool2d(act(conv2d(x, w, b)), k). For k = 2 (stride 2, no padding) and an
// activation whose derivative its output determines (identity, relu, tanh), two ops instead of four passes:
// conv2dMaxPool computes each 2×2 window in the forward kernel and saves its winner, and conv2dMaxPoolGrad turns ∂L/∂y
// into ∂L/∂z (z the convolution before the activation) in one kernel, which the convolution's gradients then read.
// Other sizes, and gelu, run conv2d and maxPool2d one after the other: the same values either way.
import { apply, defineOp, type Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { ACTIVATION_CODES, type ActivationKind } from './activation.js';
import { conv2dOp, convGrads, convParams, convolveCpu, convSource } from './conv.js';
import { checkConv, isDense3x3, traceDetail, uniforms, type Conv2dOptions, type ConvParams } from './conv-geometry.js';
import { pool2d } from './pool.js';
import poolSource from '../../shaders/conv2d_pool.wgsl?raw';

const shader = new Shader('conv2d_pool', `${convSource}\n${poolSource}`);

/** act'(z) as a function of y = act(z): the activations the fused pool can differentiate from its output. */
const SLOPE_FROM_OUTPUT: Partial<Record<ActivationKind, (y: number) => number>> = {
  identity: () => 1,
  relu: (y) => (y > 0 ? 1 : 0),
  tanh: (y) => 1 - y * y,
};

/** The pooled shape [N, O, ⌊Ho/2⌋, ⌊Wo/2⌋] of the convolution's output z. */
function pooledShape(z: Shape, x: Shape): Shape {
  if (z[2] < 2 || z[3] < 2) {
    throw new Error(
      `conv2d: maxPool 2 needs an output of at least 2×2, got ${formatShape(z)} from x ${formatShape(x)}`,
    );
  }
  return [z[0], z[1], Math.floor(z[2] / 2), Math.floor(z[3] / 2)];
}

/** y = maxPool2d(act(conv(x, w) + bias), 2): inputs [x, w, slots, bias?], slots written with each window's winner. */
export const conv2dMaxPoolOp = defineOp<ConvParams>({
  name: 'conv2dMaxPool',
  shape([x, w, slots, bias], p) {
    const out = pooledShape(checkConv('conv2d', x, w, p, bias), x);
    if (!sameShape(slots, out))
      throw new Error(`conv2dMaxPool: slots ${formatShape(slots)} must be the output's ${formatShape(out)}`);
    return out;
  },
  cpu([x, w, slots, bias], p, outShape) {
    const zShape = checkConv('conv2d', x.shape, w.shape, p, bias?.shape);
    const z = convolveCpu([x, w, bias], p, zShape, p.activation);
    const [planes, poolH, poolW] = [outShape[0] * outShape[1], outShape[2], outShape[3]];
    const [ho, wo] = [zShape[2], zShape[3]];
    const out = new Float64Array(sizeOf(outShape));
    for (let plane = 0; plane < planes; plane++)
      for (let r = 0; r < poolH; r++)
        for (let c = 0; c < poolW; c++) {
          const o = (plane * poolH + r) * poolW + c;
          let slot = 0;
          let best = NaN;
          for (let s = 0; s < 4; s++) {
            const v = z[(plane * ho + 2 * r + (s >> 1)) * wo + 2 * c + (s & 1)];
            // The first maximum in row-major order: a later value must be strictly larger.
            if (s === 0 || v > best) [best, slot] = [v, s];
          }
          out[o] = best;
          slots.data[o] = slot;
        }
    return out;
  },
  gpu(gpu, [x, w, slots, bias], p, out) {
    const zShape = checkConv('conv2d', x.shape, w.shape, p);
    const u = uniforms(x.shape, w.shape, zShape, p);
    const constants = { HAS_BIAS: bias !== undefined, ACTIVATION: ACTIVATION_CODES[p.activation] };
    const [, , poolH, poolW] = out.shape;
    // The 3×3 entry computes two neighbouring windows per invocation, the other one window.
    const kernel = isDense3x3(u)
      ? { name: 'conv2d_forward_max_pool_3x3', shader, entry: 'forward_max_pool_3x3', constants }
      : { name: 'conv2d_forward_max_pool', shader, entry: 'forward_max_pool', constants };
    const items = u.N * poolH * (isDense3x3(u) ? Math.ceil(poolW / 2) : poolW);
    const grid = [...elementwiseGrid(items), p.groups * Math.ceil(u.Og / 4)];
    const bindings = { x, w, bias: bias ?? w, out, slots, params: u };
    gpu.dispatch(kernel, bindings, grid, traceDetail(x.shape, w.shape, p));
  },
  // Y = maxPool(act(Z)): dZ is g·act'(Z) at each window's winner, 0 elsewhere; then the convolution's VJP.
  vjp: (g, [x, w, slots, bias], p, y) => {
    const zShape = checkConv('conv2d', x.shape, w.shape, p);
    const dz = apply(g.owner, conv2dMaxPoolGradOp, [g, slots, y], { activation: p.activation, shape: zShape });
    const [dx, dw, db] = convGrads(dz, bias ? [x, w, bias] : [x, w], p);
    return [dx, dw, null, ...(bias ? [db] : [])];
  },
});

interface PoolGradParams {
  activation: ActivationKind;
  /** z's shape [N, O, Ho, Wo]. */
  shape: Shape;
}

/** dz = ∂L/∂z from g = ∂L/∂y: inputs [g, slots, y], all [N, O, ⌊Ho/2⌋, ⌊Wo/2⌋]. */
export const conv2dMaxPoolGradOp = defineOp<PoolGradParams>({
  name: 'conv2dMaxPoolGrad',
  shape([g, slots, y], { activation, shape }) {
    const expected = pooledShape(shape, shape);
    if (!SLOPE_FROM_OUTPUT[activation])
      throw new Error(`conv2dMaxPoolGrad: no derivative of ${activation} from its output`);
    if (![g, slots, y].every((s) => sameShape(s, expected))) {
      throw new Error(
        `conv2dMaxPoolGrad: g ${formatShape(g)}, slots ${formatShape(slots)} and y ${formatShape(y)} must all be ${formatShape(expected)}`,
      );
    }
    return shape;
  },
  cpu([g, slots, y], { activation, shape }, outShape) {
    const slope = SLOPE_FROM_OUTPUT[activation]!;
    const [ho, wo] = [shape[2], shape[3]];
    const [poolH, poolW] = [g.shape[2], g.shape[3]];
    const out = new Float64Array(sizeOf(outShape));
    for (let o = 0; o < g.data.length; o++) {
      const plane = Math.floor(o / (poolH * poolW));
      const r = Math.floor(o / poolW) % poolH;
      const c = o % poolW;
      const s = slots.data[o];
      out[(plane * ho + 2 * r + (s >> 1)) * wo + 2 * c + (s & 1)] = g.data[o] * slope(y.data[o]);
    }
    return out;
  },
  gpu(gpu, [g, slots, y], { activation, shape }, out) {
    const [n, o, ho, wo] = shape;
    const params = { ...uniforms([n, o, 1, 1], [o, 1, 1, 1], shape, UNIT), size: sizeOf(shape) };
    const kernel = {
      name: 'conv2d_max_pool_grad',
      shader,
      entry: 'max_pool_grad',
      constants: { ACTIVATION: ACTIVATION_CODES[activation] },
    };
    const cells = n * o * Math.ceil(ho / 2) * Math.ceil(wo / 2);
    gpu.dispatch(kernel, { g, saved: slots, pooled: y, out, params }, elementwiseGrid(cells));
  },
});

// The geometry of a 1×1 convolution: only N, O, Ho and Wo of the uniform matter to max_pool_grad.
const UNIT = { stride: [1, 1], padBefore: [0, 0], padAfter: [0, 0], dilation: [1, 1], groups: 1 } as const;

/** The public conv2d: act(conv2d(x, w, bias)), then the `maxPool` option's pool, fused where it can be. */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null | undefined, options: Conv2dOptions = {}): Tensor {
  const p = convParams(x, w, bias, options);
  const inputs = bias ? [x, w, bias] : [x, w];
  const k = options.maxPool;
  if (k === undefined) return apply(x.owner, conv2dOp, inputs, p);
  if (!Number.isInteger(k) || k < 1)
    throw new Error(
      `conv2d: maxPool must be a positive integer, got ${JSON.stringify(k)} for x ${formatShape(x.shape)}`,
    );
  if (k !== 2 || !SLOPE_FROM_OUTPUT[p.activation]) return pool2d('max', apply(x.owner, conv2dOp, inputs, p), k);
  const outShape = pooledShape(checkConv('conv2d', x.shape, w.shape, p), x.shape);
  // NaN until the forward writes it, so that a slot no invocation wrote cannot pass for a winner.
  const slots = x.owner.tensor(new Float32Array(sizeOf(outShape)).fill(NaN), outShape);
  try {
    return apply(x.owner, conv2dMaxPoolOp, bias ? [x, w, slots, bias] : [x, w, slots], p);
  } finally {
    // The tape holds the slots for the backward pass; the handle is not the caller's.
    slots.dispose();
  }
}
