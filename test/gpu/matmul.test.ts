import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import {
  absMatmul,
  cpuRuntime,
  dotBound,
  expectClose,
  f32,
  gpuRuntime,
  randomArray,
  read,
  rng,
  stored,
  TRANSPOSES,
} from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

// [M, N, K]: ragged sizes around the 64-wide tile, single rows and columns, K = 1.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 17, 3],
  [3, 1, 17],
  [17, 33, 1],
  [33, 65, 17],
  [65, 3, 65],
  [64, 64, 64],
  [130, 67, 33],
];

describe('matmul on the GPU against the float64 reference', () => {
  for (const [ta, tb] of TRANSPOSES) {
    for (const [m, n, k] of SHAPES) {
      it(`${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} M=${m} N=${n} K=${k}`, async () => {
        const random = rng(m * 1000 + n * 10 + k + (ta ? 7 : 0) + (tb ? 13 : 0));
        const aShape = stored(m, k, ta);
        const bShape = stored(k, n, tb);
        const a = f32(randomArray(m * k, random));
        const b = f32(randomArray(k * n, random));
        const options = { transposeA: ta, transposeB: tb };
        const out = await read(gpu.matmul(gpu.tensor(a, aShape), gpu.tensor(b, bShape), options));
        const ref = await read(cpu.matmul(cpu.tensor(a, aShape), cpu.tensor(b, bShape), options));
        expectClose(out, ref, dotBound(absMatmul(a, aShape, b, bShape, ta, tb), k), `matmul ${m}x${n}x${k}`);
      });
    }
  }
});

describe('the transposed-gradient identities', () => {
  // Z = X·W with X [M,K], W [K,N]; L = Σ Z ⊙ R, so G = ∂L/∂Z = R.
  const [m, k, n] = [33, 17, 65];
  const random = rng(42);
  const x = f32(randomArray(m * k, random));
  const w = f32(randomArray(k * n, random));
  const r = f32(randomArray(m * n, random));

  async function gradients(rt: Runtime, transposedParam: boolean) {
    const X = rt.tensor(x, [m, k], { requiresGrad: true });
    // The same parameter stored as V = Wᵀ [N,K], used as Z = X·Vᵀ.
    const wt = new Float32Array(n * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) wt[j * k + i] = w[i * n + j];
    const W = transposedParam
      ? rt.tensor(wt, [n, k], { requiresGrad: true })
      : rt.tensor(w, [k, n], { requiresGrad: true });
    const traced = await rt.trace(async () => {
      const z = rt.matmul(X, W, { transposeB: transposedParam });
      const loss = rt.sum(rt.mul(z, rt.tensor(r, [m, n])));
      return rt.grad(loss, [X, W]);
    });
    const [dX, dW] = traced.value;
    return { dX: await read(dX), dW: await read(dW), dispatches: traced.dispatches };
  }

  it('∂L/∂W = Xᵀ·G, ∂L/∂X = G·Wᵀ, and ∂L/∂Wᵀ = Gᵀ·X, each from one transposed kernel', async () => {
    const ref = await gradients(cpu, false);
    const plain = await gradients(gpu, false);
    const transposed = await gradients(gpu, true);

    const xShape = [m, k];
    const rShape = [m, n];
    // dW = Xᵀ·G reduces over M; dX = G·Wᵀ over N; dV = Gᵀ·X over M.
    expectClose(plain.dW, ref.dW, dotBound(absMatmul(x, xShape, r, rShape, true, false), m), '∂L/∂W');
    expectClose(plain.dX, ref.dX, dotBound(absMatmul(r, rShape, w, [k, n], false, true), n), '∂L/∂X');
    const refDV = new Float64Array(n * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) refDV[j * k + i] = ref.dW[i * n + j];
    expectClose(transposed.dW, refDV, dotBound(absMatmul(r, rShape, x, xShape, true, false), m), '∂L/∂Wᵀ = (Xᵀ·G)ᵀ');
    expectClose(
      transposed.dX,
      ref.dX,
      dotBound(absMatmul(r, rShape, w, [k, n], false, true), n),
      '∂L/∂X with Wᵀ stored',
    );

    // Kernel names are matmul_<variant>_<transposes>; the variant depends on the adapter, the suffix must not.
    const kernels = (d: typeof plain.dispatches) =>
      d.filter((x) => x.op === 'matmul').map((x) => x.kernel.replace(/^matmul_.*_(?=[nt]{2}$)/, 'matmul_'));
    // Forward, then the two gradient products with their operands read transposed in place.
    expect(kernels(plain.dispatches)).toEqual(['matmul_nn', 'matmul_nt', 'matmul_tn']);
    expect(kernels(transposed.dispatches)).toEqual(['matmul_nt', 'matmul_nn', 'matmul_tn']);
    for (const d of [...plain.dispatches, ...transposed.dispatches]) expect(d.op).not.toBe('transpose');
    const dv = transposed.dispatches.find((d) => d.op === 'matmul' && d.kernel.endsWith('_tn'))!;
    expect(dv.detail).toMatchObject({ transposeA: true, transposeB: false, M: n, N: k, K: m });
  });

  it('gradients through all four forward transposes match the reference', async () => {
    for (const [ta, tb] of TRANSPOSES) {
      const [mm, kk, nn] = [17, 3, 65];
      const rand = rng(ta ? (tb ? 1 : 2) : tb ? 3 : 4);
      const a = f32(randomArray(mm * kk, rand));
      const b = f32(randomArray(kk * nn, rand));
      const g = f32(randomArray(mm * nn, rand));
      const aShape = stored(mm, kk, ta);
      const bShape = stored(kk, nn, tb);
      const run = async (rt: Runtime) => {
        const A = rt.tensor(a, aShape, { requiresGrad: true });
        const B = rt.tensor(b, bShape, { requiresGrad: true });
        const loss = rt.sum(rt.mul(rt.matmul(A, B, { transposeA: ta, transposeB: tb }), rt.tensor(g, [mm, nn])));
        const [dA, dB] = await rt.grad(loss, [A, B]);
        return [await read(dA), await read(dB)];
      };
      const [gA, gB] = await run(gpu);
      const [rA, rB] = await run(cpu);
      expectClose(gA, rA, 1e-5 + 4 * nn * 2 ** -24 * 3, `dA ta=${ta} tb=${tb}`);
      expectClose(gB, rB, 1e-5 + 4 * mm * 2 ** -24 * 3, `dB ta=${ta} tb=${tb}`);
    }
  });
});
