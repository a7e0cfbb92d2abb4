// slice, pad, concat, stack, split and gather on the CPU reference: small worked values, finite-difference
// gradients (float64, eps 1e-6, rtol 1e-6), the op-list typing of split, and the errors.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { gradcheck as sharedGradcheck } from '../gradcheck-helpers.js';

const iota = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** The shared finite-difference check (test/gradcheck-helpers.ts), on inputs given by their shapes. */
function gradcheck(shapes: number[][], f: (rt: Runtime, xs: Tensor[]) => Tensor, seed = 1) {
  return sharedGradcheck(
    '',
    shapes.map((shape) => ({ shape })),
    f,
    seed,
  );
}

describe('slicing ops on the CPU reference', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const x = rt.tensor(iota(12), [3, 4]);
  const values = async (t: Tensor) => Array.from(await t.dataF64());

  it('slice: a box; −1 runs to the end; a short begin/size leaves the rest whole', async () => {
    const box = rt.slice(x, [1, 1], [2, -1]);
    expect(box.shape).toEqual([2, 3]);
    expect(await values(box)).toEqual([5, 6, 7, 9, 10, 11]);
    const rows = x.slice([2]);
    expect(rows.shape).toEqual([1, 4]);
    expect(await values(rows)).toEqual([8, 9, 10, 11]);
    expect(await values(rt.slice(x, [0, 3], [3, 1]))).toEqual([3, 7, 11]);
  });

  it('pad: [before, after] per dimension with a value', async () => {
    const padded = rt.pad(
      rt.tensor([1, 2], [1, 2]),
      [
        [1, 0],
        [0, 2],
      ],
      -1,
    );
    expect(padded.shape).toEqual([2, 4]);
    expect(await values(padded)).toEqual([-1, -1, -1, -1, 1, 2, -1, -1]);
  });

  it('concat along 0, 1 and −1', async () => {
    const y = rt.tensor([100, 101, 102], [3, 1]);
    expect(await values(rt.concat([x.slice([0], [1]), x.slice([2], [1])]))).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    const joined = rt.concat([y, x, y], -1);
    expect(joined.shape).toEqual([3, 6]);
    expect(await values(joined)).toEqual([100, 0, 1, 2, 3, 100, 101, 4, 5, 6, 7, 101, 102, 8, 9, 10, 11, 102]);
    expect(await values(rt.concat([x], 1))).toEqual(iota(12));
  });

  it('stack along 0, 1 and −1', async () => {
    const a = rt.tensor([1, 2, 3], [3]);
    const b = rt.tensor([4, 5, 6], [3]);
    expect(rt.stack([a, b]).shape).toEqual([2, 3]);
    expect(await values(rt.stack([a, b]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rt.stack([a, b], 1).shape).toEqual([3, 2]);
    expect(await values(rt.stack([a, b], -1))).toEqual([1, 4, 2, 5, 3, 6]);
    const s = rt.stack([x, x], 1);
    expect(s.shape).toEqual([3, 2, 4]);
    expect(await values(s)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11]);
  });

  it('split: a count of equal pieces, or sizes with one −1; rt.split and t.split return Tensor[]', async () => {
    const halves: Tensor[] = rt.split(x, 2, 1);
    expect(halves.map((t) => t.shape)).toEqual([
      [3, 2],
      [3, 2],
    ]);
    expect(await values(halves[1])).toEqual([2, 3, 6, 7, 10, 11]);
    const pieces: Tensor[] = x.split([1, -1], 0);
    expect(pieces.map((t) => t.shape)).toEqual([
      [1, 4],
      [2, 4],
    ]);
    expect(await values(pieces[1])).toEqual(iota(8, 4));
    expect((await Promise.all(x.split(4, -1).map(values))).flat()).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    // A list op is no tensor method: `t.concat(...)` would read as the list's first element.
    expect((x as unknown as Record<string, unknown>).concat).toBeUndefined();
    expect((x as unknown as Record<string, unknown>).stack).toBeUndefined();
  });

  it('gather: indices of rank 0, 1 and 2 along axes 0, 1 and −1, repeated and at the ends', async () => {
    expect(rt.gather(x, 2).shape).toEqual([4]);
    expect(await values(rt.gather(x, 2))).toEqual([8, 9, 10, 11]);
    expect(await values(x.gather([2, 0, 2]))).toEqual([8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]);
    const cols = rt.gather(
      x,
      [
        [3, 0],
        [0, 0],
      ],
      1,
    );
    expect(cols.shape).toEqual([3, 2, 2]);
    expect(await values(cols)).toEqual([3, 0, 0, 0, 7, 4, 4, 4, 11, 8, 8, 8]);
    expect(await values(rt.gather(x, Int32Array.of(3), -1))).toEqual([3, 7, 11]);
    expect(await values(rt.gather(x, rt.tensor([1, 1], [2]), 0))).toEqual([4, 5, 6, 7, 4, 5, 6, 7]);
  });

  it('gather gradient: repeated indices accumulate', async () => {
    const a = rt.tensor(iota(6), [3, 2], { requiresGrad: true });
    const [g] = await rt.grad(rt.sum(rt.gather(a, [2, 0, 2, 2])), [a]);
    expect(await values(g)).toEqual([1, 1, 0, 0, 3, 3]);
  });
});

