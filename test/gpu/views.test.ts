// The N-D ops on the GPU against the float64 CPU reference, forward and backward, on ragged shapes with poisoned
// outputs; views sharing storage on the GPU (memory, disposal order, in-place updates, compiled steps).
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

interface Case {
  name: string;
  inputs: number[][];
  f: (rt: Runtime, xs: Tensor[]) => Tensor;
  /** The longest sum behind one output or gradient element (broadcast axes summed back), for the tolerance. */
  reduction: number;
}

const SIZES = [1, 3, 17, 33, 65];

/** A fixed condition with zeros and non-zeros, never all zero. */
function condition(rt: Runtime, shape: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return rt.tensor(
    Array.from({ length: size }, (_, i) => [2, 0, -1][i % 3]),
    shape,
  );
}

const cases: Case[] = [];
for (const m of SIZES) {
  const n = SIZES[(SIZES.indexOf(m) + 2) % SIZES.length];
  cases.push(
    {
      name: `permute [${m},${n},3] by [2,0,1]`,
      inputs: [[m, n, 3]],
      f: (rt, [x]) => rt.permute(x, [2, 0, 1]),
      reduction: 1,
    },
    {
      name: `permute [2,${m},1,${n}] by [3,1,0,2]`,
      inputs: [[2, m, 1, n]],
      f: (rt, [x]) => rt.permute(x, [3, 1, 0, 2]),
      reduction: 1,
    },
    { name: `transpose [3,${m},${n}] (last two)`, inputs: [[3, m, n]], f: (rt, [x]) => rt.transpose(x), reduction: 1 },
    {
      name: `transpose [${m},${n}] with axes [1,0]`,
      inputs: [[m, n]],
      f: (rt, [x]) => rt.transpose(x, [1, 0]),
      reduction: 1,
    },
    {
      name: `broadcastTo [${m},1] → [2,${m},${n}]`,
      inputs: [[m, 1]],
      f: (rt, [x]) => rt.broadcastTo(x, [2, m, n]),
      reduction: 2 * n,
    },
    {
      name: `where [2,${m},1] ? [${n}] : [${m},1]`,
      inputs: [[n], [m, 1]],
      f: (rt, [a, b]) => rt.where(condition(rt, [2, m, 1]), a, b),
      reduction: 2 * Math.max(m, n),
    },
    {
      name: `where [${m},${n}] ? [${m},${n}] : 0.5`,
      inputs: [[m, n]],
      f: (rt, [a]) => rt.where(condition(rt, [m, n]), a, 0.5),
      reduction: 1,
    },
    {
      name: `views: reshape, flatten, expandDims, squeeze of [${m},${n}] into a product`,
      inputs: [
        [m, n],
        [n, 1],
      ],
      f: (rt, [x, y]) =>
        rt.mul(rt.expandDims(rt.flatten(rt.reshape(x, [1, m, -1]), 0, 1), 1), rt.squeeze(rt.expandDims(y, 0), 0)),
      reduction: m,
    },
    {
      name: `add, rank 8: [2,1,${m},1,3,1,2,1] + [1,2,1,${n},1,1,2,1]`,
      inputs: [
        [2, 1, m, 1, 3, 1, 2, 1],
        [1, 2, 1, n, 1, 1, 2, 1],
      ],
      f: (rt, [a, b]) => rt.add(a, b),
      reduction: 6 * Math.max(m, n),
    },
    {
      name: `mul, rank 5 by rank 7: [${m},1,2,1,3] · [2,1,1,${n},1,1,1]`,
      inputs: [
        [m, 1, 2, 1, 3],
        [2, 1, 1, n, 1, 1, 1],
      ],
      f: (rt, [a, b]) => rt.mul(a, b),
      reduction: 6 * Math.max(m, n),
    },
    {
      name: `sum over axis 5 of a rank-6 [2,1,${m},1,3,${n}]`,
      inputs: [[2, 1, m, 1, 3, n]],
      f: (rt, [x]) => rt.sum(x, -1),
      reduction: n,
    },
  );
}

