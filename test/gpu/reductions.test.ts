// The axis reductions on the GPU against the float64 reference, forward and backward, with poisoned outputs: ragged
// shapes up to rank 4, single axes, lists of axes (contiguous runs and separate ones), everything, keepDims; both
// kernels (one invocation per output, and a workgroup per long row); ties, large offsets and huge logits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, relBound, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

type Axis = number | number[] | undefined;
type Reduction = 'sum' | 'mean' | 'max' | 'min' | 'logSumExp' | 'variance' | 'argmax' | 'argmin';

const ULP = 2 ** -24;

function reduceWith(rt: Runtime, op: Reduction, x: Tensor, axis: Axis, keepDims: boolean): Tensor {
  if (op === 'argmax' || op === 'argmin') return rt[op](x, axis as number | undefined, { keepDims });
  if (op === 'variance') return rt.variance(x, axis, { keepDims, correction: 1 });
  return rt[op](x, axis, { keepDims });
}

/** The output, and (for differentiable reductions) the gradient of Σ output ⊙ R, on one runtime. */
async function run(
  rt: Runtime,
  op: Reduction,
  values: Float32Array,
  shape: number[],
  axis: Axis,
  keepDims: boolean,
  seed: number,
) {
  const differentiable = op !== 'argmax' && op !== 'argmin';
  const x = rt.tensor(values, shape, { requiresGrad: differentiable });
  const y = reduceWith(rt, op, x, axis, keepDims);
  const r = rt.tensor(f32(randomArray(y.size, rng(seed))), y.shape);
  const grad = differentiable ? (await rt.grad(rt.sum(rt.mul(y, r)), [x]))[0] : null;
  return { shape: y.shape, y: await read(y), grad: grad && (await read(grad)), requiresGrad: y.requiresGrad };
}

/** How many elements one output combines. */
function reducedLength(shape: number[], axis: Axis): number {
  if (axis === undefined) return shape.reduce((a, b) => a * b, 1);
  const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + shape.length : a));
  return axes.reduce((n, a) => n * shape[a], 1);
}

/**
 * Max, min and the indices are exact; sums, means and variances carry a float32 rounding per element summed;
 * log-sum-exp adds exp's and log's few ulps. Its gradient e^(x − lse) is relatively as far off as lse is absolutely:
 * a float32 lse of 1e4 is only good to 2⁻²⁴·1e4, so that is scaled by the output's magnitude.
 */
