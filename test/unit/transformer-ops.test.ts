// The transformer's ops on the float64 reference: batched matmul, softmax, logSoftmax, N-D cross-entropy and
// attention. Gradients against central finite differences (eps 1e-6, rtol 1e-6), cross-entropy against values
// computed by hand, stability at ±1e4, and errors that name the op and the shapes.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.js';
import { gradcheck } from '../gradcheck-helpers.js';

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

const stored = (batch: number[], rows: number, cols: number, t: boolean) => [
  ...batch,
  ...(t ? [cols, rows] : [rows, cols]),
];

describe('batched matmul gradients against finite differences', () => {
  const patterns: [number[], number[]][] = [
    [[2], [2]],
    [[1], [2]],
    [[2, 1], [3]],
    [[], [2]],
    [[2, 2], []],
  ];
  for (const [ba, bb] of patterns) {
    for (const [ta, tb] of TRANSPOSES) {
      it(`[${ba}]${ta ? 'Aᵀ' : 'A'} · [${bb}]${tb ? 'Bᵀ' : 'B'}`, () =>
        gradcheck('batched matmul', [{ shape: stored(ba, 3, 2, ta) }, { shape: stored(bb, 2, 3, tb) }], (rt, [a, b]) =>
          rt.matmul(a, b, { transposeA: ta, transposeB: tb }),
        ));
    }
  }
});

describe('softmax and logSoftmax', () => {
  for (const axis of [0, 1, -1]) {
    it(`softmax gradient along axis ${axis} of [2,3,4]`, () =>
      gradcheck('softmax', [{ shape: [2, 3, 4], lo: -3, hi: 3 }], (rt, [x]) => rt.softmax(x, axis)));
    it(`logSoftmax gradient along axis ${axis} of [2,3,4]`, () =>
      gradcheck('logSoftmax', [{ shape: [2, 3, 4], lo: -3, hi: 3 }], (rt, [x]) => rt.logSoftmax(x, axis)));
  }

  it('is stable at ±1e4: the values of the shifted logits, and no NaN or Inf', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1e4, 1e4 - 1, -1e4, -1e4, -1e4 + 2, -1e4 - 3], [2, 3]);
    const p = await rt.softmax(x).dataF64();
    const logP = await rt.logSoftmax(x).dataF64();
    const expected = (row: number[]) => {
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      return row.map((v) => v - Math.log(z));
    };
    // Each row shifted by hand: [0, −1, −2e4] and [−2, 0, −5].
    const ref = [...expected([0, -1, -2e4]), ...expected([-2, 0, -5])];
    for (let i = 0; i < 6; i++) {
      expect(logP[i]).toBeCloseTo(ref[i], 10);
      expect(p[i]).toBeCloseTo(Math.exp(ref[i]), 12);
    }
    const lse = await rt.sum(rt.mul(rt.softmax(x), x), 1).dataF64();
    for (const v of lse) expect(Number.isFinite(v)).toBe(true);
  });

  it('errors name the op and the shape; the runtime stays usable', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    expect(() => rt.softmax(rt.zeros([2, 3]), 2)).toThrow(/softmax: axis 2 is out of range for shape \[2,3\]/);
    expect(() => rt.logSoftmax(rt.zeros([2, 3]), -3)).toThrow(/logSoftmax: axis -3 is out of range for shape \[2,3\]/);
    expect(Array.from(await rt.softmax(rt.tensor([0, 0], [2])).data())).toEqual([0.5, 0.5]);
  });
});