async function run(rt: Runtime, c: Case, seed: number) {
  const random = rng(seed);
  const xs = c.inputs.map((shape) =>
    rt.tensor(
      f32(
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          random,
        ),
      ),
      shape,
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

function bound(expected: Float64Array, reduction: number): Float64Array {
  const scale = expected.reduce((most, v) => Math.max(most, Math.abs(v)), 1);
  return relBound(expected, 8, 1e-6 + 8 * reduction * 2 ** -24 * scale);
}

describe('N-D ops on the GPU against the reference, forward and backward', () => {
  cases.forEach((c, index) => {
    it(c.name, async () => {
      const g = await run(gpu, c, index + 1);
      const r = await run(cpu, c, index + 1);
      expect(g.shape).toEqual(r.shape);
      expectClose(g.y, r.y, bound(r.y, 1), `${c.name}: forward`);
      g.grads.forEach((grad, i) => {
        expect(g.shapes[i]).toEqual(c.inputs[i]);
        expectClose(grad, r.grads[i], bound(r.grads[i], c.reduction), `${c.name}: gradient of input ${i}`);
      });
    });
  });

  it('where keeps Inf and NaN of the branch not taken out of the result', async () => {
    const y = gpu.where(
      gpu.tensor([1, 0, 0, 3]),
      gpu.tensor([1, Infinity, NaN, 4]),
      gpu.tensor([NaN, 2, 3, -Infinity]),
    );
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4]);
  });

  it('permute and transpose name their kernels in the trace', async () => {
    const x = gpu.tensor(f32(randomArray(24, rng(9))), [2, 3, 4]);
    const m = gpu.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const { dispatches } = await gpu.trace(() => [x.T, gpu.permute(x, [1, 2, 0]), m.T, gpu.transpose(m, [1, 0])]);
    const kernels = dispatches.map((d) => d.kernel).filter((k) => k !== 'poison');
    expect(kernels).toEqual(['permute', 'permute', 'transpose', 'transpose']);
  });

  it('a permute that keeps a 4-aligned innermost axis in place copies vec4s, and matches the reference', async () => {
    const data = f32(randomArray(3 * 5 * 2 * 8, rng(10)));
    const x = gpu.tensor(data, [3, 5, 2, 8]);
    const { value, dispatches } = await gpu.trace(() => gpu.permute(x, [2, 0, 1, 3]));
    expect(dispatches.map((d) => d.kernel).filter((k) => k !== 'poison')).toEqual(['permute_vec4']);
    const ref = await cpu.permute(cpu.tensor(data, [3, 5, 2, 8]), [2, 0, 1, 3]).data();
    expect(Array.from(await value.data())).toEqual(Array.from(ref));
  });
});

