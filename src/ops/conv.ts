// 2-D convolution (and 1-D, as a view of it) in PyTorch's layouts: x [N, C, H, W], w [O, C/groups, kh, kw], bias [O].
// Three ops, one per product of the implicit GEMM: the forward Y = P·Wᵀ, the input gradient dP = g·W folded onto x
// (a transposed convolution, gathered), and the weight gradient dW = gᵀ·P. Their CPU references are the direct loops
// over the convolution's definition; their GPU kernels (shaders/conv2d.wgsl) never store the patch matrix P.
import { apply, defineOp, type OpDef, type Tensor } from '../tensor/tensor.js';
import { formatShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid, type Dispatcher, type GpuOperand } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { reshape } from './views.js';
import { sum } from './reduce.js';
import { binary } from './elementwise.js';
import {
  ACTIVATION_CODES,
  activationRow,
  activationWgsl,
  resolveActivation,
  type ActivationKind,
} from './activation.js';
import {
  checkConv,
  convGeometry,
  eachProduct,
  geometryOf,
  isDense3x3,
  traceDetail,
  uniforms,
  type Conv1dOptions,
  type Conv2dOptions,
  type ConvGeometry,
  type ConvParams,
  type GradParams,
} from './conv-geometry.js';
import source from '../../shaders/conv2d.wgsl?raw';
import source3x3 from '../../shaders/conv2d_3x3.wgsl?raw';
import sourceWeight3x3 from '../../shaders/conv2d_weight_3x3.wgsl?raw';

export { convGeometry, type Conv1dOptions, type Conv2dOptions, type ConvGeometry, type ConvParams, type GradParams };

/** conv2d.wgsl with the epilogue's activations; shaders/conv2d_pool.wgsl extends this source. */
export const convSource = `${source}\n${source3x3}\n${sourceWeight3x3}\n${activationWgsl}`;
const shader = new Shader('conv2d', convSource);

/** y = act(conv(x, w) + bias), before any activation the plain convolution. */
export function convolveCpu(
  [x, w, bias]: { data: Float64Array; shape: Shape }[],
  geo: ConvGeometry,
  outShape: Shape,
  activation: ActivationKind,
): Float64Array {
  const out = new Float64Array(sizeOf(outShape));
  eachProduct(x.shape, w.shape, outShape, geo, (xi, wi, yi) => (out[yi] += x.data[xi] * w.data[wi]));
  const plane = outShape[2] * outShape[3];
  const act = activationRow(activation).cpu;
  for (let e = 0; e < out.length; e++)
    out[e] = act(out[e] + (bias ? bias.data[Math.floor(e / plane) % outShape[1]] : 0));
  return out;
}

/**
 * The VJP of a convolution given dz = ∂L/∂z, z = conv(x, w) + bias: dx (the transposed convolution), dW = dzᵀ·P
 * and db = Σ dz over the batch and the pixels.
 */
export function convGrads(dz: Tensor, [x, w, bias]: Tensor[], geo: ConvGeometry): (Tensor | null)[] {
  const geometry = geometryOf(geo);
  return [
    x.requiresGrad ? apply(dz.owner, conv2dInputGradOp, [dz, w], { geometry, shape: x.shape }) : null,
    w.requiresGrad ? apply(dz.owner, conv2dWeightGradOp, [dz, x], { geometry, shape: w.shape }) : null,
    ...(bias ? [bias.requiresGrad ? sum(dz, [0, 2, 3]) : null] : []),
  ];
}

export const conv2dOp: OpDef<ConvParams> = defineOp<ConvParams>({
  name: 'conv2d',
  shape([x, w, bias], p) {
    return checkConv('conv2d', x, w, p, bias);
  },
  cpu(inputs, p, outShape) {
    return convolveCpu(inputs, p, outShape, p.activation);
  },
  gpu(gpu, [x, w, bias], p, out) {
    const u = uniforms(x.shape, w.shape, out.shape, p);
    const constants = { HAS_BIAS: bias !== undefined, ACTIVATION: ACTIVATION_CODES[p.activation] };
    const tiled = isDense3x3(u);
    const kernel = tiled
      ? { name: 'conv2d_forward_3x3', shader, entry: 'forward_3x3', constants }
      : { name: 'conv2d_forward', shader, entry: 'forward', constants };
    // forward_3x3: one invocation per 2×4 tile of pixels; forward: one per 4 consecutive pixels.
    const items = tiled ? u.N * Math.ceil(u.Ho / 2) * Math.ceil(u.Wo / 4) : Math.ceil((u.N * u.Ho * u.Wo) / 4);
    const grid = [...elementwiseGrid(items), p.groups * Math.ceil(u.Og / 4)];
    // A bias-less kernel still declares the binding; any read-only buffer satisfies it.
    gpu.dispatch(kernel, { x, w, bias: bias ?? w, out, params: u }, grid, traceDetail(x.shape, w.shape, p));
  },
  // Y = act(Z): dZ = G ⊙ act'(Z), written in Y where it can be (relu, tanh), else from Z recomputed (gelu).
  vjp: (g, inputs, p, y) => {
    const grad = activationRow(p.activation).grad;
    const from = grad?.from === 'input' ? apply(g.owner, conv2dOp, inputs, { ...p, activation: 'identity' }) : y;
    return convGrads(grad ? binary(grad.op, g, from) : g, inputs, p);
  },
});

