// Batched matmul (rank ≥ 2, NumPy-broadcast batch dimensions) on each blocked kernel against the float64 reference,
// and the fold of a batch into M (forward) and K (weight gradient), read off the dispatch trace.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MatmulPlan, Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, dotBound, expectClose, f32, gpuRuntime, randomArray, read, rng, TRANSPOSES } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterEach(() => {
  if (gpu) gpu.matmulPlan = null;
});
afterAll(() => gpu?.destroy());

const PLANS: MatmulPlan[] = [
  { variant: 'direct', splits: 1, workgroup: [4, 4] },
  { variant: 'direct', splits: 1, workgroup: [4, 4], wide: true },
  { variant: 'register', splits: 1, workgroup: [4, 4], block: [16, 8] },
  { variant: 'register', splits: 1, workgroup: [4, 4], block: [8, 8] },
  { variant: 'register', splits: 1, workgroup: [4, 4], block: [8, 4] },
  { variant: 'tile64', splits: 1, tileK: 16 },
  { variant: 'tile128', splits: 1, tileK: 8 },
];

// [batch of A, batch of B]: the same batch, batch 1 on either side, rank 3 against rank 4, broadcasting both
// ways in one product, and a 2-D operand on either side.
const BATCHES: [number[], number[]][] = [
  [[3], [3]],
  [[1], [3]],
  [[3], [1]],
  [[3], [2, 3]],
  [
    [2, 1],
    [1, 3],
  ],
  [[], [3]],
  [[2, 3], []],
];

// [M, N, K]: ragged (scalar reads) and multiples of 4 (vec4 reads, so every batch offset is a whole vec4).
const SHAPES: [number, number, number][] = [
  [3, 17, 5],
  [4, 8, 12],
];

const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
const storedShape = (batch: number[], rows: number, cols: number, t: boolean) => [
  ...batch,
  ...(t ? [cols, rows] : [rows, cols]),
];
const label = (ba: number[], bb: number[], ta: boolean, tb: boolean) =>
  `[${ba}]${ta ? 'Aᵀ' : 'A'} · [${bb}]${tb ? 'Bᵀ' : 'B'}`;

/** |op(A)|·|op(B)| on the reference, broadcast like the product: the scale of each element's rounding error. */
async function magnitude(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], options: object) {
  const abs = (v: Float32Array) => v.map(Math.abs);
  return read(cpu.matmul(cpu.tensor(abs(a), aShape), cpu.tensor(abs(b), bShape), options));
}

describe('batched matmul on each blocked kernel, every broadcast and transpose', () => {
  for (const plan of PLANS) {
    for (const [ta, tb] of TRANSPOSES) {
      it(`${plan.variant}${plan.wide ? ' wide' : ''}${plan.block ? ` ${plan.block.join('x')}` : ''} ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`, async () => {
        for (const [batchA, batchB] of BATCHES) {
          for (const [m, n, k] of SHAPES) {
            const random = rng(m * 100 + n + k + size(batchA) * 7 + size(batchB) * 11);
            const aShape = storedShape(batchA, m, k, ta);
            const bShape = storedShape(batchB, k, n, tb);
            const a = f32(randomArray(size(aShape), random));
            const b = f32(randomArray(size(bShape), random));
            const options = { transposeA: ta, transposeB: tb };
            gpu.matmulPlan = plan;
            const traced = await gpu.trace(() => gpu.matmul(gpu.tensor(a, aShape), gpu.tensor(b, bShape), options));
            const out = await read(traced.value);
            gpu.matmulPlan = null;
            const refTensor = cpu.matmul(cpu.tensor(a, aShape), cpu.tensor(b, bShape), options);
            expect(traced.value.shape).toEqual(refTensor.shape);
            const name = `${plan.variant} ${label(batchA, batchB, ta, tb)} ${m}x${n}x${k}`;
            expectClose(out, await read(refTensor), dotBound(await magnitude(a, aShape, b, bShape, options), k), name);
            const matmuls = traced.dispatches.filter((d) => d.op === 'matmul');
            expect(
              matmuls.map((d) => d.kernel),
              name,
            ).toEqual([`matmul_${plan.variant}_${ta ? 't' : 'n'}${tb ? 't' : 'n'}`]);
            expect(matmuls[0].detail, name).toMatchObject({ transposeA: ta, transposeB: tb });
          }
        }
      });
    }
  }
});