describe('views on the GPU', () => {
  it('run no kernel and count the storage once', async () => {
    await gpu.sync();
    const before = gpu.memory();
    const x = gpu.tensor(f32(randomArray(66, rng(2))), [2, 33]);
    const bytes = gpu.memory().liveBytes - before.liveBytes;
    const { value: views, dispatches } = await gpu.trace(() => {
      const padded = x.reshape([1, 66, 1]);
      return [x.reshape([33, -1]), x.flatten(), x.expandDims(1), padded, padded.squeeze([0, 2])];
    });
    expect(dispatches).toEqual([]);
    expect(gpu.memory().liveBytes - before.liveBytes).toBe(bytes);
    const expected = Array.from(await x.data());
    for (const v of views) expect(Array.from(await v.data())).toEqual(expected);
    for (const v of [x, ...views]) v.dispose();
    expect(gpu.memory().liveBytes).toBe(before.liveBytes);
    expect(gpu.memory().liveTensors).toBe(before.liveTensors);
  });

  it('free the storage once, whichever of base and views is disposed first', async () => {
    for (const order of [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [1, 0, 3, 2],
      [2, 3, 0, 1],
    ]) {
      await gpu.sync();
      const before = gpu.memory();
      const base = gpu.tensor(f32(randomArray(51, rng(4))), [3, 17]);
      const values = Array.from(await base.data());
      const chain = [base, base.reshape([17, 3])];
      chain.push(chain[1].expandDims(0), base.flatten());
      for (const i of order.slice(0, 3)) {
        chain[i].dispose();
        chain[i].dispose();
      }
      // Storage freed early would be reused by this tensor and show its values.
      const other = gpu.full([51], 7);
      expect(Array.from(await chain[order[3]].data()), `order ${order}`).toEqual(values);
      chain[order[3]].dispose();
      other.dispose();
      await gpu.sync();
      const after = gpu.memory();
      expect(after.liveBytes, `order ${order}`).toBe(before.liveBytes);
      expect(after.liveTensors, `order ${order}`).toBe(before.liveTensors);
    }
  });

  it('see in-place updates of their base: rt.assign and opt.step', async () => {
    const w = gpu.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const column = w.reshape([6, 1]);
    gpu.assign(w, gpu.tensor([6, 5, 4, 3, 2, 1], [2, 3]));
    expect(Array.from(await column.data())).toEqual([6, 5, 4, 3, 2, 1]);
    gpu.optim.sgd({ lr: 1 }).step([w], [gpu.tensor([1, 1, 1, 1, 1, 1], [2, 3])]);
    expect(Array.from(await column.data())).toEqual([5, 4, 3, 2, 1, 0]);
    gpu.assign(column, gpu.tensor([1, 1, 1, 2, 2, 2], [6, 1]));
    expect(Array.from(await w.data())).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('record and replay in a compiled step: a reshape inside, and a reshape as the output', async () => {
    const makeStep = (rt: Runtime) => {
      const w = rt.tensor(f32(randomArray(12, rng(11))), [3, 4], { requiresGrad: true });
      const opt = rt.optim.sgd({ lr: 0.1 });
      const fn = async (x: Tensor) => {
        const h = rt.matmul(rt.reshape(x, [-1, 3]), w);
        const loss = rt.mean(rt.square(rt.flatten(h)));
        const [g] = await rt.grad(loss, [w]);
        opt.step([w], [g]);
        return { loss, wFlat: rt.reshape(w, [12]), h: rt.expandDims(h, 0) };
      };
      return { w, fn };
    };
    const eager = makeStep(cpu);
    const compiled = makeStep(gpu);
    const step = gpu.compile(compiled.fn);
    for (let s = 0; s < 4; s++) {
      const x = f32(randomArray(30, rng(20 + s)));
      const [ref, out] = [await eager.fn(cpu.tensor(x, [2, 5, 3])), await step(gpu.tensor(x, [2, 5, 3]))];
      expect(out.h.shape).toEqual([1, 10, 4]);
      expectClose(await read(out.loss), await read(ref.loss), 1e-4, `step ${s}: loss`);
      expectClose(await read(out.wFlat), await read(ref.wFlat), 1e-5, `step ${s}: w`);
      expectClose(await read(out.h), await read(ref.h), 1e-4, `step ${s}: h`);
      const seen = compiled.w.reshape([12]);
      expectClose(await read(seen), await read(ref.wFlat), 1e-5, `step ${s}: w through a view`);
      seen.dispose();
    }
    expect(step.recordings).toBe(1);
    // The view of the parameter that the recording returned was not left behind holding its storage.
    await gpu.sync();
    const before = gpu.memory().liveBytes;
    compiled.w.dispose();
    step.dispose();
    expect(gpu.memory().liveBytes).toBeLessThan(before);
    expect(gpu.stats().replays).toBeGreaterThanOrEqual(3);
  });
});

describe('bad N-D calls on the GPU', () => {
  it('throw an error naming the op and the shapes, and leave the runtime usable', async () => {
    const x = gpu.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const bad: [() => unknown, string][] = [
      [() => gpu.reshape(x, [4, 2]), 'reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)'],
      [() => gpu.squeeze(x, 0), 'squeeze: axis 0 of shape [2,3] has size 2, not 1'],
      [() => gpu.permute(x, [1, 1]), 'permute: axes [1,1] are not a permutation of the axes of [2,3]'],
      [() => gpu.broadcastTo(x, [2, 2]), 'broadcastTo: shapes [2,3] and [2,2] do not broadcast'],
      [() => gpu.where(gpu.tensor([1, 0]), x, 0), 'where: shapes [2] and [2,3] do not broadcast'],
      [() => gpu.tensor([[1, 2], [3]]), 'tensor: ragged nested array: [1] has 1 elements, [0] has 2'],
    ];
    for (const [make, message] of bad) expect(make).toThrow(message);
    expect(Array.from(await gpu.add(x.reshape([3, 2]).T, 1).data())).toEqual([2, 4, 6, 3, 5, 7]);
  });
});
