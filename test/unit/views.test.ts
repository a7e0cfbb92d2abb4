// N-D tensors on the CPU reference: nested and typed data, views that share storage, permute/transpose,
// broadcastTo and where, with their errors. The GPU side is test/gpu/views.test.ts.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';

async function cpu(): Promise<Runtime> {
  return createRuntime({ backend: 'cpu' });
}

async function values(t: { dataF64(): Promise<Float64Array> }): Promise<number[]> {
  return Array.from(await t.dataF64());
}

describe('rt.tensor data', async () => {
  const rt = await cpu();

  it('infers the shape of nested arrays', async () => {
    const t = rt.tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(t.shape).toEqual([2, 2]);
    expect(await values(t)).toEqual([1, 2, 3, 4]);
    const deep = rt.tensor([
      [[1], [2], [3]],
      [[4], [5], [6]],
    ]);
    expect(deep.shape).toEqual([2, 3, 1]);
    expect(await values(deep)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('makes a scalar of a number, and keeps NaN and Infinity', async () => {
    const s = rt.tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(await values(s)).toEqual([2.5]);
    expect(await values(rt.tensor([NaN, Infinity, -Infinity]))).toEqual([NaN, Infinity, -Infinity]);
  });

  it('takes every numeric TypedArray', async () => {
    const arrays = [
      new Int8Array([-3, 4]),
      new Int16Array([-3, 4]),
      new Int32Array([-3, 4]),
      new Uint8Array([3, 4]),
      new Uint8ClampedArray([3, 4]),
      new Uint16Array([3, 4]),
      new Uint32Array([3, 4]),
      new Float32Array([-3, 4]),
      new Float64Array([-3, 4]),
    ];
    for (const a of arrays) {
      const t = rt.tensor(a, [2, 1]);
      expect(t.shape, a.constructor.name).toEqual([2, 1]);
      expect(await values(t), a.constructor.name).toEqual(Array.from(a));
    }
    expect(rt.tensor(new Int32Array([1, 2, 3])).shape).toEqual([3]);
  });

  it('takes TypedArrays as the rows of nested data', async () => {
    const t = rt.tensor([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect(t.shape).toEqual([2, 2]);
    expect(await values(t)).toEqual([1, 2, 3, 4]);
  });

  it('reshapes flat data to a given shape, and checks a given shape against nested data', async () => {
    expect(rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]).shape).toEqual([2, 3]);
    expect(rt.tensor([[1, 2, 3]], [1, 3]).shape).toEqual([1, 3]);
    expect(() => rt.tensor([[1, 2, 3]], [3, 1])).toThrow(
      "tensor: shape [3,1] does not match the nested data's shape [1,3]",
    );
  });

  const refused: [string, () => unknown, string][] = [
    [
      'a string element',
      () =>
        rt.tensor([
          [1, 2],
          ['a', 3],
        ] as never),
      'tensor: element [1][0] is a string ("a")',
    ],
    ['undefined', () => rt.tensor([1, undefined] as never), 'tensor: element [1] is undefined'],
    ['null', () => rt.tensor([[1], [null]] as never), 'tensor: element [1][0] is null'],
    ['a boolean', () => rt.tensor([true] as never), 'tensor: element [0] is a boolean (true)'],
    ['an object', () => rt.tensor([[{}]] as never), 'tensor: element [0][0] is an object (Object)'],
    [
      'ragged rows',
      () =>
        rt.tensor([
          [1, 2],
          [3, 4, 5],
        ]),
      'tensor: ragged nested array: [1] has 3 elements, [0] has 2',
    ],
    [
      'ragged deeper',
      () => rt.tensor([[[1, 2]], [[3]]]),
      'tensor: ragged nested array: [1][0] has 1 elements, [0][0] has 2',
    ],
    [
      'a number where a row belongs',
      () => rt.tensor([[1, 2], 3] as never),
      'tensor: element [1] is a number (3), expected an array of 2 elements',
    ],
    [
      'a row where a number belongs',
      () => rt.tensor([1, [2]] as never),
      'tensor: element [1] is an array of 1 elements',
    ],
    ['a string', () => rt.tensor('12' as never), 'tensor: data must be a number, an array of numbers'],
    ['a BigInt64Array', () => rt.tensor(new BigInt64Array(2) as never), 'got BigInt64Array'],
    ['an object', () => rt.tensor({ length: 2 } as never), 'got an object (Object)'],
  ];
  it.each(refused)('refuses %s with an error naming the element', async (_label, make, message) => {
    expect(make).toThrow(message);
    expect(await values(rt.tensor([[7]]))).toEqual([7]);
  });
});

describe('views share storage and copy nothing', async () => {
  const rt = await cpu();

  it('reshape, flatten, expandDims and squeeze run no kernel', async () => {
    const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const { value, dispatches } = await rt.trace(() => [
      rt.reshape(x, [3, -1]),
      x.flatten(),
      rt.expandDims(x, -1),
      rt.squeeze(rt.expandDims(x, 0)),
      rt.flatten(rt.reshape(x, [1, 2, 3, 1]), 1, 2),
      rt.squeeze(rt.reshape(x, [1, 2, 1, 3]), [0, -2]),
    ]);
    expect(dispatches).toEqual([]);
    expect(value.map((t) => t.shape)).toEqual([[3, 2], [6], [2, 3, 1], [2, 3], [1, 6, 1], [2, 3]]);
    for (const t of value) expect(await values(t)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rt.flatten(rt.tensor(3)).shape).toEqual([1]);
    expect(rt.reshape(rt.tensor([5]), []).shape).toEqual([]);
  });

  it('counts the storage once and frees it once, whichever of base and views goes first', async () => {
    for (const order of ['base first', 'views first', 'interleaved'] as const) {
      const before = rt.memory();
      const base = rt.tensor(new Float32Array(24).fill(1), [2, 3, 4]);
      const bytes = rt.memory().liveBytes - before.liveBytes;
      const a = base.reshape([6, 4]);
      const b = a.expandDims(0);
      const c = b.squeeze();
      expect(rt.memory().liveBytes - before.liveBytes, order).toBe(bytes);
      const all =
        order === 'base first' ? [base, a, b, c] : order === 'views first' ? [c, b, a, base] : [a, base, c, b];
      for (const t of all.slice(0, 3)) {
        t.dispose();
        t.dispose();
        expect(rt.memory().liveBytes - before.liveBytes, order).toBe(bytes);
      }
      expect(await values(all[3])).toEqual(new Array(24).fill(1));
      all[3].dispose();
      expect(rt.memory().liveBytes, order).toBe(before.liveBytes);
      expect(rt.memory().liveTensors, order).toBe(before.liveTensors);
    }
  });

  it('sees in-place updates of the base through a view, and of a view through the base', async () => {
    const w = rt.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const flat = w.reshape([4]);
    rt.assign(w, rt.tensor([5, 6, 7, 8], [2, 2]));
    expect(await values(flat)).toEqual([5, 6, 7, 8]);
    rt.assign(flat, rt.tensor([1, 1, 1, 1]));
    expect(await values(w)).toEqual([1, 1, 1, 1]);
    rt.assign(flat, flat);
    const opt = rt.optim.sgd({ lr: 0.5 });
    opt.step([w], [rt.tensor([2, 2, 2, 2], [2, 2])]);
    expect(await values(flat)).toEqual([0, 0, 0, 0]);
  });

  it('keeps a view usable after a tidy freed its base', async () => {
    const view = rt.tidy(() => rt.tensor([1, 2, 3, 4]).reshape([2, 2]));
    expect(await values(view)).toEqual([1, 2, 3, 4]);
    const before = rt.memory().liveBytes;
    view.dispose();
    expect(rt.memory().liveBytes).toBe(before - 4 * 8);
  });

  it('differentiates through views (the gradient viewed back)', async () => {
    const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const loss = rt.sum(
      rt.mul(rt.squeeze(rt.expandDims(rt.flatten(x.reshape([3, 2])), 1)), rt.tensor([1, 2, 3, 4, 5, 6])),
    );
    const [g] = await rt.grad(loss, [x]);
    expect(g.shape).toEqual([2, 3]);
    expect(await values(g)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('permute, transpose, broadcastTo, where', async () => {
  const rt = await cpu();

  it('permutes axes', async () => {
    const x = rt.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [2, 3, 2]);
    const y = rt.permute(x, [2, 0, 1]);
    expect(y.shape).toEqual([2, 2, 3]);
    // y[k, i, j] = x[i, j, k]
    expect(await values(y)).toEqual([0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]);
    expect(await values(rt.permute(x, [-1, 0, 1]))).toEqual(await values(y));
  });

  it('transposes the last two axes, or permutes with axes', async () => {
    const x = rt.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [2, 2, 3]);
    expect(x.T.shape).toEqual([2, 3, 2]);
    expect(await values(x.T)).toEqual([0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]);
    const m = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect((await rt.trace(() => rt.transpose(m))).dispatches.map((d) => d.op)).toEqual(['transpose']);
    expect((await rt.trace(() => x.T)).dispatches.map((d) => d.op)).toEqual(['permute']);
    expect(await values(rt.transpose(x, [2, 1, 0]))).toEqual(await values(rt.permute(x, [2, 1, 0])));
  });

  it('broadcasts to a shape', async () => {
    const y = rt.broadcastTo(rt.tensor([1, 2, 3], [3, 1]), [2, 3, 2]);
    expect(y.shape).toEqual([2, 3, 2]);
    expect(await values(y)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    const x = rt.tensor([1, 2]);
    const same = rt.broadcastTo(x, [2]);
    same.dispose();
    expect(await values(x)).toEqual([1, 2]);
  });

  it('selects with where, broadcasting all three; NaN and Inf in the branch not taken stay out', async () => {
    const cond = rt.tensor([1, 0, 0], [3, 1]);
    const y = rt.where(cond, rt.tensor([10, 20]), rt.tensor([[Infinity], [-1], [NaN]]));
    expect(y.shape).toEqual([3, 2]);
    expect(await values(y)).toEqual([10, 20, -1, -1, NaN, NaN]);
    expect(await values(rt.where(rt.tensor([0, 2]), 7, rt.tensor([1, 2])))).toEqual([1, 7]);
  });

  it('broadcasts binary ops over ranks 5 to 8', async () => {
    const a = rt.tensor(
      Array.from({ length: 12 }, (_, i) => i),
      [2, 1, 3, 1, 2, 1, 1, 1],
    );
    const b = rt.tensor([1, 10, 100], [3, 1, 1, 1, 1, 1, 1]);
    const c = rt.add(a, b);
    expect(c.shape).toEqual([2, 3, 3, 1, 2, 1, 1, 1]);
    const out = await values(c);
    expect(out[0]).toBe(1);
    expect(out[out.length - 1]).toBe(11 + 100);
    expect(() => rt.zeros([1, 1, 1, 1, 1, 1, 1, 1, 2])).toThrow('at most 8 is supported');
  });
});

describe('errors name the op and the shapes and leave the runtime usable', async () => {
  const rt = await cpu();
  const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const cases: [string, () => unknown, string][] = [
    ['reshape size', () => rt.reshape(x, [4, 2]), 'reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)'],
    ['reshape -1 not dividing', () => rt.reshape(x, [4, -1]), 'reshape: cannot reshape [2,3] (6 elements) into [4,-1]'],
    [
      'reshape two -1',
      () => rt.reshape(x, [-1, -1]),
      'reshape: at most one dimension may be -1, got [-1,-1] for [2,3]',
    ],
    ['reshape zero', () => rt.reshape(x, [0, 6]), 'reshape: dimension 0 of shape [0,6] is 0'],
    ['flatten axes', () => rt.flatten(x, 1, 0), 'flatten: start axis 1 comes after end axis 0 for shape [2,3]'],
    ['flatten range', () => rt.flatten(x, 2), 'flatten: axis 2 is out of range for shape [2,3]'],
    [
      'expandDims range',
      () => rt.expandDims(x, 3),
      'expandDims: axis 3 is out of range for shape [2,3] (from -3 to 2)',
    ],
    [
      'expandDims rank',
      () => rt.expandDims(rt.zeros([1, 1, 1, 1, 1, 1, 1, 2]), 0),
      'expandDims: shape [1,1,1,1,1,1,1,1,2] has rank 9',
    ],
    ['squeeze a non-1 axis', () => rt.squeeze(x, 1), 'squeeze: axis 1 of shape [2,3] has size 3, not 1'],
    ['squeeze range', () => rt.squeeze(x, [-3]), 'squeeze: axis -3 is out of range for shape [2,3]'],
    [
      'permute repeats',
      () => rt.permute(x, [0, 0]),
      'permute: axes [0,0] are not a permutation of the axes of [2,3]: axis 0 repeats',
    ],
    ['permute length', () => rt.permute(x, [0]), 'permute: axes [0] must list each of the 2 axes of [2,3] once'],
    ['permute range', () => rt.permute(x, [0, 2]), 'permute: axis 2 in [0,2] is out of range for shape [2,3]'],
    ['transpose axes', () => rt.transpose(x, [1, 1]), 'transpose: axes [1,1] are not a permutation'],
    ['broadcastTo', () => rt.broadcastTo(x, [3, 3]), 'broadcastTo: shapes [2,3] and [3,3] do not broadcast'],
    ['broadcastTo smaller', () => rt.broadcastTo(x, [3]), 'broadcastTo: cannot broadcast [2,3] to [3]'],
    [
      'broadcastTo growing the input',
      () => rt.broadcastTo(rt.zeros([2, 3]), [1, 3]),
      'broadcastTo: cannot broadcast [2,3] to [1,3]',
    ],
    ['where shapes', () => rt.where(x, rt.zeros([2]), 0), 'where: shapes [2,3] and [2] do not broadcast'],
    ['where operand', () => rt.where(x, 'a' as never, 0), 'where: expected a Tensor or a number, got string'],
    ['where condition', () => rt.where(3 as never, x, x), 'where: argument 0 is not a Tensor (got number)'],
  ];
  it.each(cases)('%s', async (_label, make, message) => {
    expect(make).toThrow(message);
    expect(await values(rt.add(x, 1))).toEqual([2, 3, 4, 5, 6, 7]);
  });
});

describe('uniform packing', () => {
  it('refuses more values than a member holds, instead of spilling into the next member', async () => {
    const { Shader, packUniform } = await import('../../src/core/shader.js');
    const source = `struct Params { size: u32, shape: vec4<u32>, wide: Index8 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1) fn main() { out[0] = params.size + params.shape.x + params.wide.low.x; }`;
    const info = new Shader('probe', source).entry('main').bindings.find((b) => b.name === 'params')!;
    const eight = [1, 1, 1, 1, 2, 3, 4, 5];
    expect(() => packUniform('probe', info, { size: 1, shape: eight, wide: eight })).toThrow(
      /shader probe: uniform 'params' member 'shape' \(vec4.*\) holds 4 values, given 8/,
    );
    const bytes = new Uint32Array(packUniform('probe', info, { size: 1, shape: [1, 2, 3, 4], wide: eight }));
    expect(Array.from(bytes.slice(4, 16))).toEqual([1, 2, 3, 4, ...eight]);
  });
});
