// The binary, ternary and strided-copy kernels pick how each operand is read from its shape (at i, at i mod its
// period, or through its strides) and whether the upper four dimensions are unravelled, as override constants.
// Every combination against the float64 reference, with poisoned outputs and ragged extents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { periodOf } from '../../src/ops/elementwise.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, relBound, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
let seed = 100;
const values = (shape: number[]) => f32(randomArray(size(shape), rng(seed++), -2, 2));

/** f on both runtimes from the same float32 inputs: [gpu, reference]. */
async function both(shapes: number[][], f: (rt: Runtime, xs: Tensor[]) => Tensor) {
  const inputs = shapes.map(values);
  const run = async (rt: Runtime) =>
    read(
      f(
        rt,
        inputs.map((v, i) => rt.tensor(v, shapes[i])),
      ),
    );
  return [await run(gpu), await run(cpu)] as const;
}

// [a, b]: equal (mode 1), a row or a trailing block (mode 2), a scalar (period 1), a column and a middle axis
// (strided), each at rank ≤ 4 and above.
const PAIRS: [number[], number[]][] = [
  [
    [17, 33],
    [17, 33],
  ],
  [[3, 17, 65], [65]],
  [
    [3, 17, 65],
    [17, 65],
  ],
  [[65, 3], [1]],
  [[1], [33, 17]],
  [[17], [3, 17]],
  [
    [33, 17],
    [33, 1],
  ],
  [
    [3, 17, 5],
    [3, 1, 5],
  ],
  [
    [2, 3, 1, 5, 3, 2],
    [3, 2],
  ],
  [
    [2, 3, 1, 5, 3, 2],
    [2, 3, 1, 5, 3, 2],
  ],
  [
    [2, 1, 3, 2, 1, 5, 3, 2],
    [2, 3, 1, 1, 1, 1, 3, 1],
  ],
  [
    [3, 1, 17],
    [1, 5, 1],
  ],
  // Sizes that are a multiple of 4 with each operand read at i or at i mod a multiple of 4: four elements per
  // invocation (binary_vec4), one vec4 past a 64-wide workgroup included.
  [
    [4, 17],
    [4, 17],
  ],
  [
    [65, 4],
    [65, 4],
  ],
  [[3, 5, 12], [12]],
  [
    [3, 5, 12],
    [5, 12],
  ],
  [
    [2, 3, 1, 5, 4, 4],
    [4, 4],
  ],
  // A multiple of 4 in all, but a period of 1 or 2, or a column: one element per invocation.
  [[6, 4], [1]],
  [[8, 2], [2]],
  [
    [4, 4],
    [4, 1],
  ],
];

/** Four elements per invocation exactly when the size and each operand's period are multiples of 4. */
function expectedPerInvocation(sa: number[], sb: number[]): number {
  const rank = Math.max(sa.length, sb.length);
  const dim = (s: number[], i: number) => s[s.length - rank + i] ?? 1;
  const out = Array.from({ length: rank }, (_, i) => Math.max(dim(sa, i), dim(sb, i)));
  const periods = [periodOf(sa, out), periodOf(sb, out)];
  return size(out) % 4 === 0 && periods.every((p) => p > 0 && p % 4 === 0) ? 4 : 1;
}

describe('binary kernel read modes against the reference', () => {
  for (const [sa, sb] of PAIRS) {
    for (const op of ['add', 'mul', 'sub'] as const) {
      it(`${op} ${JSON.stringify(sa)} with ${JSON.stringify(sb)}`, async () => {
        const [g, c] = await both([sa, sb], (rt, [a, b]) => rt[op](a, b));
        expectClose(g, c, relBound(c, 64), `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
        const { dispatches } = await gpu.trace(() => gpu[op](gpu.tensor(values(sa), sa), gpu.tensor(values(sb), sb)));
        expect(dispatches.filter((d) => d.op === op).map((d) => [d.kernel, d.detail.perInvocation])).toEqual([
          [op, expectedPerInvocation(sa, sb)],
        ]);
      });
    }
  }

  it('unary kernels run four elements per invocation when the size is a multiple of 4, and agree either way', async () => {
    for (const shape of [[4, 17], [67], [65, 4], [3]]) {
      const x = values(shape);
      const { value, dispatches } = await gpu.trace(() => gpu.gelu(gpu.tensor(x, shape)));
      expect(dispatches.filter((d) => d.op === 'gelu').map((d) => d.detail.perInvocation)).toEqual([
        size(shape) % 4 === 0 ? 4 : 1,
      ]);
      const ref = await read(cpu.gelu(cpu.tensor(x, shape)));
      expectClose(await read(value), ref, relBound(ref, 64), `gelu ${JSON.stringify(shape)}`);
    }
  });

  it('periods: the operand size for a trailing shape, 0 for anything read through strides', () => {
    expect(periodOf([17, 33], [17, 33])).toBe(17 * 33);
    expect(periodOf([1, 1, 65], [3, 17, 65])).toBe(65);
    expect(periodOf([1], [3, 5])).toBe(1);
    expect(periodOf([], [3, 5])).toBe(1);
    expect(periodOf([33, 1], [33, 17])).toBe(0);
    expect(periodOf([3, 1, 5], [3, 17, 5])).toBe(0);
  });
});

describe('where, broadcastTo and permute at rank ≤ 4 and above', () => {
  const cases: [number[], number[]][] = [
    [
      [3, 17],
      [3, 17],
    ],
    [
      [17, 1],
      [3, 17, 33],
    ],
    [
      [2, 1, 3, 1, 5],
      [2, 4, 3, 2, 5],
    ],
    [
      [1, 3, 1, 2, 1, 5, 1, 2],
      [2, 3, 2, 2, 3, 5, 1, 2],
    ],
  ];
  for (const [from, to] of cases) {
    it(`where and broadcastTo ${JSON.stringify(from)} → ${JSON.stringify(to)}`, async () => {
      const [g, c] = await both([from, to], (rt, [a, b]) => rt.where(rt.greater(b, 0), a, b));
      expectClose(g, c, relBound(c, 0), 'where');
      const [gb, cb] = await both([from], (rt, [a]) => rt.broadcastTo(a, to));
      expectClose(gb, cb, relBound(cb, 0), 'broadcastTo');
    });
  }
  const permutes: [number[], number[]][] = [
    [
      [17, 3, 5, 2],
      [0, 2, 1, 3],
    ],
    [
      [3, 17, 33],
      [2, 0, 1],
    ],
    [
      [2, 3, 5, 2, 3],
      [4, 0, 3, 1, 2],
    ],
    [
      [2, 1, 3, 2, 2, 1, 3, 2],
      [7, 6, 5, 4, 3, 2, 1, 0],
    ],
    // The innermost axis in place and a multiple of 4 long: copied as vec4s (permute_vec4), at rank ≤ 4 and above.
    [
      [3, 17, 5, 8],
      [0, 2, 1, 3],
    ],
    [
      [5, 3, 4],
      [1, 0, 2],
    ],
    [
      [2, 3, 5, 2, 3, 12],
      [4, 0, 3, 1, 2, 5],
    ],
  ];
  for (const [shape, axes] of permutes) {
    it(`permute ${JSON.stringify(shape)} by ${JSON.stringify(axes)}`, async () => {
      const [g, c] = await both([shape], (rt, [a]) => rt.permute(a, axes));
      expectClose(g, c, relBound(c, 0), 'permute');
    });
  }
});