describe('slicing gradients against finite differences (float64)', () => {
  it('slice', () => gradcheck([[3, 4, 2]], (rt, [x]) => rt.slice(x, [1, 1], [-1, 2])));
  it('slice, short begin and size', () => gradcheck([[4, 3]], (rt, [x]) => rt.slice(x, [1])));
  it('pad', () =>
    gradcheck([[2, 3]], (rt, [x]) =>
      rt.pad(
        x,
        [
          [1, 2],
          [0, 1],
        ],
        0.5,
      ),
    ));
  it('concat axis 0', () =>
    gradcheck(
      [
        [1, 3],
        [2, 3],
        [1, 3],
      ],
      (rt, xs) => rt.concat(xs, 0),
    ));
  it('concat axis 1', () =>
    gradcheck(
      [
        [2, 1, 2],
        [2, 3, 2],
      ],
      (rt, xs) => rt.concat(xs, 1),
    ));
  it('concat axis −1', () =>
    gradcheck(
      [
        [2, 2],
        [2, 1],
      ],
      (rt, xs) => rt.concat(xs, -1),
    ));
  it('stack axis 0', () =>
    gradcheck(
      [
        [2, 3],
        [2, 3],
      ],
      (rt, xs) => rt.stack(xs),
    ));
  it('stack axis 1', () =>
    gradcheck(
      [
        [2, 3],
        [2, 3],
        [2, 3],
      ],
      (rt, xs) => rt.stack(xs, 1),
    ));
  it('stack axis −1', () => gradcheck([[3], [3]], (rt, xs) => rt.stack(xs, -1)));
  it('split by count, pieces reordered', () =>
    gradcheck([[2, 6]], (rt, [x]) => rt.concat(rt.split(x, 3, 1).reverse(), 1)));
  it('split by sizes, one piece used twice', () =>
    gradcheck([[5, 2]], (rt, [x]) => {
      const [a, b, c] = x.split([2, -1, 1]);
      return rt.concat([c, a, b, a.mul(a)], 0);
    }));
  it('gather axis 0, repeated and boundary indices', () =>
    gradcheck([[4, 3]], (rt, [x]) => rt.gather(x, [3, 0, 3, 1, 3])));
  it('gather axis 1, rank-2 indices', () =>
    gradcheck([[2, 3, 2]], (rt, [x]) =>
      rt.gather(
        x,
        [
          [2, 0],
          [0, 0],
        ],
        1,
      ),
    ));
  it('gather axis −1, rank-0 index', () => gradcheck([[3, 4]], (rt, [x]) => rt.gather(x, 3, -1)));
  it('gather twice (the scatter-add has a VJP)', () =>
    gradcheck([[3, 2]], (rt, [x]) => {
      const y = rt.gather(x, [0, 2, 2]);
      return rt.gather(y.mul(y), [1, 1, 0]);
    }));
});