describe('batched matmul gradients', () => {
  // L = Σ Z ⊙ R: each gradient against the reference, a broadcast batch dimension summed back.
  async function gradients(
    rt: Runtime,
    a: Float32Array,
    aShape: number[],
    b: Float32Array,
    bShape: number[],
    r: Float32Array,
    options: object,
  ) {
    const A = rt.tensor(a, aShape, { requiresGrad: true });
    const B = rt.tensor(b, bShape, { requiresGrad: true });
    const traced = await rt.trace(async () => {
      const z = rt.matmul(A, B, options);
      return rt.grad(rt.sum(rt.mul(z, rt.tensor(r, z.shape))), [A, B]);
    });
    const [dA, dB] = traced.value as Tensor[];
    return { dA: await read(dA), dB: await read(dB), dispatches: traced.dispatches, shapes: [dA.shape, dB.shape] };
  }

  for (const [batchA, batchB] of BATCHES) {
    it(`${label(batchA, batchB, false, false)}, every transpose`, async () => {
      for (const [ta, tb] of TRANSPOSES) {
        const [m, n, k] = [5, 3, 4];
        const random = rng(size(batchA) * 3 + size(batchB) + (ta ? 50 : 0) + (tb ? 90 : 0));
        const aShape = storedShape(batchA, m, k, ta);
        const bShape = storedShape(batchB, k, n, tb);
        const a = f32(randomArray(size(aShape), random));
        const b = f32(randomArray(size(bShape), random));
        const outShape = cpu.matmul(cpu.tensor(a, aShape), cpu.tensor(b, bShape), {
          transposeA: ta,
          transposeB: tb,
        }).shape;
        const r = f32(randomArray(size([...outShape]), random));
        const options = { transposeA: ta, transposeB: tb };
        const got = await gradients(gpu, a, aShape, b, bShape, r, options);
        const ref = await gradients(cpu, a, aShape, b, bShape, r, options);
        const scale = await gradients(cpu, a.map(Math.abs), aShape, b.map(Math.abs), bShape, r.map(Math.abs), options);
        const name = label(batchA, batchB, ta, tb);
        expect(got.shapes, name).toEqual([aShape, bShape]);
        // Each element sums over N (dA) or M (dB), and over the broadcast batch.
        const reach = Math.max(m, n) * Math.max(size(batchA), size(batchB));
        expectClose(got.dA, ref.dA, dotBound(scale.dA, reach), `${name} dA`);
        expectClose(got.dB, ref.dB, dotBound(scale.dB, reach), `${name} dB`);
        for (const d of got.dispatches) expect(d.op, name).not.toMatch(/transpose|permute|copy/);
      }
    });
  }
});