describe('softmaxCrossEntropy on N-D logits', () => {
  // Row losses by hand: log Σ exp(x) − x_label.
  const logits = [
    [2, 0, -1],
    [0, 0, 0],
    [1, 3, -2],
    [-1, 0.5, 4],
  ];
  const lse = (row: number[]) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  const labels = [
    [0, -100],
    [1, 2],
  ];
  const expectedLoss = [lse(logits[0]) - 2, 0, lse(logits[2]) - 3, lse(logits[3]) - 4];

  it("ignoreIndex −100 with 'none', 'sum' and 'mean' (over the positions not ignored)", async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor(logits.flat(), [2, 2, 3]);
    const none = rt.softmaxCrossEntropy(x, labels, { ignoreIndex: -100, reduction: 'none' });
    expect(none.shape).toEqual([2, 2]);
    const values = await none.dataF64();
    expectedLoss.forEach((v, i) => expect(values[i]).toBeCloseTo(v, 12));
    const total = expectedLoss.reduce((s, v) => s + v, 0);
    expect((await rt.softmaxCrossEntropy(x, labels, { ignoreIndex: -100, reduction: 'sum' }).dataF64())[0]).toBeCloseTo(
      total,
      12,
    );
    expect((await rt.softmaxCrossEntropy(x, labels, { ignoreIndex: -100 }).dataF64())[0]).toBeCloseTo(total / 3, 12);
    // The same labels as a tensor and as an Int32Array.
    const asTensor = rt.softmaxCrossEntropy(x, rt.tensor(labels.flat(), [2, 2]), { ignoreIndex: -100 });
    expect((await asTensor.dataF64())[0]).toBeCloseTo(total / 3, 12);
    const asInt32 = rt.softmaxCrossEntropy(x, Int32Array.from(labels.flat()), { ignoreIndex: -100 });
    expect((await asInt32.dataF64())[0]).toBeCloseTo(total / 3, 12);
  });

  it('an ignoreIndex that is a valid class drops those positions, as a tensor too', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor(logits.flat(), [4, 3]);
    const expected = (lse(logits[0]) - 2 + lse(logits[3]) - 4) / 2;
    expect((await rt.softmaxCrossEntropy(x, [0, 1, 1, 2], { ignoreIndex: 1 }).dataF64())[0]).toBeCloseTo(expected, 12);
    expect(
      (await rt.softmaxCrossEntropy(x, rt.tensor([0, 1, 1, 2], [4]), { ignoreIndex: 1 }).dataF64())[0],
    ).toBeCloseTo(expected, 12);
  });

  it('gradients: indices with ignored positions, each reduction, and one-hot labels', async () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await gradcheck(`sce ${reduction}`, [{ shape: [2, 2, 3], lo: -4, hi: 4 }], (rt, [x]) =>
        rt.softmaxCrossEntropy(x, labels, { ignoreIndex: -100, reduction }),
      );
    }
    await gradcheck('sce tensor indices', [{ shape: [2, 3, 4], lo: -4, hi: 4 }], (rt, [x]) =>
      rt.softmaxCrossEntropy(x, rt.tensor([0, 3, -100, 1, 2, -100], [2, 3]), { ignoreIndex: -100 }),
    );
    const oneHot = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0];
    await gradcheck('sce one-hot', [{ shape: [2, 2, 3], lo: -4, hi: 4 }], (rt, [x]) =>
      rt.softmaxCrossEntropy(x, rt.tensor(oneHot, [2, 2, 3])),
    );
  });

  it('is stable at ±1e4', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1e4, -1e4, 0, -1e4, 1e4, 1e4 - 1], [2, 3]);
    const values = await rt.softmaxCrossEntropy(x, [1, 2], { reduction: 'none' }).dataF64();
    expect(values[0]).toBeCloseTo(2e4, 6);
    expect(values[1]).toBeCloseTo(1 + Math.log(1 + Math.exp(-1)), 10);
  });

  it('errors name the op and the shapes; the runtime stays usable', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.zeros([2, 2, 3]);
    expect(() => rt.softmaxCrossEntropy(x, [0, 1, 2])).toThrow(
      /softmaxCrossEntropy: 3 class indices \[3\] for 4 positions \[2,2\] of logits \[2,2,3\]/,
    );
    expect(() =>
      rt.softmaxCrossEntropy(x, [
        [0, 1],
        [2, -100],
      ]),
    ).toThrow(/softmaxCrossEntropy: label 3 is -100; class indices must be integers in \[0, 3\) for logits \[2,2,3\]/);
    expect(() => rt.softmaxCrossEntropy(x, rt.zeros([2, 3]))).toThrow(
      /softmaxCrossEntropy: labels \[2,3\] are neither class indices \[2,2\] nor one-hot \[2,2,3\]/,
    );
    expect(() => rt.softmaxCrossEntropy(x, [0, 1, 2, 0], { reduction: 'avg' as 'mean' })).toThrow(
      /softmaxCrossEntropy: reduction must be/,
    );
    expect(() => rt.softmaxCrossEntropy(x, [0, 1, 2, 0], { ignoreIndex: 0.5 })).toThrow(
      /softmaxCrossEntropy: ignoreIndex must be an integer/,
    );
    expect((await rt.softmaxCrossEntropy(x, [0, 1, 2, 0]).dataF64())[0]).toBeCloseTo(Math.log(3), 12);
  });
});