function checkGradient(op: string, g: Shape, x: Shape, w: Shape, geo: ConvGeometry) {
  const y = checkConv(op, x, w, geo);
  if (g.length !== 4 || g.some((d, i) => d !== y[i])) {
    throw new Error(
      `${op}: gradient ${formatShape(g)} does not match the output ${formatShape(y)} of x ${formatShape(x)} and w ${formatShape(w)}`,
    );
  }
}

/** dx = the transposed convolution of g [N, O, Ho, Wo] with w: inputs [g, w], the shape of x as a parameter. */
export const conv2dInputGradOp: OpDef<GradParams> = defineOp<GradParams>({
  name: 'conv2dInputGrad',
  shape([g, w], { geometry, shape }) {
    checkGradient('conv2dInputGrad', g, shape, w, geometry);
    return shape;
  },
  cpu([g, w], { geometry, shape }) {
    const out = new Float64Array(sizeOf(shape));
    eachProduct(shape, w.shape, g.shape, geometry, (xi, wi, yi) => (out[xi] += g.data[yi] * w.data[wi]));
    return out;
  },
  gpu(gpu, [g, w], { geometry, shape }, out) {
    const u = uniforms(shape, w.shape, g.shape, geometry);
    const tiled = isDense3x3(u);
    // input_grad_3x3: one invocation per 2×4 tile of input pixels; input_grad: one per 4 consecutive pixels.
    const items = tiled ? u.N * Math.ceil(u.H / 2) * Math.ceil(u.W / 4) : Math.ceil((u.N * u.H * u.W) / 4);
    const grid = [...elementwiseGrid(items), geometry.groups * Math.ceil(u.Cg / 4)];
    const kernel = tiled
      ? { name: 'conv2d_input_grad_3x3', shader, entry: 'input_grad_3x3' }
      : { name: 'conv2d_input_grad', shader, entry: 'input_grad' };
    gpu.dispatch(kernel, { g, w, out, params: u }, grid, traceDetail(shape, w.shape, geometry));
  },
  // Linear in each input: the forward convolution and the weight gradient are its VJPs.
  vjp: (gx, [g, w], { geometry }) => [
    apply(gx.owner, conv2dOp, [gx, w], { ...geometry, activation: 'identity' }),
    apply(gx.owner, conv2dWeightGradOp, [g, gx], { geometry, shape: w.shape }),
  ],
});

/** dW = gᵀ·P: inputs [g, x], the shape of w as a parameter. */
export const conv2dWeightGradOp: OpDef<GradParams> = defineOp<GradParams>({
  name: 'conv2dWeightGrad',
  shape([g, x], { geometry, shape }) {
    checkGradient('conv2dWeightGrad', g, x, shape, geometry);
    return shape;
  },
  cpu([g, x], { geometry, shape }) {
    const out = new Float64Array(sizeOf(shape));
    eachProduct(x.shape, shape, g.shape, geometry, (xi, wi, yi) => (out[wi] += g.data[yi] * x.data[xi]));
    return out;
  },
  gpu(gpu, [g, x], { geometry, shape }, out) {
    dispatchWeightGrad(gpu, g, x, shape, geometry, out);
  },
  vjp: (gw, [g, x], { geometry }) => [
    apply(gw.owner, conv2dOp, [x, gw], { ...geometry, activation: 'identity' }),
    apply(gw.owner, conv2dInputGradOp, [g, gw], { geometry, shape: x.shape }),
  ],
});

// Enough independent blocks × splits to keep every core of a software adapter (and a GPU's first wave) busy,
// and no split shorter than this many output pixels, whose partial sum would cost more to store than to add.
const TARGET_INVOCATIONS = 512;
const MIN_SPLIT_PIXELS = 64;

/**
 * The number of splits of the reduction over N·Ho·Wo: the first layers have few weights (O·C·kh·kw) and many pixels,
 * so without splits a handful of invocations would each walk the whole batch.
 */