describe('slicing errors name the op and the shapes, and leave the runtime usable', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const z = (shape: number[]) => rt.zeros(shape);
  const cases: [string, () => unknown, RegExp][] = [
    [
      'slice begin outside',
      () => rt.slice(z([2, 3]), [2, 0]),
      /slice: begin 2 is outside dimension 0 \(extent 2\): \[2,3\]/,
    ],
    [
      'slice past the end',
      () => rt.slice(z([2, 3]), [0, 1], [1, 3]),
      /slice: 1 \+ 3 passes the end of dimension 1 \(extent 3\): \[2,3\]/,
    ],
    ['slice negative begin', () => rt.slice(z([2, 3]), [-1]), /slice: begin -1 is outside dimension 0/],
    [
      'slice zero size',
      () => rt.slice(z([2, 3]), [0, 0], [0, 1]),
      /slice: size 0 along dimension 0 would make a zero-size/,
    ],
    [
      'slice too many entries',
      () => rt.slice(z([2, 3]), [0, 0, 0]),
      /slice: begin and size have more entries than the rank 2: \[2,3\]/,
    ],
    ['slice fractional', () => rt.slice(z([2, 3]), [0.5]), /slice: begin and size must be integers: \[2,3\]/],
    [
      'pad pairs',
      () => rt.pad(z([2, 3]), [[1, 1]]),
      /pad: paddings must hold one \[before, after\] pair per dimension \(2\): \[2,3\] with paddings \[\[1,1\]\]/,
    ],
    [
      'pad negative',
      () =>
        rt.pad(z([2, 3]), [
          [1, 1],
          [-1, 0],
        ]),
      /pad: the padding of dimension 1 must be \[before, after\] with non-negative integers: \[2,3\]/,
    ],
    ['concat empty', () => rt.concat([]), /concat: needs a non-empty array of tensors, got an empty array/],
    [
      'concat mismatch',
      () => rt.concat([z([2, 3]), z([3, 2])], 0),
      /concat: tensor 1 \[3,2\] does not match tensor 0 \[2,3\] \(shapes must be equal except along axis 0\): \[2,3\], \[3,2\]/,
    ],
    ['concat rank', () => rt.concat([z([2, 3]), z([2])], 0), /concat: tensor 1 \[2\] does not match tensor 0 \[2,3\]/],
    ['concat axis', () => rt.concat([z([2, 3])], 2), /concat: axis 2 is out of range for \[2,3\]/],
    ['concat not a tensor', () => rt.concat([z([2]), [1, 2] as never]), /concat: argument 1 is not a Tensor/],
    ['stack empty', () => rt.stack([]), /stack: needs a non-empty array of tensors/],
    [
      'stack mismatch',
      () => rt.stack([z([2, 3]), z([2, 4])]),
      /stack: tensor 1 \[2,4\] does not match tensor 0 \[2,3\] \(all shapes must be equal\)/,
    ],
    ['stack axis', () => rt.stack([z([2, 3])], 3), /stack: axis 3 is out of range for a new axis of \[2,3\]/],
    [
      'split count',
      () => rt.split(z([2, 5]), 2, 1),
      /split: cannot split \[2,5\] along axis 1 \(extent 5\) into 2 equal pieces/,
    ],
    [
      'split sum',
      () => rt.split(z([5, 2]), [2, 2]),
      /split: sizes \[2,2\] for \[5,2\] along axis 0 \(extent 5\) sum to 4, not 5/,
    ],
    [
      'split zero piece',
      () => rt.split(z([5, 2]), [5, 0]),
      /split: sizes \[5,0\] for \[5,2\] .* a piece of size 0 is not allowed/,
    ],
    [
      'split nothing left',
      () => rt.split(z([5, 2]), [5, -1]),
      /split: sizes \[5,-1\] for \[5,2\] .* leave nothing for the −1 piece/,
    ],
    ['split two −1', () => rt.split(z([5, 2]), [-1, -1]), /split: sizes \[-1,-1\] for \[5,2\] .* more than one −1/],
    ['split axis', () => rt.split(z([5, 2]), 1, 2), /split: axis 2 is out of range for shape \[5,2\]/],
    [
      'gather out of range',
      () => rt.gather(z([4, 3]), [0, 4]),
      /gather: index 4 at position 1 is not an integer in \[0, 4\) for axis 0 of \[4,3\]/,
    ],
    [
      'gather negative',
      () => rt.gather(z([4, 3]), [[0], [-1]], 1),
      /gather: index -1 at position 1 is not an integer in \[0, 3\) for axis 1 of \[4,3\]/,
    ],
    ['gather fractional', () => rt.gather(z([4, 3]), [1.5], 0), /gather: index 1.5 at position 0 is not an integer/],
    ['gather ragged', () => rt.gather(z([4, 3]), [[0, 1], [2]] as never), /gather: indices for \[4,3\] are ragged/],
    ['gather empty', () => rt.gather(z([4, 3]), []), /gather: dimension 0 of shape \[0\] is 0/],
    [
      'gather tensor out of range',
      () => rt.gather(z([4, 3]), rt.tensor([1, 7], [2])),
      /gather: index 7 at position 1 is not an integer in \[0, 4\) for axis 0 of \[4,3\]/,
    ],
    [
      'gather tensor fractional',
      () => rt.gather(z([4, 3]), rt.tensor([0.25], [1]), 0),
      /gather: index 0.25 at position 0 is not an integer/,
    ],
    [
      'gather past 2^24',
      () => rt.gather(z([4]), [2 ** 24 + 1]),
      /gather: index 16777217 at position 0 is not below 2\^24/,
    ],
    ['gather axis', () => rt.gather(z([4, 3]), [0], -3), /gather: axis -3 is out of range for shape \[4,3\]/],
  ];
  for (const [label, call, message] of cases) {
    it(label, async () => {
      const before = rt.memory();
      expect(call).toThrow(message);
      expect(rt.memory().liveTensors - before.liveTensors).toBeLessThanOrEqual(2); // only the operands made in the call
      const y = rt.slice(rt.tensor([1, 2, 3], [3]), [1], [-1]);
      expect(Array.from(await y.data())).toEqual([2, 3]);
    });
  }
});