function bound(op: Reduction, expected: Float64Array, length: number, output?: Float64Array): Float64Array | number {
  if (op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin') return 0;
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  if (op !== 'logSumExp') return relBound(expected, 8, 1e-6 + 8 * length * ULP * scale);
  const outputScale = output ? Math.max(1, ...Array.from(output, Math.abs)) : 1;
  return relBound(expected, (64 + 8 * length) * outputScale, 1e-6 + 8 * length * ULP * scale);
}

async function compare(
  op: Reduction,
  values: Float32Array,
  shape: number[],
  axis: Axis,
  keepDims: boolean,
  seed: number,
) {
  const label = `${op} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}${keepDims ? ' keepDims' : ''}`;
  const g = await run(gpu, op, values, shape, axis, keepDims, seed);
  const c = await run(cpu, op, values, shape, axis, keepDims, seed);
  expect(g.shape, label).toEqual(c.shape);
  const length = reducedLength(shape, axis);
  expectClose(g.y, c.y, bound(op, c.y, length), `${label}: forward`);
  if (c.grad) expectClose(g.grad!, c.grad, bound(op, c.grad, length, c.y), `${label}: gradient`);
  return { gpu: g, cpu: c };
}

const REDUCTIONS: Reduction[] = ['sum', 'mean', 'max', 'min', 'logSumExp', 'variance', 'argmax', 'argmin'];

const LAYOUTS: [number[], Axis][] = [
  [[65], undefined],
  [[65], 0],
  [[3, 17], 0],
  [[3, 17], 1],
  [[17, 33], -1],
  [[33, 3], undefined],
  [[3, 17, 33], 1],
  [
    [3, 17, 33],
    [0, 2],
  ],
  [
    [3, 17, 33],
    [1, 2],
  ],
  [
    [17, 3, 1, 33],
    [0, 3],
  ],
  [
    [1, 33, 3, 17],
    [-1, 1],
  ],
  [
    [65, 1, 17],
    [0, 1],
  ],
  [[3, 1, 17, 3], -4],
  // Columns side by side in a multiple of 4: sum and mean add them four per invocation (sum_columns_vec4).
  [[17, 64], 0],
  [[3, 7, 8], 1],
  [
    [5, 3, 12],
    [0, 1],
  ],
];

describe('axis reductions on the GPU against the reference', () => {
  let seed = 1;
  for (const op of REDUCTIONS) {
    for (const [index, [shape, axis]] of LAYOUTS.entries()) {
      if ((op === 'argmax' || op === 'argmin') && Array.isArray(axis)) continue;
      const keepDims = index % 2 === 1;
      const s = seed++;
      it(`${op} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}${keepDims ? ' keepDims' : ''}`, async () => {
        const values = f32(
          randomArray(
            shape.reduce((a, b) => a * b, 1),
            rng(s),
          ),
        );
        await compare(op, values, shape, axis, keepDims, s + 1000);
      });
    }
  }

  it('column sums run four outputs per invocation when the columns come in fours, in the same order (same bits)', async () => {
    for (const [shape, axis, perInvocation] of [
      [[17, 64], 0, 4],
      [[512, 64], 0, 4],
      [[3, 7, 8], 1, 4],
      [[17, 66], 0, 1],
      [[3, 7, 6], 1, 1],
    ] as [number[], number, number][]) {
      const values = f32(
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          rng(shape[0]),
        ),
      );
      const { value, dispatches } = await gpu.trace(() => gpu.sum(gpu.tensor(values, shape), axis));
      expect(dispatches.filter((d) => d.op === 'sum').map((d) => [d.kernel, d.detail.perInvocation])).toEqual([
        ['sum_columns', perInvocation],
      ]);
      // Each output adds its rows one after another in float32 on both kernels: the float32 sum in that order.
      const [outer, reduce] = [shape.slice(0, axis).reduce((a, b) => a * b, 1), shape[axis]];
      const inner = values.length / outer / reduce;
      const expected = new Float32Array(outer * inner);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let s = Math.fround(0);
          for (let r = 0; r < reduce; r++) s = Math.fround(s + values[(o * reduce + r) * inner + i]);
          expected[o * inner + i] = s;
        }
      expect(Array.from(await value.data())).toEqual(Array.from(expected));
    }
  });

  for (const op of REDUCTIONS) {
    it(`${op} over rows too long for one invocation runs a workgroup per row`, async () => {
      // Rows along the last axis, and columns side by side (inner = 3) that are too long for the per-output kernel.
      for (const [shape, axis] of [
        [[2, 5000], 1],
        [[4500, 3], 0],
      ] as [number[], number][]) {
        const values = f32(randomArray(shape[0] * shape[1], rng(77)));
        const { dispatches } = await gpu.trace(() => compare(op, values, shape, axis, false, 78));
        expect(dispatches.map((d) => d.kernel)).toContain(op === 'mean' || op === 'variance' ? 'sum' : op);
      }
    });
  }

  it('a compiled step replays the reductions and their gradients bit for bit', async () => {
    const values = f32(randomArray(17 * 33, rng(12)));
    const x = gpu.tensor(values, [17, 33], { requiresGrad: true });
    const step = async (t: Tensor) => {
      const loss = gpu.add(
        gpu.add(gpu.sum(gpu.max(t, 1)), gpu.sum(gpu.logSumExp(t, 0))),
        gpu.sum(gpu.variance(t, [0, 1])),
      );
      const [grad] = await gpu.grad(loss, [t]);
      return { loss, grad, index: gpu.argmin(t, 1) };
    };
    const eager = await step(x);
    const compiled = gpu.compile(step);
    for (let i = 0; i < 2; i++) {
      const replay = await compiled(x);
      expect(await replay.loss.data()).toEqual(await eager.loss.data());
      expect(await replay.grad.data()).toEqual(await eager.grad.data());
      expect(await replay.index.data()).toEqual(await eager.index.data());
    }
  });

  for (const [shape, axis] of [
    [[17, 33], 1],
    [[33, 17], 0],
    [
      [3, 17, 33],
      [0, 2],
    ],
    [[2, 5000], 1],
    [[5000], undefined],
  ] as [number[], Axis][]) {
    it(`ties: max, min and their gradients pick the first, argmax and argmin the first index ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from(randomArray(size, rng(9), 0, 3), Math.floor);
      for (const op of ['max', 'min', 'argmax', 'argmin'] as const) {
        if (Array.isArray(axis) && op.startsWith('arg')) continue;
        await compare(op, values, shape, axis, false, 10);
      }
    });
  }

  it('logSumExp is finite and exact for logits of ±1e4, and its gradient is the softmax', async () => {
    const values = f32([1e4, 1e4, 1e4 - 3, -1e4, -1e4 + 2, -1e4 - 1]);
    const { gpu: g } = await compare('logSumExp', values, [2, 3], 1, false, 3);
    expect(Array.from(g.y).every(Number.isFinite)).toBe(true);
    expectClose(
      g.y,
      [1e4 + Math.log(2 + Math.exp(-3)), -1e4 + 2 + Math.log(1 + Math.exp(-2) + Math.exp(-3))],
      2e-3,
      'logSumExp ±1e4',
    );
    const x = gpu.tensor(values, [2, 3], { requiresGrad: true });
    const [softmax] = await gpu.grad(gpu.sum(gpu.logSumExp(x, 1)), [x]);
    const rows = await read(gpu.sum(softmax, 1));
    // As relatively close to 1 as a float32 lse of ±1e4 is absolutely to the truth.
    expectClose(rows, [1, 1], 4 * 1e4 * ULP, 'softmax rows sum to 1');
  });

  it('variance keeps its precision for rows offset by 1e3 (two passes), on both kernels', async () => {
    for (const [shape, axis] of [
      [[17, 65], 1],
      [[65, 17], 0],
      [[3, 5000], -1],
    ] as [number[], number][]) {
      const size = shape[0] * shape[1];
      const values = f32(randomArray(size, rng(size)).map((v) => 1e3 + v));
      const { gpu: g, cpu: c } = await compare('variance', values, shape, axis, false, 4);
      // A one-pass E[x²] − E[x]² would lose everything to cancellation here: 1e6 · 2⁻²⁴ ≈ 0.06 per element.
      expectClose(g.y, c.y, relBound(c.y, 64), `variance ${JSON.stringify(shape)}: relative`);
    }
  });
});