describe('attention', () => {
  const q = { shape: [2, 2, 3, 4] };
  const kv = { shape: [2, 2, 5, 4] };
  it('gradients of q, k and v, causal (T < S)', () =>
    gradcheck('attention causal', [q, kv, kv], (rt, [qt, kt, vt]) => rt.attention(qt, kt, vt, { causal: true })));
  it('gradients with an additive mask broadcast over the heads, and a scale', () =>
    gradcheck('attention masked', [q, kv, kv, { shape: [2, 1, 3, 5] }], (rt, [qt, kt, vt, mask]) =>
      rt.attention(qt, kt, vt, { mask, scale: 0.7 }),
    ));

  it('causal hides key j from query i when j > i + (S − T): the first query of T = 2 over S = 3 sees keys 0 and 1', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const qt = rt.tensor([1, 0, 0, 1], [2, 2]);
    const kt = rt.tensor([1, 0, 0, 1, 1, 1], [3, 2]);
    const vt = rt.tensor([1, 10, 100], [3, 1]);
    const out = await rt.attention(qt, kt, vt, { causal: true, scale: 1 }).dataF64();
    // Query 0 = [1,0]: scores [1, 0] over keys 0, 1; query 1 = [0,1]: scores [0, 1, 1] over all three.
    expect(out[0]).toBeCloseTo((Math.E * 1 + 1 * 10) / (Math.E + 1), 12);
    expect(out[1]).toBeCloseTo((1 * 1 + Math.E * 10 + Math.E * 100) / (1 + 2 * Math.E), 12);
  });

  it('errors name the op and the shapes', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const [qt, kt, vt] = [rt.zeros([2, 3, 4]), rt.zeros([2, 5, 3]), rt.zeros([2, 5, 4])];
    expect(() => rt.attention(qt, kt, vt)).toThrow(
      /attention: head dimensions differ: q \[2,3,4\], k \[2,5,3\], v \[2,5,4\]: q has 4, k has 3/,
    );
    expect(() => rt.attention(qt, rt.zeros([2, 5, 4]), rt.zeros([2, 6, 4]))).toThrow(
      /attention: k and v hold different numbers of keys/,
    );
    expect(() => rt.attention(qt, rt.zeros([2, 5, 4]), vt, { mask: rt.zeros([4, 5]) })).toThrow(
      /attention: mask \[4,5\] does not broadcast to the scores \[2,3,5\]/,
    );
    expect(rt.attention(qt, rt.zeros([2, 5, 4]), vt).shape).toEqual([2, 3, 4]);
  });
});

describe('batched matmul errors', () => {
  it('name the op and the shapes', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    expect(() => rt.matmul(rt.zeros([2, 3, 4]), rt.zeros([3, 4, 5]))).toThrow(
      /matmul: batch dimensions do not broadcast: A \[2,3,4\] · B \[3,4,5\] \(batch dimension 0: 2 vs 3\)/,
    );
    expect(() => rt.matmul(rt.zeros([2, 3, 4]), rt.zeros([2, 5, 4]))).toThrow(
      /matmul: inner dimensions differ: A \[2,3,4\] · B \[2,5,4\]: 4 ≠ 5/,
    );
    expect(() => rt.matmul(rt.zeros([2, 4, 3]), rt.zeros([5, 3]), { transposeA: true, transposeB: true })).toThrow(
      /matmul: inner dimensions differ: Aᵀ \[2,4,3\] \(used as \[2,3,4\]\) · Bᵀ \[5,3\] \(used as \[3,5\]\): 4 ≠ 3/,
    );
    expect(rt.matmul(rt.zeros([2, 1, 3, 4]), rt.zeros([1, 5, 4, 2])).shape).toEqual([2, 5, 3, 2]);
  });
});