describe('a batch over a 2-D weight folds into M', () => {
  for (const transposeW of [false, true]) {
    it(`[B,T,C]·W${transposeW ? 'ᵀ' : ''}: one product forward, one tn product with K = B·T for the weight`, async () => {
      const [batch, tokens, c, d] = [3, 5, 4, 6];
      const random = rng(transposeW ? 8 : 9);
      const x = f32(randomArray(batch * tokens * c, random));
      const w = f32(randomArray(c * d, random));
      const r = f32(randomArray(batch * tokens * d, random));
      const wShape = transposeW ? [d, c] : [c, d];
      const run = async (rt: Runtime) => {
        const X = rt.tensor(x, [batch, tokens, c], { requiresGrad: true });
        const W = rt.tensor(w, wShape, { requiresGrad: true });
        const forward = await rt.trace(() => rt.matmul(X, W, { transposeB: transposeW }));
        const z = forward.value;
        const loss = rt.sum(rt.mul(z, rt.tensor(r, [batch, tokens, d])));
        const backward = await rt.trace(() => rt.grad(loss, [X, W]));
        const [dX, dW] = backward.value;
        return {
          z: await read(z),
          shape: z.shape,
          dX: await read(dX),
          dW: await read(dW),
          forward: forward.dispatches,
          backward: backward.dispatches,
        };
      };
      const got = await run(gpu);
      const ref = await run(cpu);
      expect(got.shape).toEqual([batch, tokens, d]);
      expectClose(got.z, ref.z, 1e-6 + 4 * c * 2 ** -24 * c, 'Z');
      expectClose(got.dX, ref.dX, 1e-6 + 4 * d * 2 ** -24 * d, 'dX');
      expectClose(got.dW, ref.dW, 1e-6 + 4 * batch * tokens * 2 ** -24 * batch * tokens, 'dW');

      const forward = got.forward.filter((f) => f.op === 'matmul');
      expect(forward).toHaveLength(1);
      expect(forward[0].detail).toMatchObject({ M: batch * tokens, N: d, K: c, transposeB: transposeW });
      expect(forward[0].detail.batch).toBeUndefined();
      const products = got.backward.filter((f) => f.op === 'matmul');
      // dX = G·Wᵀ (or G·W), folded into M; dW = Xᵀ·G (or dWᵀ = Gᵀ·X), folded into K.
      expect(products).toHaveLength(2);
      expect(products[0].detail).toMatchObject({
        M: batch * tokens,
        N: c,
        K: d,
        transposeA: false,
        transposeB: !transposeW,
      });
      expect(products[1].kernel).toMatch(/_tn$/);
      expect(products[1].detail).toMatchObject({
        M: transposeW ? d : c,
        N: transposeW ? c : d,
        K: batch * tokens,
        transposeA: true,
        transposeB: false,
      });
      for (const p of products) expect(p.detail.batch).toBeUndefined();
      expect(got.backward.filter((f) => f.op === 'sum')).toEqual([]);
    });
  }
});

describe('GEMV and split-K fall back to a batched blocked kernel', () => {
  const plans: (MatmulPlan | null)[] = [
    null,
    { variant: 'gemv', splits: 1 },
    { variant: 'direct', splits: 3, workgroup: [4, 4] },
    { variant: 'tile64', splits: 4, tileK: 16 },
  ];
  for (const plan of plans) {
    it(`${plan ? `forced ${plan.variant} with ${plan.splits} splits` : 'the default choice'}: single rows, single columns and long K`, async () => {
      for (const [m, n, k] of [
        [1, 17, 5],
        [6, 1, 9],
        [3, 5, 300],
      ] as const) {
        const random = rng(m + n + k);
        const aShape = [3, m, k];
        const bShape = [3, k, n];
        const a = f32(randomArray(size(aShape), random));
        const b = f32(randomArray(size(bShape), random));
        gpu.matmulPlan = plan;
        const traced = await gpu.trace(() => gpu.matmul(gpu.tensor(a, aShape), gpu.tensor(b, bShape)));
        const out = await read(traced.value);
        gpu.matmulPlan = null;
        const ref = await read(cpu.matmul(cpu.tensor(a, aShape), cpu.tensor(b, bShape)));
        expectClose(out, ref, dotBound(await magnitude(a, aShape, b, bShape, {}), k), `${m}x${n}x${k}`);
        const matmuls = traced.dispatches.filter((d) => d.op === 'matmul');
        expect(matmuls).toHaveLength(1);
        expect(matmuls[0].kernel).toMatch(/^matmul_(direct|register|tile64|tile128)_nn$/);
        expect(matmuls[0].detail).toMatchObject({ batch: 3, splits: 1 });
      }
    });
  }
});
