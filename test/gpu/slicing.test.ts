// slice, pad, concat, stack, split and gather on the GPU against the float64 reference, forward and backward, on
// ragged shapes with poisoned outputs; the gather gradient's determinism; bad GPU indices read nothing out of bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, dotBound, expectClose, f32, gpuRuntime, randomArray, read, relBound, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

interface Case {
  name: string;
  shapes: number[][];
  f: (rt: Runtime, xs: Tensor[]) => Tensor;
  /** The most gradient terms summed into one element (repeated gather indices); 1 for pure copies. */
  repeats: number;
}

const SIZES = [1, 3, 17, 33, 65];

const cases: Case[] = [];
for (const m of SIZES) {
  const n = SIZES[(SIZES.indexOf(m) + 2) % SIZES.length];
  const mid = m >> 1;
  cases.push(
    {
      name: `slice [${m},${n},3]`,
      shapes: [[m, n, 3]],
      f: (rt, [x]) => rt.slice(x, [mid, n >> 1, 1], [-1, -1, 2]),
      repeats: 1,
    },
    {
      name: `slice rank 4 [2,${m},${n},2]`,
      shapes: [[2, m, n, 2]],
      f: (rt, [x]) => rt.slice(x, [1, 0, n - 1], [1, -1, 1, 1]),
      repeats: 1,
    },
    {
      name: `pad [${m},${n}]`,
      shapes: [[m, n]],
      f: (rt, [x]) =>
        rt.pad(
          x,
          [
            [1, 2],
            [3, 0],
          ],
          0.25,
        ),
      repeats: 1,
    },
    {
      name: `pad rank 4 [${m},1,${n},2]`,
      shapes: [[m, 1, n, 2]],
      f: (rt, [x]) =>
        rt.pad(x, [
          [0, 1],
          [2, 0],
          [1, 1],
          [0, 3],
        ]),
      repeats: 1,
    },
    {
      name: `concat axis 1 [${m},${n}] [${m},3] [${m},1]`,
      shapes: [
        [m, n],
        [m, 3],
        [m, 1],
      ],
      f: (rt, xs) => rt.concat(xs, 1),
      repeats: 1,
    },
    {
      name: `concat axis 0 [${m},${n}] [2,${n}]`,
      shapes: [
        [m, n],
        [2, n],
      ],
      f: (rt, xs) => rt.concat(xs, 0),
      repeats: 1,
    },
    {
      name: `concat axis −1 [2,${m},${n}] [2,${m},1]`,
      shapes: [
        [2, m, n],
        [2, m, 1],
      ],
      f: (rt, xs) => rt.concat(xs, -1),
      repeats: 1,
    },
    ...[0, 1, -1].map((axis) => ({
      name: `stack axis ${axis} 3×[${m},${n}]`,
      shapes: [
        [m, n],
        [m, n],
        [m, n],
      ],
      f: (rt: Runtime, xs: Tensor[]) => rt.stack(xs, axis),
      repeats: 1,
    })),
    {
      name: `split 3 pieces of [${m},${3 * n}] along 1, reordered`,
      shapes: [[m, 3 * n]],
      f: (rt, [x]) => rt.concat(x.split(3, 1).reverse(), 1),
      repeats: 1,
    },
    {
      name: `split sizes of [${m + 1},${n}] along 0`,
      shapes: [[m + 1, n]],
      f: (rt, [x]) => {
        const [head, rest] = rt.split(x, [1, -1]);
        return rt.concat([rest, head, head], 0);
      },
      repeats: 2,
    },
    {
      name: `gather axis 0 of [${m},${n}], repeated and boundary indices`,
      shapes: [[m, n]],
      f: (rt, [x]) => rt.gather(x, [m - 1, 0, m - 1, mid, m - 1]),
      repeats: 3,
    },
    {
      name: `gather axis 1 of [${m},${n},2], rank-2 indices`,
      shapes: [[m, n, 2]],
      f: (rt, [x]) =>
        rt.gather(
          x,
          [
            [n - 1, 0],
            [0, n - 1],
            [n >> 1, 0],
          ],
          1,
        ),
      repeats: 4,
    },
    {
      name: `gather axis −1 of [2,${m},${n}], rank-0 index`,
      shapes: [[2, m, n]],
      f: (rt, [x]) => rt.gather(x, n - 1, -1),
      repeats: 1,
    },
    {
      name: `gather axis 0 of [${m},${n}], indices in a tensor`,
      shapes: [[m, n]],
      f: (rt, [x]) => rt.gather(x, rt.tensor([0, m - 1, 0], [3]), 0),
      repeats: 2,
    },
  );
}