export function weightGradSplits(blocks: number, items: number, minPerSplit = MIN_SPLIT_PIXELS): number {
  return Math.max(1, Math.min(Math.ceil(items / minPerSplit), Math.ceil(TARGET_INVOCATIONS / blocks)));
}

function dispatchWeightGrad(
  gpu: Dispatcher,
  g: GpuOperand,
  x: GpuOperand,
  wShape: Shape,
  geo: ConvGeometry,
  out: GpuOperand,
) {
  const u = uniforms(x.shape, wShape, g.shape, geo);
  const pixels = u.N * u.Ho * u.Wo;
  const size = sizeOf(wShape);
  // A 3×3 kernel has its own entries: 4 channels × the 9 taps of one input channel per invocation, walking 2×4 tiles
  // of output pixels when dense (stride 1, dilation 1), else pixel by pixel.
  const taps3x3 = u.kh === 3 && u.kw === 3;
  const tiled = isDense3x3(u);
  const blocks = geo.groups * Math.ceil(u.Og / 4) * (taps3x3 ? u.Cg : Math.ceil((u.Cg * u.kh * u.kw) / 4));
  const [name, entry] = tiled
    ? ['conv2d_weight_grad_3x3_tiles', 'weight_grad_3x3_tiles']
    : taps3x3
      ? ['conv2d_weight_grad_3x3', 'weight_grad_3x3']
      : ['conv2d_weight_grad', 'weight_grad'];
  // What a split divides: tiles of 8 pixels, or pixels.
  const items = tiled ? u.N * Math.ceil(u.Ho / 2) * Math.ceil(u.Wo / 4) : pixels;
  const mChunk = Math.ceil(items / weightGradSplits(blocks, items, tiled ? MIN_SPLIT_PIXELS / 8 : MIN_SPLIT_PIXELS));
  const splits = Math.ceil(items / mChunk);
  const params = { ...u, mChunk, splits, size };
  const detail = { ...traceDetail(x.shape, wShape, geo), splits };
  const grid = elementwiseGrid(blocks * splits);
  if (splits === 1) {
    gpu.dispatch({ name, shader, entry }, { g, x, out, params }, grid, detail);
    return;
  }
  const partials = gpu.scratch(splits * size);
  gpu.dispatch({ name: `${name}_splitk`, shader, entry }, { g, x, out: partials, params }, grid, detail);
  const sumKernel = { name: `${name}_splitk_sum`, shader, entry: 'weight_grad_sum' };
  gpu.dispatch(sumKernel, { partials, out, params }, elementwiseGrid(size), detail);
}

/** conv2d's options resolved and checked (the activation too), for the forward ops. */
export function convParams(x: Tensor, w: Tensor, bias: Tensor | null | undefined, options: Conv2dOptions): ConvParams {
  if (x.rank !== 4) throw new Error(`conv2d: x must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  if (w.rank !== 4) throw new Error(`conv2d: w must be 4-D [O, C/groups, kh, kw], got ${formatShape(w.shape)}`);
  const geo = convGeometry('conv2d', x.shape, w.shape, options);
  const activation = resolveActivation('conv2d', options.activation ?? 'identity');
  checkConv('conv2d', x.shape, w.shape, geo, bias?.shape);
  return { ...geo, activation };
}

/** conv1d as conv2d over views [N, C, 1, L] and [O, C/groups, 1, k]: nothing is copied. */
export function conv1d(x: Tensor, w: Tensor, bias: Tensor | null | undefined, options: Conv1dOptions = {}): Tensor {
  if (x.rank !== 3) throw new Error(`conv1d: x must be 3-D [N, C, L], got ${formatShape(x.shape)}`);
  if (w.rank !== 3) throw new Error(`conv1d: w must be 3-D [O, C/groups, k], got ${formatShape(w.shape)}`);
  const x4 = [x.shape[0], x.shape[1], 1, x.shape[2]];
  const w4 = [w.shape[0], w.shape[1], 1, w.shape[2]];
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
  const scalar = (what: string, v: unknown) => {
    if (typeof v !== 'number') throw new Error(`conv1d: ${what} must be a number, got ${JSON.stringify(v)}`);
    return [1, v] as const;
  };
  const geo = convGeometry('conv1d', x4, w4, {
    stride: scalar('stride', stride),
    dilation: scalar('dilation', dilation),
    padding: typeof padding === 'number' ? [0, padding] : padding,
    groups,
  });
  const y4 = checkConv('conv1d', x4, w4, geo, bias?.shape);
  const inputs = [reshape(x, x4), reshape(w, w4), ...(bias ? [bias] : [])];
  const y = apply(x.owner, conv2dOp, inputs, { ...geo, activation: 'identity' });
  return reshape(y, [y4[0], y4[1], y4[3]]);
}
