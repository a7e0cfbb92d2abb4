// layerNorm, rmsNorm and dropout on the GPU against the float64 CPU reference, with poisoned outputs: forward and
// every gradient, ragged shapes, long rows offset far from 0, and dropout masks equal bit for bit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { cpuRuntime, dotBound, expectClose, f32, gpuRuntime, randomArray, read, relBound, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

const ULP = 2 ** -24;
type Kind = 'layerNorm' | 'rmsNorm';

/** Per-row μ and r = 1/√(σ² + eps) of float32 values, in float64. */
function rowStats(x: Float32Array, cols: number, kind: Kind, eps: number) {
  const rows = x.length / cols;
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    if (kind === 'layerNorm') for (let j = 0; j < cols; j++) s += x[r * cols + j];
    mean[r] = kind === 'layerNorm' ? s / cols : 0;
    let q = 0;
    for (let j = 0; j < cols; j++) q += (x[r * cols + j] - mean[r]) ** 2;
    rstd[r] = 1 / Math.sqrt(q / cols + eps);
  }
  return { mean, rstd };
}

interface NormCase {
  kind: Kind;
  shape: number[];
  affine: boolean;
  /** x = offset + spread·u, u uniform in [−1, 1). */
  offset?: number;
  spread?: number;
}

/**
 * Forward and backward of one normalisation on both backends. The bounds follow the float32 error of each result:
 * sums over the row (K = C) or over the rows (for dγ, dβ) grow with their length; rounding x − μ costs an ulp of
 * |x| + |μ| scaled by r, whatever the length.
 */
async function checkNorm({ kind, shape, affine, offset = 0, spread = 1 }: NormCase) {
  const cols = shape[shape.length - 1];
  const rows = shape.reduce((a, b) => a * b, 1) / cols;
  const random = rng(cols * 31 + rows);
  const xs = f32(randomArray(rows * cols, random).map((u) => offset + spread * u));
  const gammaValues = f32(randomArray(cols, random, 0.5, 1.5));
  const betaValues = f32(randomArray(cols, random));
  const gValues = f32(randomArray(rows * cols, random));
  const eps = kind === 'layerNorm' ? 1e-5 : 1e-6;

  const run = async (rt: Runtime) => {
    const x = rt.tensor(xs, shape, { requiresGrad: true });
    const gamma = affine ? rt.tensor(gammaValues, [cols], { requiresGrad: true }) : null;
    const beta = affine && kind === 'layerNorm' ? rt.tensor(betaValues, [cols], { requiresGrad: true }) : null;
    const y = kind === 'layerNorm' ? rt.layerNorm(x, gamma, beta) : rt.rmsNorm(x, gamma);
    const params = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
    const grads = await rt.grad(rt.sum(rt.mul(y, rt.tensor(gValues, shape))), params);
    return [await read(y), ...(await Promise.all(grads.map(read)))];
  };
  const [gpuOut, cpuOut] = [await run(gpu), await run(cpu)];

  const { mean, rstd } = rowStats(xs, cols, kind, eps);
  const gam = (j: number) => (affine ? Math.abs(gammaValues[j]) : 1);
  const forward = new Float64Array(rows * cols);
  const dx = new Float64Array(rows * cols);
  const dGamma = new Float64Array(cols);
  const dBeta = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    let meanH = 0;
    let meanHX = 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const xhat = Math.abs(xs[i] - mean[r]) * rstd[r];
      meanH += Math.abs(gValues[i]) * gam(j);
      meanHX += Math.abs(gValues[i]) * gam(j) * xhat;
    }
    meanH /= cols;
    meanHX /= cols;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const xhat = Math.abs(xs[i] - mean[r]) * rstd[r];
      const rounding = (Math.abs(xs[i]) + Math.abs(mean[r])) * rstd[r];
      forward[i] = 16 * ULP * (cols * (xhat + 1) * gam(j) + rounding * gam(j) + Math.abs(betaValues[j]));
      const h = Math.abs(gValues[i]) * gam(j);
      dx[i] = 16 * ULP * rstd[r] * (cols * (h + meanH + xhat * meanHX) + rounding * meanHX);
      dGamma[j] += 16 * ULP * Math.abs(gValues[i]) * (rows * (xhat + 1) + rounding);
      dBeta[j] += Math.abs(gValues[i]);
    }
  }
  const label = `${kind} ${JSON.stringify(shape)}${affine ? ' with γ' : ''}${offset ? ` offset ${offset}` : ''}`;
  const atol = (b: Float64Array) => b.map((v) => v + 1e-5);
  expectClose(gpuOut[0], cpuOut[0], atol(forward), `${label}: y`);
  expectClose(gpuOut[1], cpuOut[1], atol(dx), `${label}: dx`);
  if (affine) expectClose(gpuOut[2], cpuOut[2], atol(dGamma), `${label}: dγ`);
  if (affine && kind === 'layerNorm') expectClose(gpuOut[3], cpuOut[3], dotBound(dBeta, rows), `${label}: dβ`);
}

