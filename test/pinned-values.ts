// Values worked out by hand or by plain float64 loops written here, not by the library's CPU reference: the losses,
// `mean`, rank 3 and 4 reductions, `rt.full` and the tensor method forms. The same cases run on the CPU backend
// (unit/pinned-values.test.ts) and on the GPU with poisoned outputs (gpu/pinned-values.test.ts). A shared formula such
// as mean's 1/count feeds both the CPU reference and the VJP, so only numbers from outside the library catch it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../src/index.js';
import { expectClose, f32, randomArray, read, rng } from './helpers.js';

const ULP = 2 ** -24;

/** atol + c·R·2⁻²⁴·scale: the float32 error of R accumulated terms; the CPU backend meets it with room to spare. */
function reductionBound(
  expected: ArrayLike<number>,
  terms: number,
  scale: ArrayLike<number> = expected,
  c = 8,
  atol = 1e-6,
): Float64Array {
  return Float64Array.from(expected, (_, i) => atol + c * Math.max(terms, 1) * ULP * Math.abs(scale[i]));
}

/** Row-major strides of a shape. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** Σ (and Σ|x|) over one axis by explicit multi-index loops: a different indexing from the library's outer/inner split. */
function sumAxis(
  x: ArrayLike<number>,
  shape: number[],
  axis: number,
): { sums: Float64Array; abs: Float64Array; shape: number[] } {
  const outShape = shape.filter((_, d) => d !== axis);
  const size = outShape.reduce((a, b) => a * b, 1);
  const sums = new Float64Array(size);
  const abs = new Float64Array(size);
  const st = strides(shape);
  const ost = strides(outShape);
  for (let flat = 0; flat < x.length; flat++) {
    let outIndex = 0;
    let od = 0;
    for (let d = 0; d < shape.length; d++) {
      const idx = Math.floor(flat / st[d]) % shape[d];
      if (d !== axis) outIndex += idx * ost[od++];
    }
    sums[outIndex] += x[flat];
    abs[outIndex] += Math.abs(x[flat]);
  }
  return { sums, abs, shape: outShape };
}

