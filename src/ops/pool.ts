// 2-D max and average pooling over NCHW tensors. Forward: one invocation per output. Backward: one invocation per
// INPUT element that gathers from the windows covering it, so no two invocations write the same element (no
// atomics, no scatter) and each sums its terms in a fixed order: the gradient is the same bits on every run.
import { apply, defineOp, type Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../core/shape.js';
import { elementwiseGrid, type Bindings, type GpuOperand } from '../core/kernel.js';
import type { CpuOperand, Dispatcher } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import poolSource from '../../shaders/pool.wgsl?raw';

const poolShader = new Shader('pool', poolSource);

export type PoolKind = 'max' | 'avg';

/** A window size: one number for both axes, or [height, width]. */
export type Pool2dSize = number | readonly [number, number];

export interface Pool2dOptions {
  /** The step between windows; default: the kernel size, so windows tile the input. */
  stride?: Pool2dSize;
  /** Rows and columns added on each side (−∞ for max, 0 for avg); at most half the kernel. Default 0. */
  padding?: Pool2dSize;
}

interface PoolParams {
  kind: PoolKind;
  /**
   * Max only: the last input is a tensor of the output's shape that the forward fills with each window's winning
   * slot, i·kw + j within the window (small integers, exact in float32), for the backward to read.
   */
  saveSlots?: boolean;
  kernel: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
}

const opName = (kind: PoolKind) => (kind === 'max' ? 'maxPool2d' : 'avgPool2d');
const kernelPrefix = (kind: PoolKind) => (kind === 'max' ? 'max_pool2d' : 'avg_pool2d');

function pair(op: string, name: string, value: unknown, x: Shape, min: number): readonly [number, number] {
  const values = typeof value === 'number' ? [value, value] : value;
  if (
    !Array.isArray(values) ||
    values.length !== 2 ||
    !values.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= min)
  ) {
    const what = min === 0 ? 'non-negative integers' : 'positive integers';
    throw new Error(
      `${op}: ${name} must be a number or [h, w] of ${what}, got ${JSON.stringify(value)} for x ${formatShape(x)}`,
    );
  }
  return [values[0], values[1]];
}

/** Output extent along one axis: floor((size + 2·pad − kernel)/stride) + 1, as PyTorch without ceil_mode. */
function outExtent(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

function poolShape(x: Shape, { kind, kernel, stride, padding }: PoolParams): Shape {
  const op = opName(kind);
  if (x.length !== 4) throw new Error(`${op}: x must be 4-D [N, C, H, W], got ${formatShape(x)}`);
  const [n, c, h, w] = x;
  const window = `window ${kernel[0]}×${kernel[1]}`;
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new Error(`${op}: padding [${padding.join(', ')}] must be at most half the ${window} (x ${formatShape(x)})`);
  }
  if (h + 2 * padding[0] < kernel[0] || w + 2 * padding[1] < kernel[1]) {
    throw new Error(
      `${op}: the ${window} is larger than the padded input ${h + 2 * padding[0]}×${w + 2 * padding[1]} ` +
        `(x ${formatShape(x)}, padding [${padding.join(', ')}])`,
    );
  }
  return [n, c, outExtent(h, kernel[0], stride[0], padding[0]), outExtent(w, kernel[1], stride[1], padding[1])];
}

/** The uniform shared by every entry of shaders/pool.wgsl. */
function uniform(x: Shape, out: Shape, { kernel, stride, padding }: PoolParams, count: number) {
  return {
    count,
    height: x[2],
    width: x[3],
    outHeight: out[2],
    outWidth: out[3],
    kernelH: kernel[0],
    kernelW: kernel[1],
    strideH: stride[0],
    strideW: stride[1],
    padH: padding[0],
    padW: padding[1],
  };
}

/**
 * The slot i·kw + j of the first maximal element of window (oh, ow) of plane `plane`, row-major within the window;
 * padded positions are skipped, so padding never wins. The first real element seeds the search, so a NaN there
 * stands (as on the GPU); every window holds one, since padding is at most half the kernel.
 */