const SIZES = [1, 3, 17, 33, 65];

describe('layerNorm and rmsNorm, GPU vs CPU', () => {
  for (const kind of ['layerNorm', 'rmsNorm'] as const) {
    for (const [m, n] of SIZES.map((m, i) => [m, SIZES[(i + 2) % SIZES.length]])) {
      it(`${kind} [${m},${n}] with γ${kind === 'layerNorm' ? ', β' : ''}`, () =>
        checkNorm({ kind, shape: [m, n], affine: true }));
    }
    it(`${kind} [2,3,65] (3-D, long rows) without γ`, () => checkNorm({ kind, shape: [2, 3, 65], affine: false }));
    // Rows whose length is a multiple of 4 run as vec4s, the transformer's d 64 among them.
    for (const shape of [
      [17, 64],
      [65, 4],
      [3, 12],
      [2, 5, 8],
    ]) {
      it(`${kind} ${JSON.stringify(shape)} (vec4 rows) with and without γ`, async () => {
        await checkNorm({ kind, shape, affine: true });
        await checkNorm({ kind, shape, affine: false });
      });
    }
    it(`${kind} [65,1] (rows of one)`, () => checkNorm({ kind, shape: [65, 1], affine: true }));
    it(`${kind} [2,4097] (a workgroup per ragged long row)`, () => checkNorm({ kind, shape: [2, 4097], affine: true }));
    it(`${kind} [3,4096] offset 1e3, spread 1: numerically sound statistics`, () =>
      checkNorm({ kind, shape: [3, 4096], affine: true, offset: 1e3, spread: Math.sqrt(3) }));
  }
  it('layerNorm [3,17] offset 1e3, short rows (one invocation per row)', () =>
    checkNorm({ kind: 'layerNorm', shape: [3, 17], affine: true, offset: 1e3 }));
  it('layerNorm [3,64] offset 1e3, short vec4 rows', () =>
    checkNorm({ kind: 'layerNorm', shape: [3, 64], affine: true, offset: 1e3 }));
});

describe('kernels and errors on the GPU', () => {
  it('a few long rows share a workgroup per row, others run one invocation per row; statistics are saved only for a tape', async () => {
    // On a software adapter (as here) only a few rows past 1024 take the workgroup path; on GPUs, rows past 64.
    const long = gpu.info.software ? 1025 : 65;
    for (const [rows, cols, by] of [
      [3, 64, '_by_row'],
      [3, long, ''],
    ] as const) {
      const values = f32(randomArray(rows * cols, rng(cols)));
      const x = gpu.tensor(values, [rows, cols], { requiresGrad: true });
      const gamma = gpu.tensor(f32(randomArray(cols, rng(1))), [cols], { requiresGrad: true });
      const { dispatches } = await gpu.trace(() => gpu.grad(gpu.sum(gpu.layerNorm(x, gamma)), [x, gamma]));
      const norms = dispatches.filter((d) => d.kernel.includes('norm'));
      // Rows of 64 floats are read as vec4s, the ragged long rows (1025 or 65) float by float.
      expect(norms.map((d) => d.detail.perInvocation)).toEqual(norms.map(() => (cols % 4 === 0 ? 4 : 1)));
      const names = norms.map((d) => d.kernel);
      expect(names).toEqual([
        `layer_norm_forward_saving${by}`,
        `layer_norm_backward${by}`,
        'layer_norm_scaled_normalized',
      ]);
      const plain = await gpu.trace(() => gpu.layerNorm(gpu.tensor(values, [rows, cols])));
      expect(plain.dispatches.map((d) => d.kernel).filter((k) => k.includes('norm'))).toEqual([
        `layer_norm_forward${by}`,
      ]);
    }
  });

  it('a compiled step with layerNorm and rmsNorm gradients replays bit for bit as the eager path', async () => {
    const [rows, cols] = [5, 70];
    const gamma = gpu.tensor(f32(randomArray(cols, rng(8), 0.5, 1.5)), [cols], { requiresGrad: true });
    const beta = gpu.tensor(f32(randomArray(cols, rng(9))), [cols], { requiresGrad: true });
    const body = async (x: Tensor) => {
      const y = gpu.rmsNorm(gpu.layerNorm(x, gamma, beta), gamma);
      return gpu.grad(gpu.sum(gpu.mul(y, y)), [x, gamma, beta]);
    };
    const step = gpu.compile(body);
    for (let i = 0; i < 3; i++) {
      const values = f32(randomArray(rows * cols, rng(20 + i), -3, 3));
      const eager = await Promise.all((await body(gpu.tensor(values, [rows, cols], { requiresGrad: true }))).map(read));
      const compiled = await Promise.all(
        (await step(gpu.tensor(values, [rows, cols], { requiresGrad: true }))).map(read),
      );
      compiled.forEach((c, k) => expect(Array.from(c), `replay ${i}, gradient ${k}`).toEqual(Array.from(eager[k])));
    }
    expect(step.recordings).toBe(1);
    step.dispose();
  });

  it('bad shapes throw before anything is recorded, and the runtime stays usable', async () => {
    expect(() => gpu.layerNorm(gpu.zeros([2, 3]), gpu.ones([2]))).toThrow(
      /layerNorm: gamma \[2\] must be \[3\], the last axis of x \[2,3\]/,
    );
    expect(() => gpu.dropout(gpu.zeros([4]), 1.5)).toThrow(/dropout: p must be in \[0, 1\), got 1.5 for x \[4\]/);
    const expected = [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)];
    expectClose(
      await read(gpu.rmsNorm(gpu.tensor([3, 4], [1, 2]), null, { eps: 0 })),
      expected,
      relBound(expected, 16),
      'rmsNorm after the errors',
    );
  });
});

