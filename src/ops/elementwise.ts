import { apply, defineOp, Tensor, type Context, type OpDef } from '../tensor/tensor.js';
import {
  broadcastShapes,
  broadcastStrides,
  padLeft,
  sameShape,
  sizeOf,
  formatShape,
  stridedIndex,
  type Shape,
} from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { codesOf, Shader, wgslCodes } from '../core/shader.js';
import { gelu, geluDerivative, sigmoid, softplus } from './scalar.js';
import { sumTo } from './reduce.js';
import unarySource from '../../shaders/unary.wgsl?raw';
import unaryF32Source from '../../shaders/unary_f32.wgsl?raw';
import unaryVec4Source from '../../shaders/unary_vec4.wgsl?raw';
import binarySource from '../../shaders/binary.wgsl?raw';
import binaryF32Source from '../../shaders/binary_f32.wgsl?raw';
import binaryVec4Source from '../../shaders/binary_vec4.wgsl?raw';

/**
 * What a unary op is: its float64 CPU definition and its gradient. `alpha` and `beta` are the op's constants
 * (scale's factor, pow's exponent, clamp's bounds, leakyRelu's slope); most ops ignore them.
 */
interface UnaryRow {
  /** A public op of one tensor and no constants: `rt.name(a)` and `a.name()` come from this row alone. */
  method?: true;
  cpu: (x: number, alpha: number, beta: number) => number;
  /** G·f'(x), given the input x and the output y; omitted for ops that are never differentiated. */
  vjp?: (g: Tensor, x: Tensor, y: Tensor, alpha: number, beta: number) => Tensor;
}