function firstMaxSlot(x: Float64Array, x4: Shape, plane: number, oh: number, ow: number, p: PoolParams): number {
  const [h, w] = [x4[2], x4[3]];
  let best = -Infinity;
  let slot = -1;
  for (let i = 0; i < p.kernel[0]; i++) {
    const row = oh * p.stride[0] - p.padding[0] + i;
    if (row < 0 || row >= h) continue;
    for (let j = 0; j < p.kernel[1]; j++) {
      const col = ow * p.stride[1] - p.padding[1] + j;
      if (col < 0 || col >= w) continue;
      const v = x[(plane * h + row) * w + col];
      if (slot < 0 || v > best) {
        best = v;
        slot = i * p.kernel[1] + j;
      }
    }
  }
  return slot;
}

/** The outputs whose windows cover input position `pos` along one axis: [first, last], maybe empty. */
function coveringRange(pos: number, kernel: number, stride: number, pad: number, outSize: number): [number, number] {
  const first = Math.max(0, Math.ceil((pos + pad - kernel + 1) / stride));
  const last = Math.min(outSize - 1, Math.floor((pos + pad) / stride));
  return [first, last];
}

export const poolOp = defineOp<PoolParams>({
  name: 'pool2d',
  shape(inputs, params) {
    const out = poolShape(inputs[0], params);
    if (params.saveSlots && !sameShape(inputs[1], out))
      throw new Error(`maxPool2d: saved slots ${formatShape(inputs[1])} must be the output's ${formatShape(out)}`);
    return out;
  },
  cpu(inputs, params, outShape) {
    const [x] = inputs;
    const [, , outH, outW] = outShape;
    const [h, w] = [x.shape[2], x.shape[3]];
    const planes = x.shape[0] * x.shape[1];
    const out = new Float64Array(sizeOf(outShape));
    const area = params.kernel[0] * params.kernel[1];
    for (let plane = 0; plane < planes; plane++)
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++) {
          const o = (plane * outH + oh) * outW + ow;
          if (params.kind === 'max') {
            const slot = firstMaxSlot(x.data, x.shape, plane, oh, ow, params);
            const row = oh * params.stride[0] - params.padding[0] + Math.floor(slot / params.kernel[1]);
            const col = ow * params.stride[1] - params.padding[1] + (slot % params.kernel[1]);
            out[o] = x.data[(plane * h + row) * w + col];
            if (params.saveSlots) inputs[1].data[o] = slot;
            continue;
          }
          let total = 0;
          for (let i = 0; i < params.kernel[0]; i++)
            for (let j = 0; j < params.kernel[1]; j++) {
              const row = oh * params.stride[0] - params.padding[0] + i;
              const col = ow * params.stride[1] - params.padding[1] + j;
              if (row >= 0 && row < h && col >= 0 && col < w) total += x.data[(plane * h + row) * w + col];
            }
          out[o] = total / area;
        }
    return out;
  },
  gpu(gpu: Dispatcher, [x, slots]: GpuOperand[], params, out) {
    const count = sizeOf(out.shape);
    const name = kernelPrefix(params.kind);
    const bindings: Bindings = { x, out, params: uniform(x.shape, out.shape, params, count) };
    if (params.saveSlots) bindings.slots = slots;
    gpu.dispatch(
      { name, shader: poolShader, entry: params.saveSlots ? 'max_forward_saving' : `${params.kind}_forward` },
      bindings,
      elementwiseGrid(count),
      { kernel: params.kernel.join('x'), stride: params.stride.join('x'), padding: params.padding.join('x') },
    );
  },
  // The saved slots are not differentiable.
  vjp: (g, inputs, params) => [apply(g.owner, poolGradOp, [...inputs, g], params), ...inputs.slice(1).map(() => null)],
});

/**
 * dx of a pooling given its output gradient g: [x, g] for avg, [x, slots, g] for max → the shape of x. Max reads the
 * winners the forward saved instead of searching each covering window again.
 */
