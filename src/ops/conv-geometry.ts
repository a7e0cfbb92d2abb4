// What a convolution is, apart from its kernels: the options (resolved and checked, with errors that name the op and
// the shapes), the output size, the seven loops of the definition that every CPU reference walks, and the uniform
// that every kernel of shaders/conv2d*.wgsl reads.
import { formatShape, type Shape } from '../core/shape.js';
import type { Activation, ActivationKind } from './activation.js';

export type Pair = number | readonly [number, number];
export type Padding = Pair | 'same' | 'valid';

export interface Conv2dOptions {
  /** A number, or [along H, along W]; default 1. */
  stride?: Pair;
  /**
   * A number or [ph, pw] of zeros on both sides; 'valid' is 0; 'same' (stride 1 only) pads so that the output has the
   * input's size, dilation·(k − 1) in all, with the odd one after when that is odd (as PyTorch).
   */
  padding?: Padding;
  /** A number, or [along H, along W]; default 1. */
  dilation?: Pair;
  /** Splits the channels into this many independent convolutions; C and O must be multiples. `groups = C` is depthwise. */
  groups?: number;
  /** Applied to y (after the bias) in the forward kernel's epilogue, as `rt.linear` does; default 'identity'. */
  activation?: Activation;
  /**
   * A k×k max pool with stride k after the activation: `maxPool2d(act(conv2d(x, w, b)), k)`. For k = 2 and an
   * activation other than gelu, the forward kernel computes each 2×2 window itself and the backward is one kernel.
   */
  maxPool?: number;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

/** Everything about a convolution that is not a tensor: resolved from the options and the kernel's size. */
export interface ConvGeometry {
  stride: readonly [number, number];
  padBefore: readonly [number, number];
  padAfter: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
}

/** The forward op's parameters: the geometry and the epilogue's activation. */
export interface ConvParams extends ConvGeometry {
  activation: ActivationKind;
}

/** The geometry alone, as the gradient ops take it. */
export function geometryOf({ stride, padBefore, padAfter, dilation, groups }: ConvGeometry): ConvGeometry {
  return { stride, padBefore, padAfter, dilation, groups };
}

export interface GradParams {
  geometry: ConvGeometry;
  /** The shape of the tensor whose gradient the op makes (x for the input gradient, w for the weight gradient). */
  shape: Shape;
}

/** Ho and Wo, or an Error naming the op and the shapes when the dilated kernel does not fit the padded input. */
function outputSize(op: string, x: Shape, w: Shape, geo: ConvGeometry): [number, number] {
  const size = [0, 1].map((d) => {
    const padded = x[2 + d] + geo.padBefore[d] + geo.padAfter[d];
    const span = geo.dilation[d] * (w[2 + d] - 1) + 1;
    if (span > padded) {
      throw new Error(
        `${op}: the kernel ${formatShape(w.slice(2))} (dilated to ${span} along ${d ? 'W' : 'H'}) is larger than the padded input ${formatShape(x)} (${padded} with padding)`,
      );
    }
    return Math.floor((padded - span) / geo.stride[d]) + 1;
  });
  return [size[0], size[1]];
}

/** Checks x [N, C, H, W] against w [O, C/groups, kh, kw] (and bias [O]); returns the output shape. */
export function checkConv(op: string, x: Shape, w: Shape, geo: ConvGeometry, bias?: Shape): Shape {
  if (x.length !== 4) throw new Error(`${op}: x must be 4-D [N, C, H, W], got ${formatShape(x)}`);
  if (w.length !== 4) throw new Error(`${op}: w must be 4-D [O, C/groups, kh, kw], got ${formatShape(w)}`);
  const groups = geo.groups;
  if (x[1] % groups !== 0 || w[0] % groups !== 0) {
    throw new Error(
      `${op}: groups ${groups} must divide the ${x[1]} input channels of x ${formatShape(x)} and the ${w[0]} output channels of w ${formatShape(w)}`,
    );
  }
  if (w[1] * groups !== x[1]) {
    throw new Error(
      `${op}: channel mismatch: x ${formatShape(x)} has ${x[1]} channels, but w ${formatShape(w)} with groups ${groups} expects ${w[1] * groups}`,
    );
  }
  if (bias && (bias.length !== 1 || bias[0] !== w[0])) {
    throw new Error(
      `${op}: bias ${formatShape(bias)} must be [${w[0]}], one per output channel of w ${formatShape(w)}`,
    );
  }
  const [ho, wo] = outputSize(op, x, w, geo);
  return [x[0], w[0], ho, wo];
}

function positiveInts(op: string, what: string, value: unknown): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`${op}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return [pair[0], pair[1]];
}

/** The options resolved against the kernel's size; bad options are an Error naming the op and the shapes. */
export function convGeometry(op: string, x: Shape, w: Shape, options: Conv2dOptions): ConvGeometry {
  const stride = positiveInts(op, 'stride', options.stride ?? 1);
  const dilation = positiveInts(op, 'dilation', options.dilation ?? 1);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new Error(`${op}: groups must be a positive integer, got ${groups}`);
  const padding = options.padding ?? 0;
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new Error(
        `${op}: padding 'same' needs stride 1, got stride ${formatShape(stride)} for x ${formatShape(x)}`,
      );
    }
    // PyTorch's rule: the total dilation·(k − 1), the extra one of an odd total after.
    const total = [0, 1].map((d) => dilation[d] * ((w[2 + d] ?? 1) - 1));
    const before: [number, number] = [Math.floor(total[0] / 2), Math.floor(total[1] / 2)];
    return { stride, dilation, groups, padBefore: before, padAfter: [total[0] - before[0], total[1] - before[1]] };
  }
  const pad = padding === 'valid' ? [0, 0] : typeof padding === 'number' ? [padding, padding] : padding;
  if (!Array.isArray(pad) || pad.length !== 2 || !pad.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(
      `${op}: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got ${JSON.stringify(padding)} for x ${formatShape(x)}`,
    );
  }
  return { stride, dilation, groups, padBefore: [pad[0], pad[1]], padAfter: [pad[0], pad[1]] };
}

/** The sizes every loop and kernel uses, named. */
function dims(x: Shape, w: Shape, y: Shape, geo: ConvGeometry) {
  const [n, c, h, wd] = x;
  const [o, cg, kh, kw] = w;
  return { n, c, h, wd, o, cg, kh, kw, og: o / geo.groups, ho: y[2], wo: y[3] };
}

/**
 * Calls visit(xIndex, wIndex, yIndex) for every product x·w that makes up y: the seven loops of the definition
 * (the batch, output channels, output rows and columns, and the input channels and taps of the group).
 */
export function eachProduct(
  x: Shape,
  w: Shape,
  y: Shape,
  geo: ConvGeometry,
  visit: (xi: number, wi: number, yi: number) => void,
) {
  const { n, c, h, wd, o, cg, kh, kw, og, ho, wo } = dims(x, w, y, geo);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++) {
      const first = Math.floor(oc / og) * cg;
      for (let r = 0; r < ho; r++)
        for (let s = 0; s < wo; s++) {
          const yi = ((b * o + oc) * ho + r) * wo + s;
          for (let ic = 0; ic < cg; ic++)
            for (let i = 0; i < kh; i++) {
              const row = r * geo.stride[0] - geo.padBefore[0] + i * geo.dilation[0];
              if (row < 0 || row >= h) continue;
              for (let j = 0; j < kw; j++) {
                const col = s * geo.stride[1] - geo.padBefore[1] + j * geo.dilation[1];
                if (col < 0 || col >= wd) continue;
                visit(((b * c + first + ic) * h + row) * wd + col, ((oc * cg + ic) * kh + i) * kw + j, yi);
              }
            }
        }
    }
}

export function uniforms(x: Shape, w: Shape, y: Shape, geo: ConvGeometry) {
  const { n, c, h, wd, o, cg, kh, kw, og, ho, wo } = dims(x, w, y, geo);
  return {
    N: n,
    C: c,
    H: h,
    W: wd,
    O: o,
    Ho: ho,
    Wo: wo,
    kh,
    kw,
    strideH: geo.stride[0],
    strideW: geo.stride[1],
    padTop: geo.padBefore[0],
    padLeft: geo.padBefore[1],
    dilationH: geo.dilation[0],
    dilationW: geo.dilation[1],
    Cg: cg,
    Og: og,
    mChunk: 0,
    splits: 1,
    size: 0,
  };
}

export const traceDetail = (x: Shape, w: Shape, geo: ConvGeometry) => ({
  x: formatShape(x),
  w: formatShape(w),
  groups: geo.groups,
});

/** A 3×3 kernel with stride 1 and dilation 1, whose forward reads one patch per tile of outputs (conv2d_3x3.wgsl). */
export function isDense3x3(u: ReturnType<typeof uniforms>): boolean {
  return u.kh === 3 && u.kw === 3 && u.strideH === 1 && u.strideW === 1 && u.dilationH === 1 && u.dilationW === 1;
}
