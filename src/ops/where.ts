// Ternary elementwise ops: NumPy broadcasting of three operands, one kernel (shaders/ternary.wgsl) switched by the
// row's code, as elementwise.ts does for one and two operands.
import { apply, defineOp, Tensor, type Context, type OpDef } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, padLeft, sizeOf, stridedIndex, type Shape } from '../core/shape.js';
import { elementwiseGrid } from '../core/kernel.js';
import { codesOf, Shader, wgslCodes } from '../core/shader.js';
import { sumTo } from './reduce.js';
import ternarySource from '../../shaders/ternary.wgsl?raw';

/** What a ternary op is: its float64 definition and the gradients of its last two operands (none for the first). */
interface TernaryRow {
  cpu: (c: number, a: number, b: number) => number;
  vjp: (g: Tensor, cond: Tensor) => Grads;
}

// Named, not inferred: inference would go through ternary(), whose name type is read from this very table.
type Grads = [() => Tensor, () => Tensor];

// A row's position is its OP code in shaders/ternary.wgsl, generated as `const` lines like elementwise.ts's.
const TERNARY = {
  // The gradient reaches a where cond holds and b elsewhere: the upstream gradient routed by the same condition.
  where: {
    cpu: (c, a, b) => (c !== 0 ? a : b),
    vjp: (g, cond): Grads => [() => ternary('where', cond, g, 0), () => ternary('where', cond, 0, g)],
  },
} satisfies Record<string, TernaryRow>;

export type TernaryName = keyof typeof TERNARY;
export const TERNARY_CODES = codesOf(TERNARY);
export const TERNARY_NAMES = Object.keys(TERNARY) as TernaryName[];
export const ternaryShader = new Shader('ternary', ternarySource + wgslCodes(TERNARY_CODES));

function ternaryOp(name: TernaryName, { cpu: f, vjp }: TernaryRow): OpDef<undefined> {
  return defineOp({
    name,
    shape: ([c, a, b]) => broadcastShapes(name, broadcastShapes(name, c, a), b),
    cpu([c, a, b], _p, outShape) {
      const [sc, sa, sb] = [c, a, b].map((t) => broadcastStrides(t.shape, outShape));
      const out = new Float64Array(sizeOf(outShape));
      for (let i = 0; i < out.length; i++) {
        out[i] = f(
          c.data[stridedIndex(i, outShape, sc)],
          a.data[stridedIndex(i, outShape, sa)],
          b.data[stridedIndex(i, outShape, sb)],
        );
      }
      return out;
    },
    gpu(gpu, [cond, a, b], _p, out) {
      const size = sizeOf(out.shape);
      const strides = (s: Shape) => padLeft(broadcastStrides(s, out.shape), 0);
      const params = {
        size,
        shape: padLeft(out.shape, 1),
        condStrides: strides(cond.shape),
        aStrides: strides(a.shape),
        bStrides: strides(b.shape),
      };
      gpu.dispatch(
        { name, shader: ternaryShader, constants: { OP: TERNARY_CODES[name], HIGH_DIMS: out.shape.length > 4 } },
        { cond, a, b, out, params },
        elementwiseGrid(size),
      );
    },
    // The condition gets no gradient; each other operand's is summed over the axes it was broadcast along.
    vjp: (g, [cond, a, b]) => {
      const [da, db] = vjp(g, cond);
      return [null, a.requiresGrad ? sumTo(da(), a.shape) : null, b.requiresGrad ? sumTo(db(), b.shape) : null];
    },
  });
}

const TERNARY_OPS = Object.fromEntries(
  Object.entries(TERNARY).map(([name, row]) => [name, ternaryOp(name as TernaryName, row)]),
) as Record<TernaryName, OpDef<undefined>>;

/** A ternary op; plain numbers for the last two operands become scalar constants that broadcast. */
export function ternary(name: TernaryName, cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (!(cond instanceof Tensor)) throw new Error(`${name}: the condition must be a Tensor`);
  const owner = cond.owner;
  return apply(owner, TERNARY_OPS[name], [cond, constant(owner, name, a), constant(owner, name, b)], undefined);
}

function constant(owner: Context, op: string, value: Tensor | number): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value !== 'number')
    throw new Error(`${op}: expected a Tensor or a number, got ${value === null ? 'null' : typeof value}`);
  return Tensor.from(owner, [], owner.backend.upload([value], []));
}