export const poolGradOp = defineOp<PoolParams>({
  name: 'pool2dGrad',
  shape(inputs, params) {
    const [x, g] = [inputs[0], inputs[inputs.length - 1]];
    if (params.kind === 'max' && !(inputs.length === 3 && sameShape(inputs[1], g)))
      throw new Error(`maxPool2dGrad: needs the forward's saved slots, of the gradient's shape ${formatShape(g)}`);
    const expected = poolShape(x, params);
    if (!sameShape(g, expected)) {
      throw new Error(
        `${opName(params.kind)}Grad: gradient ${formatShape(g)} does not match the output ${formatShape(expected)} of x ${formatShape(x)}`,
      );
    }
    return x;
  },
  cpu(inputs: CpuOperand[], params) {
    const [x, g] = [inputs[0], inputs[inputs.length - 1]];
    const slots = params.kind === 'max' ? inputs[1].data : null;
    const [, , h, w] = x.shape;
    const [, , outH, outW] = g.shape;
    const planes = x.shape[0] * x.shape[1];
    const out = new Float64Array(sizeOf(x.shape));
    const area = params.kernel[0] * params.kernel[1];
    for (let plane = 0; plane < planes; plane++)
      for (let row = 0; row < h; row++) {
        const [ohFirst, ohLast] = coveringRange(row, params.kernel[0], params.stride[0], params.padding[0], outH);
        for (let col = 0; col < w; col++) {
          const [owFirst, owLast] = coveringRange(col, params.kernel[1], params.stride[1], params.padding[1], outW);
          let total = 0;
          for (let oh = ohFirst; oh <= ohLast; oh++)
            for (let ow = owFirst; ow <= owLast; ow++) {
              const o = (plane * outH + oh) * outW + ow;
              if (!slots) total += g.data[o] / area;
              else {
                const i = row - (oh * params.stride[0] - params.padding[0]);
                const j = col - (ow * params.stride[1] - params.padding[1]);
                if (slots[o] === i * params.kernel[1] + j) total += g.data[o];
              }
            }
          out[(plane * h + row) * w + col] = total;
        }
      }
    return out;
  },
  gpu(gpu, inputs, params, out) {
    const [x, g] = [inputs[0], inputs[inputs.length - 1]];
    const count = sizeOf(x.shape);
    // Neither entry reads x: only its shape matters.
    const bindings: Bindings = { g, out, params: uniform(x.shape, g.shape, params, count) };
    if (params.kind === 'max') bindings.saved = inputs[1];
    gpu.dispatch(
      { name: `${kernelPrefix(params.kind)}_backward`, shader: poolShader, entry: `${params.kind}_backward` },
      bindings,
      elementwiseGrid(count),
    );
  },
});

export function pool2d(kind: PoolKind, x: Tensor, kernel: Pool2dSize, options: Pool2dOptions = {}): Tensor {
  const op = opName(kind);
  const size = pair(op, 'kernel', kernel, x.shape, 1);
  const params: PoolParams = {
    kind,
    kernel: size,
    stride: options.stride === undefined ? size : pair(op, 'stride', options.stride, x.shape, 1),
    padding: options.padding === undefined ? [0, 0] : pair(op, 'padding', options.padding, x.shape, 0),
  };
  const owner = x.owner;
  if (kind === 'avg' || !(owner.gradEnabled && x.requiresGrad)) return apply(owner, poolOp, [x], params);
  const outShape = poolShape(x.shape, params);
  // NaN until the forward writes it, so that a slot no invocation wrote cannot pass for a winner.
  const slots = owner.tensor(new Float32Array(sizeOf(outShape)).fill(NaN), outShape);
  try {
    return apply(owner, poolOp, [x, slots], { ...params, saveSlots: true });
  } finally {
    // The tape holds the slots for the backward pass; the handle is not the caller's.
    slots.dispose();
  }
}