describe('dropout on the GPU', () => {
  const ones = (rt: Runtime, n: number) => rt.ones([n]);
  const N = 65 * 33 + 7;

  it('a fixed seed gives the CPU mask bit for bit, scaled as the reference', async () => {
    for (const [p, seed] of [
      [0.5, 1],
      [0.1, 123456789],
      [0.9, 2 ** 32 - 1],
    ]) {
      const g = await read(gpu.dropout(ones(gpu, N), p, { seed }));
      const c = await read(cpu.dropout(ones(cpu, N), p, { seed }));
      expect(
        Array.from(g, (v) => v !== 0),
        `p ${p} seed ${seed}`,
      ).toEqual(Array.from(c, (v) => v !== 0));
      expectClose(g, c, relBound(c, 2), `p ${p} seed ${seed}: values`);
    }
  });

  it('the runtime generator: same seed, same masks on both backends; each call fresh', async () => {
    const g = await createRuntime({ backend: 'webgpu', seed: 99 });
    const c = await createRuntime({ backend: 'cpu', seed: 99 });
    try {
      const masks = async (rt: Runtime) => {
        const out: boolean[][] = [];
        for (let i = 0; i < 3; i++) out.push(Array.from(await read(rt.dropout(ones(rt, 200), 0.5)), (v) => v !== 0));
        return out;
      };
      const [gm, cm] = [await masks(g), await masks(c)];
      expect(gm).toEqual(cm);
      expect(gm[0]).not.toEqual(gm[1]);
      expect(gm[1]).not.toEqual(gm[2]);
    } finally {
      g.destroy();
    }
  });

  it('gradients on ragged shapes multiply by the same mask', async () => {
    for (const [m, n] of [
      [1, 1],
      [3, 17],
      [33, 65],
    ]) {
      const xs = f32(randomArray(m * n, rng(m + n)));
      const gs = f32(randomArray(m * n, rng(m * n)));
      const run = async (rt: Runtime) => {
        const x = rt.tensor(xs, [m, n], { requiresGrad: true });
        const y = rt.dropout(x, 0.3, { seed: m * n });
        const [dx] = await rt.grad(rt.sum(rt.mul(y, rt.tensor(gs, [m, n]))), [x]);
        return [await read(y), await read(dx)];
      };
      const [[gy, gdx], [cy, cdx]] = [await run(gpu), await run(cpu)];
      expectClose(gy, cy, relBound(cy, 2), `[${m},${n}] y`);
      expectClose(gdx, cdx, relBound(cdx, 2), `[${m},${n}] dx`);
    }
  });

  it('a compiled step draws a fresh mask on each replay, following the CPU sequence', async () => {
    const g = await createRuntime({ backend: 'webgpu', seed: 7 });
    const c = await createRuntime({ backend: 'cpu', seed: 7 });
    try {
      const masks = async (rt: Runtime) => {
        const w = rt.tensor(f32(randomArray(40, rng(3))), [40], { requiresGrad: true });
        const step = rt.compile(async (x: Tensor) => {
          const [dw] = await rt.grad(rt.sum(rt.dropout(rt.mul(x, w), 0.5)), [w]);
          return dw;
        });
        const out: boolean[][] = [];
        for (let i = 0; i < 4; i++) out.push(Array.from(await read(await step(rt.ones([40]))), (v) => v !== 0));
        return { out, recordings: step.recordings };
      };
      const [gm, cm] = [await masks(g), await masks(c)];
      expect(gm.recordings).toBe(1);
      expect(gm.out).toEqual(cm.out);
      expect(new Set(gm.out.map((m) => m.join())).size).toBe(4);
    } finally {
      g.destroy();
    }
  });

  it('p = 0 and training: false dispatch nothing', async () => {
    const x = gpu.tensor([1, 2, 3]);
    const { dispatches } = await gpu.trace(() => [gpu.dropout(x, 0), gpu.dropout(x, 0.5, { training: false })]);
    expect(dispatches).toEqual([]);
  });
});