/** The output, and the gradient of Σ output ⊙ R for each input. */
async function run(rt: Runtime, c: Case, seed: number) {
  const random = rng(seed);
  const xs = c.shapes.map((s) =>
    rt.tensor(
      f32(
        randomArray(
          s.reduce((a, b) => a * b, 1),
          random,
        ),
      ),
      s,
      { requiresGrad: true },
    ),
  );
  const y = c.f(rt, xs);
  const r = rt.tensor(f32(randomArray(y.size, random)), y.shape);
  const grads = await rt.grad(rt.sum(rt.mul(y, r)), xs);
  return {
    y: await read(y),
    shape: y.shape,
    grads: await Promise.all(grads.map(read)),
    shapes: grads.map((g) => g.shape),
  };
}

describe('slicing ops on the GPU against the reference, forward and backward', () => {
  cases.forEach((c, index) => {
    it(c.name, async () => {
      const g = await run(gpu, c, index + 1);
      const r = await run(cpu, c, index + 1);
      expect(g.shape).toEqual(r.shape);
      // Copies: the GPU must return the very float32 inputs.
      expectClose(g.y, r.y, relBound(r.y, 0, 0), `${c.name}: forward`);
      g.grads.forEach((grad, i) => {
        expect(g.shapes[i]).toEqual(c.shapes[i]);
        // |R| ≤ 1, so a gradient element is a sum of at most `repeats` terms of magnitude ≤ 1.
        const bound = dotBound(new Float64Array(grad.length).fill(c.repeats), c.repeats);
        expectClose(grad, r.grads[i], bound, `${c.name}: gradient of input ${i}`);
      });
    });
  });
});

describe('gather gradient on the GPU', () => {
  it('is bit-identical from run to run with many repeated indices, on both kernels, and matches the reference', async () => {
    const [n, d, count] = [65, 33, 400];
    const random = rng(7);
    const values = f32(randomArray(n * d, random));
    // Skewed towards a few rows, with both ends present, so that sums of many terms meet.
    const indices = Array.from({ length: count }, (_, j) =>
      j % 5 === 0 ? 0 : j % 7 === 0 ? n - 1 : Math.floor(random() ** 3 * n),
    );
    const upstream = f32(randomArray(count * d, random));
    // Array indices are inverted on the host (gather_grad_sorted); a tensor of indices is linked on the device.
    const backward = async (rt: Runtime, asTensor: boolean) => {
      const { value, dispatches } = await rt.trace(async () => {
        const a = rt.tensor(values, [n, d], { requiresGrad: true });
        const y = rt.gather(a, asTensor ? rt.tensor(indices, [count]) : indices, 0);
        const [g] = await rt.grad(rt.sum(rt.mul(y, rt.tensor(upstream, [count, d]))), [a]);
        return read(g);
      });
      return { grad: value, kernels: dispatches.map((k) => k.kernel) };
    };
    const first = await backward(gpu, false);
    const second = await backward(gpu, false);
    const unsorted = await backward(gpu, true);
    expect(first.kernels).toContain('gather_grad_sorted');
    expect(unsorted.kernels).toEqual(expect.arrayContaining(['gather_grad_heads', 'gather_grad_links', 'gather_grad']));
    expect(first.grad.some(Number.isNaN)).toBe(false);
    expect(Array.from(second.grad)).toEqual(Array.from(first.grad));
    expect(Array.from(unsorted.grad)).toEqual(Array.from(first.grad));
    const reference = (await backward(cpu, false)).grad;
    const repeats = Math.max(...Array.from({ length: n }, (_, r) => indices.filter((i) => i === r).length));
    expectClose(
      first.grad,
      reference,
      dotBound(new Float64Array(first.grad.length).fill(repeats), repeats),
      'gather gradient',
    );
  });

  it('a bad index in a GPU tensor gives NaN, reads nothing out of bounds, and adds nothing to the gradient', async () => {
    const a = gpu.tensor([1, 2, 3, 4, 5, 6], [3, 2], { requiresGrad: true });
    const indices = gpu.tensor([2, 3, -1, 0.5, 1e9, 0], [6]);
    const y = gpu.gather(a, indices);
    const values = Array.from(await y.data());
    expect(values.slice(0, 2)).toEqual([5, 6]);
    expect(values.slice(2, 10).every(Number.isNaN)).toBe(true);
    expect(values.slice(10)).toEqual([1, 2]);
    const [g] = await gpu.grad(
      gpu.sum(gpu.gather(a, indices, 0).mul(gpu.tensor(f32(randomArray(12, rng(3))), [6, 2]))),
      [a],
    );
    const grad = Array.from(await g.data());
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(grad.slice(2, 4)).toEqual([0, 0]);
    // The runtime goes on working after the NaNs.
    expect(Array.from(await gpu.slice(a, [1], [1]).data())).toEqual([3, 4]);
  });
});

