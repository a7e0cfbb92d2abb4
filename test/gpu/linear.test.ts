// rt.linear: act(x·w + b) with the bias and activation in the matmul kernel's epilogue, forward and backward.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import type { MatmulPlan } from '../../src/index.js';
import type { Activation } from '../../src/ops/linear.js';
import { absMatmul, cpuRuntime, dotBound, expectClose, f32, gpuRuntime, randomArray, read, rng } from '../helpers.js';

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

const ACTIVATIONS: Activation[] = ['identity', 'relu', 'tanh', 'gelu'];

// Every kernel that carries the epilogue: blocked, tiled, split-K (in its summing pass) and GEMV (batch 1).
const PLANS: MatmulPlan[] = [
  { variant: 'direct', splits: 1, workgroup: [8, 8] },
  { variant: 'tile64', splits: 1, tileK: 16 },
  { variant: 'tile128', splits: 1, tileK: 8 },
  { variant: 'direct', splits: 3, workgroup: [8, 8] },
  // The software defaults: 16×8 register tiles from M = 128, 8×8 below.
  { variant: 'register', splits: 1, workgroup: [4, 4], block: [16, 8] },
  { variant: 'register', splits: 1, workgroup: [4, 4], block: [8, 8] },
];

interface Case {
  batch: number;
  inputs: number;
  outputs: number;
  bias: boolean;
  transposeW: boolean;
}

function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}

/** y = act(x·w + b) and its three gradients under L = Σ y ⊙ r, on one runtime. */
async function run(rt: Runtime, c: Case, activation: Activation, seed: number) {
  const random = rng(seed);
  const x = f32(randomArray(c.batch * c.inputs, random));
  const w = f32(randomArray(c.inputs * c.outputs, random));
  const b = f32(randomArray(c.outputs, random));
  const r = f32(randomArray(c.batch * c.outputs, random));
  const X = rt.tensor(x, [c.batch, c.inputs], { requiresGrad: true });
  const W = c.transposeW
    ? rt.tensor(transposed(w, c.inputs, c.outputs), [c.outputs, c.inputs], { requiresGrad: true })
    : rt.tensor(w, [c.inputs, c.outputs], { requiresGrad: true });
  const B = c.bias ? rt.tensor(b, [c.outputs], { requiresGrad: true }) : null;
  const traced = await rt.trace(() => rt.linear(X, W, B, activation, { transposeW: c.transposeW }));
  const y = traced.value;
  const loss = rt.sum(rt.mul(y, rt.tensor(r, [c.batch, c.outputs])));
  const grads = await rt.grad(loss, B ? [X, W, B] : [X, W]);
  return {
    inputs: { x, w, b, r },
    dispatches: traced.dispatches,
    y: await read(y),
    dX: await read(grads[0]),
    dW: await read(grads[1]),
    dB: B ? await read(grads[2]) : null,
  };
}

