// A two-layer causal character transformer (vocab 27, context 32, d 64, 4 heads) on the GPU against the float64
// CPU reference from the same seed: SGD losses, and every parameter gradient within the K-scaled float32 bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import { cpuRuntime, expectClose, gpuRuntime, read } from '../helpers.js';
import { CONTEXT, D_MODEL, tinyTransformer, textBatch } from '../tiny-transformer.js';

const BATCH = 2;
const ULP = 2 ** -24;
// The longest reduction of any kernel in the model: the weight gradients sum over the B·T positions, the MLP's
// second product (and the backward pass through its first) over its 4·d hidden units.
const K = Math.max(BATCH * CONTEXT, 4 * D_MODEL);

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

/** SGD steps from the same seed (dropout masks included: the same hash on both backends); losses and first gradients. */
async function train(rt: Runtime, steps: number, dropout: number) {
  const model = tinyTransformer(rt, { dropout, seed: 5 });
  const opt = rt.optim.sgd({ lr: 0.1 });
  const losses: number[] = [];
  let firstGrads: Float64Array[] = [];
  for (let s = 0; s < steps; s++) {
    const { ids, targets } = textBatch(BATCH, CONTEXT, 11 * s);
    await rt.tidy(async () => {
      const loss = model.loss(rt.tensor(ids, [BATCH, CONTEXT]), rt.tensor(targets, [BATCH, CONTEXT]));
      const grads = await rt.grad(loss, model.params);
      losses.push((await read(loss))[0]);
      if (s === 0) firstGrads = await Promise.all(grads.map(read));
      opt.step(model.params, grads);
    });
  }
  const names = Object.keys(model.named);
  model.dispose();
  opt.dispose();
  return { losses, firstGrads, names };
}

describe('a two-layer causal transformer, GPU against the CPU reference', () => {
  it('the losses of SGD steps and the first step’s parameter gradients agree, with dropout 0.1 on both', async () => {
    const steps = 4;
    const g = await train(gpu, steps, 0.1);
    const r = await train(cpu, steps, 0.1);
    expect(r.losses[steps - 1]).toBeLessThan(r.losses[0]);
    // Each step's loss carries the float32 error of the forward pass and of every update before it.
    r.losses.forEach((loss, s) =>
      expectClose([g.losses[s]], [loss], 1e-6 + 4 * K * ULP * (s + 1) * Math.abs(loss), `loss of step ${s}`),
    );
    let worst = 0;
    r.firstGrads.forEach((ref, i) => {
      expect(ref.every(Number.isFinite), `reference ∂L/∂${r.names[i]} is finite`).toBe(true);
      const scale = Math.max(...Array.from(ref, Math.abs));
      expect(scale, `∂L/∂${r.names[i]} is not all zero`).toBeGreaterThan(0);
      const diff = Math.max(...Array.from(ref, (v, j) => Math.abs(g.firstGrads[i][j] - v)));
      worst = Math.max(worst, diff / (K * ULP * scale));
      expectClose(g.firstGrads[i], ref, 1e-7 + 8 * K * ULP * scale, `∂L/∂${r.names[i]}`);
    });
    console.log(`largest gradient error, in units of K·2⁻²⁴·max|∂L/∂θ| (K = ${K}): ${worst.toFixed(4)}`);
    console.log(`losses gpu ${g.losses.join(', ')}; cpu ${r.losses.join(', ')}`);
  });
});