describe('slicing errors on the GPU runtime', () => {
  const cases: [string, () => unknown, RegExp, number][] = [
    [
      'slice bounds',
      () => gpu.slice(gpu.zeros([2, 3]), [1, 2], [1, 2]),
      /slice: 2 \+ 2 passes the end of dimension 1 \(extent 3\): \[2,3\]/,
      1,
    ],
    [
      'pad pairs',
      () => gpu.pad(gpu.zeros([2, 3]), [[0, 1], [2]]),
      /pad: the padding of dimension 1 must be \[before, after\]/,
      1,
    ],
    [
      'concat shapes',
      () => gpu.concat([gpu.zeros([2, 3]), gpu.zeros([2, 4])], 0),
      /concat: tensor 1 \[2,4\] does not match tensor 0 \[2,3\]/,
      2,
    ],
    [
      'stack shapes',
      () => gpu.stack([gpu.zeros([2, 3]), gpu.zeros([3, 2])]),
      /stack: tensor 1 \[3,2\] does not match tensor 0 \[2,3\]/,
      2,
    ],
    [
      'split sizes',
      () => gpu.split(gpu.zeros([4]), [3, 2]),
      /split: sizes \[3,2\] for \[4\] along axis 0 \(extent 4\) sum to 5, not 4/,
      1,
    ],
    [
      'gather indices',
      () => gpu.gather(gpu.zeros([4, 3]), Int32Array.of(0, 3), 1),
      /gather: index 3 at position 1 is not an integer in \[0, 3\) for axis 1 of \[4,3\]/,
      1,
    ],
  ];
  for (const [label, call, message, operands] of cases) {
    it(`${label}: nothing is recorded, and the runtime goes on`, async () => {
      const dispatches = gpu.stats().dispatches;
      expect(call).toThrow(message);
      // Only the operands' fills ran (each poisoned first): the failing op recorded nothing.
      expect(gpu.stats().dispatches - dispatches).toBe(2 * operands);
      const y = gpu.concat([gpu.tensor([1, 2], [2]), gpu.tensor([3], [1])]);
      expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    });
  }
});

describe('slicing ops in a compiled step', () => {
  it('replays bit for bit what the eager path computes, gradients included', async () => {
    const random = rng(11);
    const a = gpu.tensor(f32(randomArray(17 * 5, random)), [17, 5], { requiresGrad: true });
    const b = gpu.tensor(f32(randomArray(3 * 5, random)), [3, 5], { requiresGrad: true });
    const body = async (x: Tensor) => {
      const joined = gpu.concat([gpu.gather(a, [16, 0, 16, 4]), b, x], 0);
      const [top, rest] = gpu.split(
        gpu.pad(
          joined,
          [
            [1, 0],
            [0, 2],
          ],
          0.5,
        ),
        [2, -1],
        0,
      );
      const y = gpu.stack([gpu.slice(rest, [0, 1], [2, 5]), top.slice([0, 2])], -1);
      const loss = gpu.sum(gpu.mul(y, y));
      const grads = await gpu.grad(loss, [a, b]);
      return [loss, ...grads];
    };
    const inputs = [0, 1, 2].map((k) => gpu.tensor(f32(randomArray(2 * 5, rng(20 + k))), [2, 5]));
    const eager: Float64Array[][] = [];
    for (const x of inputs) eager.push(await Promise.all((await gpu.tidy(() => body(x))).map(read)));
    const step = gpu.compile(body);
    for (const [k, x] of inputs.entries()) {
      const results = await Promise.all((await step(x)).map(read));
      results.forEach((r, i) => expect(Array.from(r), `step ${k}, result ${i}`).toEqual(Array.from(eager[k][i])));
    }
  });
});