async function compare(c: Case, activation: Activation, seed: number) {
  const g = await run(gpu, c, activation, seed);
  const ref = await run(cpu, c, activation, seed);
  const { x, w, r } = g.inputs;
  const label = `${activation} ${c.batch}x${c.inputs}→${c.outputs}${c.bias ? ' +b' : ''}${c.transposeW ? ' wᵀ' : ''}`;
  // The forward sums K = inputs products plus the bias; act and its derivative are 1-Lipschitz-ish near these values,
  // so the matmul bound (with the bias in the magnitudes) carries over, plus a few ulps of the activation itself.
  const zMagnitude = absMatmul(x, [c.batch, c.inputs], w, [c.inputs, c.outputs]).map(
    (v, i) => v + (c.bias ? Math.abs(g.inputs.b[i % c.outputs]) : 0),
  );
  const yBound = dotBound(zMagnitude, c.inputs + 1).map((v, i) => v + 8 * 2 ** -24 * Math.abs(ref.y[i]) + 1e-6);
  expectClose(g.y, ref.y, yBound, `${label}: y`);
  // dZ = r ⊙ act'(z) with |act'| ≤ 1.13 (gelu); dX = dZ·Wᵀ reduces over outputs, dW = Xᵀ·dZ over the batch.
  const absR = Float32Array.from(r, (v) => Math.abs(v) * 1.13);
  const dxBound = dotBound(absMatmul(absR, [c.batch, c.outputs], w, [c.inputs, c.outputs], false, true), c.outputs, 16);
  const dwBound = dotBound(absMatmul(x, [c.batch, c.inputs], absR, [c.batch, c.outputs], true, false), c.batch, 16);
  expectClose(g.dX, ref.dX, dxBound, `${label}: dX`);
  // Both gradients of w are in its stored layout ([out, in] with transposeW); the bound was computed [in, out].
  expectClose(
    g.dW,
    ref.dW,
    c.transposeW ? transposed(Float32Array.from(dwBound), c.inputs, c.outputs) : dwBound,
    `${label}: dW`,
  );
  if (ref.dB) {
    const dbBound = Float64Array.from({ length: c.outputs }, () => 1e-5 + 16 * c.batch * 2 ** -24 * 1.13);
    expectClose(g.dB!, ref.dB, dbBound, `${label}: db`);
  }
  return g;
}

describe('linear on the GPU against the float64 reference', () => {
  for (const activation of ACTIVATIONS) {
    it(`${activation}: forward and the gradients of x, w and b`, async () => {
      const g = await compare({ batch: 33, inputs: 20, outputs: 18, bias: true, transposeW: false }, activation, 1);
      // One kernel computes act(x·w + b): no separate bias or activation pass in the forward.
      expect(g.dispatches.filter((d) => d.op !== 'poison').map((d) => d.op)).toEqual(['linear']);
      await compare({ batch: 7, inputs: 13, outputs: 5, bias: false, transposeW: false }, activation, 2);
      await compare({ batch: 12, inputs: 16, outputs: 24, bias: true, transposeW: true }, activation, 3);
      await compare({ batch: 1, inputs: 16, outputs: 9, bias: true, transposeW: false }, activation, 4);
    });
  }

  for (const plan of PLANS) {
    it(`the epilogue in ${plan.variant}${plan.splits > 1 ? ` split${plan.splits}` : ''}${plan.tileK ? ` k${plan.tileK}` : ''}${plan.block ? ` ${plan.block.join('x')}` : ''}, activations`, async () => {
      gpu.matmulPlan = plan;
      // Each activation is its own pipeline, and SwiftShader compiles tiled and register ones slowly; the epilogue's
      // code is shared (shaders/matmul_blocked.wgsl for direct and register), so two suffice past the direct kernel.
      for (const activation of plan.variant === 'direct' ? ACTIVATIONS : (['relu', 'gelu'] as Activation[])) {
        await compare({ batch: 21, inputs: 40, outputs: 36, bias: true, transposeW: false }, activation, 5);
      }
    });
  }

  it('the epilogue in gemv: one row (batch 1) and one column (a single output), every activation', async () => {
    gpu.matmulPlan = { variant: 'gemv', splits: 1 };
    for (const activation of ACTIVATIONS) {
      const g = await compare({ batch: 1, inputs: 40, outputs: 36, bias: true, transposeW: false }, activation, 6);
      expect(g.dispatches.find((d) => d.op === 'linear')!.kernel).toBe('matmul_gemv_nn');
      await compare({ batch: 9, inputs: 24, outputs: 1, bias: true, transposeW: true }, activation, 7);
    }
  });

  it('rejects a bias of the wrong length and an unknown activation', () => {
    const x = gpu.tensor([1, 2, 3, 4], [2, 2]);
    const w = gpu.tensor([1, 0, 0, 1], [2, 2]);
    expect(() => gpu.linear(x, w, gpu.tensor([1, 2, 3], [3]))).toThrow(/bias \[3\] must be \[2\]/);
    expect(() => gpu.linear(x, w, null, 'swish' as Activation)).toThrow(/activation must be one of/);
  });
});