/** What a binary op is; its gradients are thunks, so that each is computed only when that input needs it. */
interface BinaryRow {
  /** A public op of two operands: `rt.name(a, b)` and `a.name(b)` come from this row alone. */
  method?: true;
  cpu: (a: number, b: number) => number;
  vjp?: (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => Grads;
}

// The rows' VJPs name their return types: inferring them would go through unary()/binary(), whose name types are
// read from these very tables.
type Grads = [() => Tensor, () => Tensor];

// Every elementwise op is one row here. A row's position is its OP code: shaders/unary.wgsl and binary.wgsl get
// the codes as generated `const` lines, so a row without a `case` there fails test/elementwise-table.test.ts.
const UNARY = {
  relu: { method: true, cpu: (x) => Math.max(x, 0), vjp: (g, x): Tensor => binary('reluGrad', g, x) },
  tanh: { method: true, cpu: Math.tanh, vjp: (g, _x, y): Tensor => binary('tanhGrad', g, y) },
  exp: { method: true, cpu: Math.exp, vjp: (g, _x, y): Tensor => binary('mul', g, y) },
  log: { method: true, cpu: Math.log, vjp: (g, x): Tensor => binary('div', g, x) },
  neg: { method: true, cpu: (x) => -x, vjp: (g): Tensor => unary('neg', g) },
  scale: { cpu: (x, alpha) => x * alpha, vjp: (g, _x, _y, alpha): Tensor => unary('scale', g, alpha) },
  square: { method: true, cpu: (x) => x * x, vjp: (g, x): Tensor => binary('mul', g, unary('scale', x, 2)) },
  sigmoid: { method: true, cpu: sigmoid, vjp: (g, _x, y): Tensor => binary('sigmoidGrad', g, y) },
  // The tanh form, the very function the matmul epilogue applies, so `gelu(linear(x, w))` = `linear(x, w, b, 'gelu')`.
  gelu: { method: true, cpu: gelu, vjp: (g, x): Tensor => binary('geluGrad', g, x) },
  silu: { method: true, cpu: (x) => x * sigmoid(x), vjp: (g, x): Tensor => binary('siluGrad', g, x) },
  softplus: { method: true, cpu: softplus, vjp: (g, x): Tensor => binary('mul', g, unary('sigmoid', x)) },
  sqrt: { method: true, cpu: Math.sqrt, vjp: (g, _x, y): Tensor => binary('div', g, unary('scale', y, 2)) },
  // d x^(−1/2) = −½·y³, from the output.
  rsqrt: {
    method: true,
    cpu: (x) => 1 / Math.sqrt(x),
    vjp: (g, _x, y): Tensor => binary('mul', g, unary('scale', unary('pow', y, 3), -0.5)),
  },
  abs: { method: true, cpu: Math.abs, vjp: (g, x): Tensor => binary('absGrad', g, x) },
  sin: { method: true, cpu: Math.sin, vjp: (g, x): Tensor => binary('mul', g, unary('cos', x)) },
  cos: { method: true, cpu: Math.cos, vjp: (g, x): Tensor => unary('neg', binary('mul', g, unary('sin', x))) },
  // JavaScript's ** is NumPy's power for real numbers: (−2)³ = −8, (−2)^0.5 = NaN.
  pow: {
    cpu: (x, e) => x ** e,
    vjp: (g, x, _y, e): Tensor =>
      e === 0 ? unary('scale', g, 0) : binary('mul', g, unary('scale', unary('pow', x, e - 1), e)),
  },
  clamp: {
    cpu: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
    vjp: (g, x, _y, lo, hi): Tensor => binary('mul', g, unary('clampGradMask', x, lo, hi)),
  },
  leakyRelu: {
    cpu: (x, alpha) => (x > 0 ? x : alpha * x),
    vjp: (g, x, _y, alpha): Tensor => binary('mul', g, unary('leakyReluSlope', x, alpha)),
  },
  // Derivatives for the VJPs above, not differentiated themselves. A clamped value at a bound gets no gradient:
  // the bound, not x, is what the output follows there.
  clampGradMask: { cpu: (x, lo, hi) => (x > lo && x < hi ? 1 : 0) },
  leakyReluSlope: { cpu: (x, alpha) => (x > 0 ? 1 : alpha) },
} satisfies Record<string, UnaryRow>;

const BINARY = {
  add: { method: true, cpu: (a, b) => a + b, vjp: (g): Grads => [() => g, () => g] },
  sub: { method: true, cpu: (a, b) => a - b, vjp: (g): Grads => [() => g, () => unary('neg', g)] },
  mul: {
    method: true,
    cpu: (a, b) => a * b,
    vjp: (g, a, b): Grads => [() => binary('mul', g, b), () => binary('mul', g, a)],
  },
  // d(a/b)/db = −(a/b)/b, so the output is reused.
  div: {
    method: true,
    cpu: (a, b) => a / b,
    vjp: (g, _a, b, out): Grads => [
      () => binary('div', g, b),
      () => unary('neg', binary('div', binary('mul', g, out), b)),
    ],
  },
  // Gradient helpers, a = the upstream gradient: used by VJPs, not differentiated themselves.
  reluGrad: { cpu: (g, x) => (x > 0 ? g : 0) },
  tanhGrad: { cpu: (g, y) => g * (1 - y * y) }, // from the output y
  geluGrad: { cpu: (g, x) => g * geluDerivative(x) },
  // A tie splits the gradient in half between a and b (a subgradient, and their sum is still g).
  maximum: {
    method: true,
    cpu: (a, b) => Math.max(a, b),
    vjp: (g, a, b): Grads => [
      () => binary('mul', g, binary('maximumMask', a, b)),
      () => binary('mul', g, binary('maximumMask', b, a)),
    ],
  },
  minimum: {
    method: true,
    cpu: (a, b) => Math.min(a, b),
    vjp: (g, a, b): Grads => [
      () => binary('mul', g, binary('maximumMask', b, a)),
      () => binary('mul', g, binary('maximumMask', a, b)),
    ],
  },
  // Comparisons: 1 or 0, and no VJP, so their outputs never require a gradient and the tape treats them as data.
  greater: { method: true, cpu: (a, b) => (a > b ? 1 : 0) },
  greaterEqual: { method: true, cpu: (a, b) => (a >= b ? 1 : 0) },
  less: { method: true, cpu: (a, b) => (a < b ? 1 : 0) },
  lessEqual: { method: true, cpu: (a, b) => (a <= b ? 1 : 0) },
  equal: { method: true, cpu: (a, b) => (a === b ? 1 : 0) },
  sigmoidGrad: { cpu: (g, y) => g * y * (1 - y) }, // from the output y
  siluGrad: {
    cpu: (g, x) => {
      const s = sigmoid(x);
      return g * s * (1 + x * (1 - s));
    },
  },
  absGrad: { cpu: (g, x) => (x > 0 ? g : x < 0 ? -g : 0) }, // 0 at 0, the subgradient with the least norm
  maximumMask: { cpu: (a, b) => (a > b ? 1 : a === b ? 0.5 : 0) },
} satisfies Record<string, BinaryRow>;

export type UnaryName = keyof typeof UNARY;
export type BinaryName = keyof typeof BINARY;

export const UNARY_CODES = codesOf(UNARY);
export const BINARY_CODES = codesOf(BINARY);
export const UNARY_NAMES = Object.keys(UNARY) as UnaryName[];
export const BINARY_NAMES = Object.keys(BINARY) as BinaryName[];

/** The rows marked `method`: the op list (src/ops/index.ts) makes each a runtime and a tensor method. */
export type UnaryMethodName = { [K in UnaryName]: (typeof UNARY)[K] extends { method: true } ? K : never }[UnaryName];
export type BinaryMethodName = {
  [K in BinaryName]: (typeof BINARY)[K] extends { method: true } ? K : never;
}[BinaryName];
export const UNARY_METHOD_NAMES = UNARY_NAMES.filter((name) => 'method' in UNARY[name]) as UnaryMethodName[];
export const BINARY_METHOD_NAMES = BINARY_NAMES.filter((name) => 'method' in BINARY[name]) as BinaryMethodName[];

export const unaryShader = new Shader('unary', unarySource + unaryF32Source + wgslCodes(UNARY_CODES));
export const binaryShader = new Shader('binary', binarySource + binaryF32Source + wgslCodes(BINARY_CODES));
// Four elements per invocation (bench/NOTES.md: half the cost per element on SwiftShader), where the size allows.
const unaryVec4Shader = new Shader('unary_vec4', unarySource + unaryVec4Source + wgslCodes(UNARY_CODES));
const binaryVec4Shader = new Shader('binary_vec4', binarySource + binaryVec4Source + wgslCodes(BINARY_CODES));

interface UnaryParams {
  alpha: number;
  beta: number;
}

function unaryOp(name: UnaryName, { cpu: f, vjp }: UnaryRow): OpDef<UnaryParams> {
  return defineOp<UnaryParams>({
    name,
    shape: ([x]) => x,
    cpu([x], { alpha, beta }) {
      return x.data.map((v) => f(v, alpha, beta));
    },
    gpu(gpu, [x], { alpha, beta }, out) {
      const size = sizeOf(x.shape);
      const quads = size % 4 === 0;
      gpu.dispatch(
        { name, shader: quads ? unaryVec4Shader : unaryShader, constants: { OP: UNARY_CODES[name] } },
        { x, out, params: { size, alpha, beta } },
        elementwiseGrid(quads ? size / 4 : size),
        { perInvocation: quads ? 4 : 1 },
      );
    },
    vjp: vjp && ((g, [x], { alpha, beta }, y) => [vjp(g, x, y, alpha, beta)]),
  });
}

function binaryOp(name: BinaryName, { cpu: f, vjp }: BinaryRow): OpDef<undefined> {
  return defineOp({
    name,
    shape: ([a, b]) => broadcastShapes(name, a, b),
    cpu([a, b], _p, outShape) {
      const sa = broadcastStrides(a.shape, outShape);
      const sb = broadcastStrides(b.shape, outShape);
      const out = new Float64Array(sizeOf(outShape));
      for (let i = 0; i < out.length; i++) {
        out[i] = f(a.data[stridedIndex(i, outShape, sa)], b.data[stridedIndex(i, outShape, sb)]);
      }
      return out;
    },
    gpu(gpu, [a, b], _p, out) {
      const size = sizeOf(out.shape);
      const params = {
        size,
        aPeriod: periodOf(a.shape, out.shape),
        bPeriod: periodOf(b.shape, out.shape),
        shape: padLeft(out.shape, 1),
        aStrides: padLeft(broadcastStrides(a.shape, out.shape), 0),
        bStrides: padLeft(broadcastStrides(b.shape, out.shape), 0),
      };
      const mode = (period: number) => (period === size ? 1 : period > 0 ? 2 : 0);
      const constants = {
        OP: BINARY_CODES[name],
        A_MODE: mode(params.aPeriod),
        B_MODE: mode(params.bPeriod),
        HIGH_DIMS: out.shape.length > 4,
      };
      // vec4 reads need each operand read at i or at i mod a period that whole vec4s tile.
      const quads = size % 4 === 0 && [params.aPeriod, params.bPeriod].every((p) => p > 0 && p % 4 === 0);
      gpu.dispatch(
        { name, shader: quads ? binaryVec4Shader : binaryShader, constants },
        { a, b, out, params },
        elementwiseGrid(quads ? size / 4 : size),
        { perInvocation: quads ? 4 : 1 },
      );
    },
    // Each input's gradient is computed only when it is needed, then summed over the axes it was broadcast along.
    vjp:
      vjp &&
      ((g, [a, b], _p, out) => {
        const [da, db] = vjp(g, a, b, out);
        return [a.requiresGrad ? sumTo(da(), a.shape) : null, b.requiresGrad ? sumTo(db(), b.shape) : null];
      }),
  });
}

/**
 * How often an operand repeats along out's flat index when its shape (leading 1s aside) is a trailing part of
 * out's: its size. 0 otherwise (a column, a middle axis broadcast), where the kernel reads it through its strides.
 */
export function periodOf(shape: Shape, outShape: Shape): number {
  const first = shape.findIndex((d) => d !== 1);
  const kept = first < 0 ? [] : shape.slice(first);
  const tail = outShape.slice(outShape.length - kept.length);
  return kept.every((d, i) => d === tail[i]) ? Math.max(1, sizeOf(kept)) : 0;
}

function opsOf<K extends string, R, P>(table: Record<K, R>, op: (name: K, row: R) => OpDef<P>): Record<K, OpDef<P>> {
  return Object.fromEntries(Object.entries(table).map(([name, row]) => [name, op(name as K, row as R)])) as Record<
    K,
    OpDef<P>
  >;
}

const UNARY_OPS = opsOf<UnaryName, UnaryRow, UnaryParams>(UNARY, unaryOp);
const BINARY_OPS = opsOf<BinaryName, BinaryRow, undefined>(BINARY, binaryOp);
export const addOp = BINARY_OPS.add;

export function unary(name: UnaryName, x: Tensor, alpha = 0, beta = 0): Tensor {
  return apply(x.owner, UNARY_OPS[name], [x], { alpha, beta });
}

/** A binary op; a plain number becomes a scalar constant that broadcasts. */
export function binary(name: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  const owner = ownerOf(name, a, b);
  return apply(owner, BINARY_OPS[name], [asTensor(owner, a), asTensor(owner, b)], undefined);
}

function ownerOf(op: string, a: unknown, b: unknown): Context {
  if (a instanceof Tensor) return a.owner;
  if (b instanceof Tensor) return b.owner;
  throw new Error(`${op}: at least one operand must be a Tensor`);
}

function asTensor(owner: Context, value: Tensor | number): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value !== 'number') throw new Error(`expected a Tensor or a number, got ${typeof value}`);
  return Tensor.from(owner, [], owner.backend.upload([value], []));
}

/** Both shapes equal, for ops (such as losses) that do not broadcast. */
export function checkSameShape(op: string, a: Shape, b: Shape): void {
  if (!sameShape(a, b)) throw new Error(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} must be equal`);
}
