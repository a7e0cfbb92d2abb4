// Attention's fused softmax on the GPU against the float64 reference, with poisoned outputs: scale and causal
// mask applied as the kernel reads the scores, forward and backward, ragged T and S (T < S, T = S, T > S with
// fully hidden rows that must be NaN); and the trace: no separate scale or mask pass in attention.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { attentionSoftmax } from '../../src/ops/softmax.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** y = attentionSoftmax(x) and dx for L = Σ y ⊙ r. */
async function run(rt: Runtime, shape: number[], causal: boolean, x: Float32Array, r: Float32Array) {
  const xt = rt.tensor(x, shape, { requiresGrad: true });
  const y = attentionSoftmax(xt, 0.3, causal);
  const [dx] = await rt.grad(rt.sum(rt.mul(y, rt.tensor(r, shape))), [xt]);
  return { y: await read(y), dx: await read(dx as Tensor) };
}

describe('attention softmax on the GPU', () => {
  const shapes = [
    [1, 1],
    [3, 17],
    [2, 17, 17],
    [2, 3, 33, 33],
    [65, 3],
    [1, 2, 5, 65],
  ];
  for (const shape of shapes) {
    for (const causal of [false, true]) {
      it(`${JSON.stringify(shape)} causal ${causal}: forward and backward`, async () => {
        const random = rng(size(shape));
        const x = f32(randomArray(size(shape), random, -4, 4));
        const r = f32(randomArray(size(shape), random));
        const got = await run(gpu, shape, causal, x, r);
        const want = await run(cpu, shape, causal, x, r);
        const [t, s] = shape.slice(-2);
        expect(Array.from(got.y, Number.isNaN)).toEqual(Array.from(want.y, Number.isNaN));
        const finite = (v: Float64Array) => v.filter((_, i) => !Number.isNaN(want.y[i]));
        // A softmax of S terms: exp's few ulps, a sum of S, and a dot of S in the gradient.
        const bound = 1e-6 + 16 * s * 2 ** -24;
        expectClose(finite(got.y), finite(want.y), bound, 'y');
        expectClose(finite(got.dx), finite(want.dx), 4 * bound, 'dx');
        // T > S hides every key from the first T − S queries; all other rows are finite.
        const hiddenRows = causal ? Math.max(0, t - s) : 0;
        expect(got.y.filter(Number.isNaN).length).toBe((size(shape) / (t * s)) * hiddenRows * s);
      });
    }
  }

  it('attention dispatches no scale or mask pass: Q·Kᵀ goes straight into the fused softmax', async () => {
    const shape = [2, 2, 5, 4];
    const random = rng(5);
    const [q, k, v] = [0, 1, 2].map(() =>
      gpu.tensor(f32(randomArray(size(shape), random)), shape, { requiresGrad: true }),
    );
    const traced = await gpu.trace(() => gpu.grad(gpu.sum(gpu.attention(q, k, v, { causal: true })), [q, k, v]));
    const ops = traced.dispatches.map((d) => d.op).filter((op) => op !== 'poison');
    expect(ops).not.toContain('scale');
    expect(ops).not.toContain('add');
    expect(traced.dispatches.filter((d) => d.kernel === 'softmax_causal')).toHaveLength(1);
    expect(traced.dispatches.filter((d) => d.kernel === 'softmax_grad')).toHaveLength(1);
  });
});
