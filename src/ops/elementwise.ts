import { defineOp, type OpDef } from '../tensor/tensor.js';
import { apply, Tensor } from '../tensor/tensor.js';
import type { Context } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, padLeft, sameShape, sizeOf, formatShape, type Shape } from '../core/shape.js';
import { grid1d } from '../core/kernel.js';
import { Shader } from '../core/shader.js';
import { sumTo } from './reduce.js';
import unarySource from '../../shaders/unary.wgsl?raw';
import binarySource from '../../shaders/binary.wgsl?raw';

const unaryShader = new Shader('unary', unarySource);
const binaryShader = new Shader('binary', binarySource);

// The OP codes of unary.wgsl and binary.wgsl.
const UNARY = { relu: 0, tanh: 1, exp: 2, log: 3, neg: 4, scale: 5, square: 6 } as const;
const BINARY = { add: 0, sub: 1, mul: 2, div: 3, reluGrad: 4, tanhGrad: 5, geluGrad: 6 } as const;

type UnaryName = keyof typeof UNARY;
type BinaryName = keyof typeof BINARY;

interface UnaryParams {
  alpha: number;
}

function unaryOp(
  name: UnaryName,
  f: (x: number, alpha: number) => number,
  vjp?: (g: Tensor, x: Tensor, y: Tensor, alpha: number) => Tensor,
): OpDef<UnaryParams> {
  return defineOp<UnaryParams>({
    name,
    shape: ([x]) => x,
    cpu([x], { alpha }) {
      return x.data.map((v) => f(v, alpha));
    },
    gpu(gpu, [x], { alpha }, out) {
      const size = sizeOf(x.shape);
      gpu.dispatch(
        { name, shader: unaryShader, constants: { OP: UNARY[name] } },
        { x, out, params: { size, alpha } },
        grid1d(Math.ceil(size / 64)),
      );
    },
    vjp: vjp && ((g, [x], { alpha }, y) => [vjp(g, x, y, alpha)]),
  });
}

function binaryOp(
  name: BinaryName,
  f: (a: number, b: number) => number,
  vjp?: (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [() => Tensor, () => Tensor],
): OpDef<undefined> {
  return defineOp({
    name,
    shape: ([a, b]) => broadcastShapes(name, a, b),
    cpu([a, b], _p, outShape) {
      const sa = broadcastStrides(a.shape, outShape);
      const sb = broadcastStrides(b.shape, outShape);
      const out = new Float64Array(sizeOf(outShape));
      for (let i = 0; i < out.length; i++) {
        let rest = i;
        let ia = 0;
        let ib = 0;
        for (let d = outShape.length - 1; d >= 0; d--) {
          const coord = rest % outShape[d];
          rest = Math.floor(rest / outShape[d]);
          ia += coord * sa[d];
          ib += coord * sb[d];
        }
        out[i] = f(a.data[ia], b.data[ib]);
      }
      return out;
    },
    gpu(gpu, [a, b], _p, out) {
      const size = sizeOf(out.shape);
      const params = {
        size,
        shape: padLeft(out.shape, 1),
        aStrides: padLeft(broadcastStrides(a.shape, out.shape), 0),
        bStrides: padLeft(broadcastStrides(b.shape, out.shape), 0),
      };
      gpu.dispatch(
        { name, shader: binaryShader, constants: { OP: BINARY[name] } },
        { a, b, out, params },
        grid1d(Math.ceil(size / 64)),
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

export const reluOp = unaryOp('relu', (x) => Math.max(x, 0), (g, x) => binary('reluGrad', g, x));
export const tanhOp = unaryOp('tanh', Math.tanh, (g, _x, y) => binary('tanhGrad', g, y));
export const expOp = unaryOp('exp', Math.exp, (g, _x, y) => binary('mul', g, y));
export const logOp = unaryOp('log', Math.log, (g, x) => binary('div', g, x));
export const negOp = unaryOp('neg', (x) => -x, (g) => unary('neg', g));
export const scaleOp = unaryOp('scale', (x, alpha) => x * alpha, (g, _x, _y, alpha) => unary('scale', g, alpha));
export const squareOp = unaryOp('square', (x) => x * x, (g, x) => binary('mul', g, unary('scale', x, 2)));

export const addOp = binaryOp('add', (a, b) => a + b, (g) => [() => g, () => g]);
export const subOp = binaryOp('sub', (a, b) => a - b, (g) => [() => g, () => unary('neg', g)]);
export const mulOp = binaryOp('mul', (a, b) => a * b, (g, a, b) => [() => binary('mul', g, b), () => binary('mul', g, a)]);
// d(a/b)/db = −(a/b)/b, so the output is reused.
export const divOp = binaryOp('div', (a, b) => a / b, (g, _a, b, out) => [
  () => binary('div', g, b),
  () => unary('neg', binary('div', binary('mul', g, out), b)),
]);
// Gradient helpers: used by VJPs, not differentiated themselves.
export const reluGradOp = binaryOp('reluGrad', (g, x) => (x > 0 ? g : 0));
export const tanhGradOp = binaryOp('tanhGrad', (g, y) => g * (1 - y * y));
export const geluGradOp = binaryOp('geluGrad', (g, x) => g * geluDerivative(x));

/** GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as the matmul epilogue computes it. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

export function geluDerivative(x: number): number {
  const c = Math.sqrt(2 / Math.PI);
  const t = Math.tanh(c * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
}

const UNARY_OPS: Record<UnaryName, OpDef<UnaryParams>> = {
  relu: reluOp,
  tanh: tanhOp,
  exp: expOp,
  log: logOp,
  neg: negOp,
  scale: scaleOp,
  square: squareOp,
};
const BINARY_OPS: Record<BinaryName, OpDef<undefined>> = {
  add: addOp,
  sub: subOp,
  mul: mulOp,
  div: divOp,
  reluGrad: reluGradOp,
  tanhGrad: tanhGradOp,
  geluGrad: geluGradOp,
};

export function unary(name: UnaryName, x: Tensor, alpha = 0): Tensor {
  return apply(x.owner, UNARY_OPS[name], [x], { alpha });
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