export function definePinnedValueTests(backend: string, makeRuntime: () => Promise<Runtime>): void {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await makeRuntime();
  });
  afterAll(() => rt?.destroy());

  const values = async (t: Tensor) => Array.from(await read(t));

  describe(`${backend}: mean against hand-computed values`, () => {
    it('mean of [[1,2,3],[4,5,6]] over axis 0, axis 1, axis −1 and all, and their gradients', async () => {
      const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
      expectClose(await values(rt.mean(x, 0)), [2.5, 3.5, 4.5], 1e-6, 'mean axis 0');
      expectClose(await values(rt.mean(x, 1)), [2, 5], 1e-6, 'mean axis 1');
      expectClose(await values(rt.mean(x, -1)), [2, 5], 1e-6, 'mean axis −1');
      expectClose(await values(rt.mean(x)), [3.5], 1e-6, 'mean');
      expect(rt.mean(x).shape).toEqual([]);
      expect(rt.mean(x, 0).shape).toEqual([3]);
      // d/dx of Σ mean(x, axis) is 1/(length of that axis) everywhere; of mean(x), 1/6.
      const [g0] = await rt.grad(rt.sum(rt.mean(x, 0)), [x]);
      expectClose(await values(g0), new Array(6).fill(1 / 2), 1e-7, 'grad mean axis 0');
      const [g1] = await rt.grad(rt.sum(rt.mean(x, 1)), [x]);
      expectClose(await values(g1), new Array(6).fill(1 / 3), 1e-7, 'grad mean axis 1');
      const [gAll] = await rt.grad(rt.mean(x), [x]);
      expectClose(await values(gAll), new Array(6).fill(1 / 6), 1e-7, 'grad mean');
    });

    it('mean of random ragged matrices against float64 loops, over each axis and all', async () => {
      const random = rng(404);
      for (const [m, n] of [
        [7, 13],
        [1, 65],
        [65, 1],
        [33, 17],
      ]) {
        const data = f32(randomArray(m * n, random, -2, 3));
        const x = rt.tensor(data, [m, n]);
        for (const axis of [0, 1]) {
          const { sums, abs } = sumAxis(data, [m, n], axis);
          const count = axis === 0 ? m : n;
          const expected = Array.from(sums, (s) => s / count);
          expectClose(
            await values(rt.mean(x, axis)),
            expected,
            reductionBound(
              expected,
              count,
              Array.from(abs, (a) => a / count),
            ),
            `mean axis ${axis} [${m},${n}]`,
          );
        }
        let total = 0;
        let totalAbs = 0;
        for (const v of data) {
          total += v;
          totalAbs += Math.abs(v);
        }
        expectClose(
          await values(rt.mean(x)),
          [total / (m * n)],
          reductionBound([0], m * n, [totalAbs / (m * n)]),
          `mean [${m},${n}]`,
        );
      }
    });
  });

  describe(`${backend}: losses against hand-computed values`, () => {
    it('mseLoss of [1,2] against [0,0] is 2.5, and its gradient is 2(p − t)/n', async () => {
      const p = rt.tensor([1, 2], [2], { requiresGrad: true });
      const loss = rt.mseLoss(p, rt.zeros([2]));
      expect(loss.shape).toEqual([]);
      expectClose(await values(loss), [2.5], 1e-6, 'mse');
      const [g] = await rt.grad(loss, [p]);
      expectClose(await values(g), [1, 2], 1e-6, 'grad mse');
    });

    it('mseLoss of a 2×2 pair is the mean of the four squared differences, 14.25/4', async () => {
      const p = rt.tensor([1, -2, 3, 0.5], [2, 2], { requiresGrad: true });
      const t = rt.tensor([0, 1, 1, 1], [2, 2]);
      const loss = rt.mseLoss(p, t);
      expectClose(await values(loss), [3.5625], 1e-6, 'mse');
      const [g] = await rt.grad(loss, [p]);
      // 2·(p − t)/4 = (1, −3, 2, −0.5)/2
      expectClose(await values(g), [0.5, -1.5, 1, -0.25], 1e-6, 'grad mse');
    });

    it('softmax cross-entropy of [[0, ln 2]] with label 1 is ln 1.5, with gradient (1/3, −1/3)', async () => {
      const x = rt.tensor([0, Math.log(2)], [1, 2], { requiresGrad: true });
      const loss = rt.softmaxCrossEntropy(x, [1]);
      expectClose(await values(loss), [Math.log(1.5)], 1e-6, 'loss');
      const [g] = await rt.grad(loss, [x]);
      expectClose(await values(g), [1 / 3, -1 / 3], 1e-6, 'grad');
    });

    it('softmax cross-entropy of uniform logits is ln n whatever the label', async () => {
      const loss = rt.softmaxCrossEntropy(rt.full([3, 5], 0.7), [0, 4, 2]);
      expectClose(await values(loss), [Math.log(5)], 1e-6, 'loss');
    });

    // Row widths on both sides of the kernel's 32-class switch, rows not a multiple of the workgroup.
    for (const [m, n] of [
      [5, 3],
      [3, 40],
      [70, 2],
    ]) {
      it(`softmax cross-entropy [${m},${n}]: class indices (array and tensor) and one-hot all equal the log-sum-exp formula`, async () => {
        const random = rng(m * 100 + n);
        const logits = f32(randomArray(m * n, random, -4, 4));
        const classes = Array.from({ length: m }, (_, i) => (i * 7 + 3) % n);
        // loss = mean over rows of (log Σⱼ exp xᵢⱼ − xᵢ,cᵢ); dL/dxᵢⱼ = (softmaxᵢⱼ − [j = cᵢ]) / m.
        let loss = 0;
        const grad = new Float64Array(m * n);
        for (let i = 0; i < m; i++) {
          let sumExp = 0;
          for (let j = 0; j < n; j++) sumExp += Math.exp(logits[i * n + j]);
          loss += Math.log(sumExp) - logits[i * n + classes[i]];
          for (let j = 0; j < n; j++)
            grad[i * n + j] = (Math.exp(logits[i * n + j]) / sumExp - (j === classes[i] ? 1 : 0)) / m;
        }
        loss /= m;
        const oneHot = new Float32Array(m * n);
        classes.forEach((c, i) => (oneHot[i * n + c] = 1));
        const x = rt.tensor(logits, [m, n], { requiresGrad: true });
        const labelForms: [string, () => Tensor | number[]][] = [
          ['array', () => classes],
          ['tensor of indices', () => rt.tensor(classes, [m])],
          ['one-hot', () => rt.tensor(oneHot, [m, n])],
        ];
        for (const [form, labels] of labelForms) {
          const l = rt.softmaxCrossEntropy(x, labels());
          // Each row's loss is log-sum-exp of n terms of size ≤ e⁸; the mean adds m of them.
          expectClose(await values(l), [loss], 64 * (n + m) * ULP * (Math.abs(loss) + 8), `${form}: loss`);
          const [g] = await rt.grad(l, [x]);
          expectClose(await values(g), grad, 1e-6 + (64 * n * ULP) / m, `${form}: gradient`);
        }
      });
    }
  });

  describe(`${backend}: rank 3 and 4 reductions against float64 loops`, () => {
    const SHAPES = [
      [2, 3, 5],
      [3, 1, 65],
      [1, 7, 1],
      [2, 3, 4, 5],
      [3, 1, 2, 33],
      // reduce > 4096 with 1 < inner < 64: the workgroup-per-output kernel with a strided inner axis.
      [2, 4100, 3],
    ];
    for (const shape of SHAPES) {
      it(`sum and mean of [${shape}] over each axis, and over all`, async () => {
        const size = shape.reduce((a, b) => a * b, 1);
        const random = rng(size);
        const data = f32(randomArray(size, random));
        const x = rt.tensor(data, shape, { requiresGrad: true });
        for (let axis = 0; axis < shape.length; axis++) {
          const { sums, abs, shape: outShape } = sumAxis(data, shape, axis);
          const s = rt.sum(x, axis);
          expect(s.shape).toEqual(outShape);
          expectClose(await values(s), sums, reductionBound(sums, shape[axis], abs), `sum axis ${axis}`);
          const means = Array.from(sums, (v) => v / shape[axis]);
          const m = rt.mean(x, axis);
          expect(m.shape).toEqual(outShape);
          expectClose(
            await values(m),
            means,
            reductionBound(
              means,
              shape[axis],
              Array.from(abs, (v) => v / shape[axis]),
            ),
            `mean axis ${axis}`,
          );
          // Each element feeds exactly one mean, with weight 1/(length of the axis).
          const [g] = await rt.grad(rt.sum(m), [x]);
          expectClose(await values(g), new Array(size).fill(1 / shape[axis]), 1e-7, `grad mean axis ${axis}`);
        }
        let total = 0;
        let totalAbs = 0;
        for (const v of data) {
          total += v;
          totalAbs += Math.abs(v);
        }
        expectClose(await values(rt.sum(x)), [total], reductionBound([0], size, [totalAbs]), 'sum');
        expectClose(await values(rt.mean(x)), [total / size], reductionBound([0], size, [totalAbs / size]), 'mean');
      });
    }
  });

  describe(`${backend}: full, zeros and ones`, () => {
    it('rt.full, zeros and ones fill every element, for ragged shapes', async () => {
      for (const shape of [[1], [65], [3, 5], [2, 3, 11], []]) {
        const size = shape.reduce((a, b) => a * b, 1);
        const t = rt.full(shape, 0.1);
        expect(t.shape).toEqual(shape);
        // The CPU backend keeps 0.1 in float64, the GPU rounds it to float32: either is within one rounding.
        expectClose(await values(t), new Array(size).fill(0.1), 0.1 * ULP, `full [${shape}]`);
        expect(await values(rt.full(shape, -3))).toEqual(new Array(size).fill(-3));
        expect(await values(rt.zeros(shape))).toEqual(new Array(size).fill(0));
        expect(await values(rt.ones(shape))).toEqual(new Array(size).fill(1));
      }
    });

    it('rt.full with requiresGrad is a parameter: its gradient flows and it can be trained', async () => {
      const w = rt.full([2, 3], 2, { requiresGrad: true });
      expect(w.requiresGrad).toBe(true);
      expect(await values(w)).toEqual([2, 2, 2, 2, 2, 2]);
      const [g] = await rt.grad(rt.sum(rt.square(w)), [w]);
      expect(await values(g)).toEqual([4, 4, 4, 4, 4, 4]);
      rt.optim.sgd({ lr: 0.25 }).step([w], [g]);
      expect(await values(w)).toEqual([1, 1, 1, 1, 1, 1]);
    });
  });

  describe(`${backend}: tensor method forms and .T`, () => {
    it('x.matmul(w).add(b).relu() equals the hand-computed product', async () => {
      const x = rt.tensor([1, 2, 3, 4], [2, 2]);
      const w = rt.tensor([1, -1, 0, 2, 1, -3], [2, 3]);
      const b = rt.tensor([0.5, -10, 1], [3]);
      // x·w = [[5, 1, −6], [11, 1, −12]]; + b = [[5.5, −9, −5], [11.5, −9, −11]]
      expect(await values(x.matmul(w))).toEqual([5, 1, -6, 11, 1, -12]);
      expect(await values(x.matmul(w).add(b).relu())).toEqual([5.5, 0, 0, 11.5, 0, 0]);
      // xᵀ·x through the transpose flag: [[1,3],[2,4]]·[[1,2],[3,4]] = [[10, 14], [14, 20]]
      expect(await values(x.matmul(x, { transposeA: true }))).toEqual([10, 14, 14, 20]);
    });

    it('.T and .transpose() swap the axes of a non-square matrix', async () => {
      const a = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(a.T.shape).toEqual([3, 2]);
      expect(await values(a.T)).toEqual([1, 4, 2, 5, 3, 6]);
      expect(await values(a.transpose())).toEqual([1, 4, 2, 5, 3, 6]);
      expect(await values(a.T.T)).toEqual([1, 2, 3, 4, 5, 6]);
      // (a·aᵀ) = [[14, 32], [32, 77]]
      expect(await values(a.matmul(a.T))).toEqual([14, 32, 32, 77]);
    });

    it('the elementwise and reduction methods give the hand-computed values', async () => {
      const a = rt.tensor([1, -2, 4, 0.5], [2, 2]);
      expect(await values(a.add(1))).toEqual([2, -1, 5, 1.5]);
      expect(await values(a.sub(1))).toEqual([0, -3, 3, -0.5]);
      expect(await values(a.mul(-2))).toEqual([-2, 4, -8, -1]);
      expect(await values(a.div(4))).toEqual([0.25, -0.5, 1, 0.125]);
      expect(await values(a.add(rt.tensor([10, 20], [2])))).toEqual([11, 18, 14, 20.5]);
      expect(await values(a.sub(a))).toEqual([0, 0, 0, 0]);
      expect(await values(a.mul(a))).toEqual([1, 4, 16, 0.25]);
      expect(await values(a.div(rt.tensor([2, 4], [2])))).toEqual([0.5, -0.5, 2, 0.125]);
      expect(await values(a.neg())).toEqual([-1, 2, -4, -0.5]);
      expect(await values(a.relu())).toEqual([1, 0, 4, 0.5]);
      expectClose(await values(a.tanh()), [1, -2, 4, 0.5].map(Math.tanh), 1e-6, 'tanh');
      expectClose(await values(a.exp()), [1, -2, 4, 0.5].map(Math.exp), relExp([1, -2, 4, 0.5].map(Math.exp)), 'exp');
      expectClose(
        await values(rt.tensor([1, 2, 4, 0.5], [2, 2]).log()),
        [0, Math.LN2, 2 * Math.LN2, -Math.LN2],
        1e-6,
        'log',
      );
      expect(await values(a.sum())).toEqual([3.5]);
      expect(await values(a.sum(0))).toEqual([5, -1.5]);
      expect(await values(a.sum(1))).toEqual([-1, 4.5]);
      expect(await values(a.mean())).toEqual([0.875]);
      expect(await values(a.mean(0))).toEqual([2.5, -0.75]);
      expect(await values(a.mean(1))).toEqual([-0.5, 2.25]);
    });

    it('method chains record a tape: gradients of a chained expression are the hand-computed ones', async () => {
      const x = rt.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
      const w = rt.tensor([1, -1, 0.5, 2], [2, 2], { requiresGrad: true });
      // L = Σ (x·wᵀ)ᵢⱼ = Σᵢ Σⱼ Σₖ xᵢₖ wⱼₖ: dL/dx = column sums of w, repeated per row; dL/dw = column sums of x.
      const loss = x.matmul(w.T).sum();
      const [gx, gw] = await rt.grad(loss, [x, w]);
      expect(gx.shape).toEqual([2, 2]);
      expect(gw.shape).toEqual([2, 2]);
      expect(await values(gx)).toEqual([1.5, 1, 1.5, 1]);
      expect(await values(gw)).toEqual([4, 6, 4, 6]);
    });
  });
}

function relExp(v: number[]): number[] {
  return v.map((e) => 1e-6 + 512 * ULP * e);
}
