// The two-conv ConvNet on the GPU against the float64 CPU reference from one seed: SGD losses, and every parameter
// gradient within the K-scaled float32 bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import { cpuRuntime, expectClose, gpuRuntime, read } from '../helpers.js';
import { imageBatch, tinyConvNet } from '../tiny-convnet.js';

const BATCH = 3;
const ULP = 2 ** -24;
// The longest reduction of any kernel: the head's product over 784 features, and the weight gradients of the first
// convolution over N·28·28 positions.
const K = Math.max(16 * 7 * 7, BATCH * 28 * 28);

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

async function train(rt: Runtime, steps: number) {
  const model = tinyConvNet(rt, 7);
  const opt = rt.optim.sgd({ lr: 0.05 });
  const losses: number[] = [];
  let firstGrads: Float64Array[] = [];
  for (let s = 0; s < steps; s++) {
    const { images, labels } = imageBatch(BATCH, 100 + s);
    await rt.tidy(async () => {
      const loss = model.loss(rt.tensor(images, [BATCH, 1, 28, 28]), rt.tensor(labels, [BATCH]));
      const grads = await rt.grad(loss, model.params);
      losses.push((await read(loss))[0]);
      if (s === 0) firstGrads = await Promise.all(grads.map(read));
      opt.step(model.params, grads);
    });
  }
  const names = Object.keys(model.named);
  model.dispose();
  return { losses, firstGrads, names };
}

describe('the two-conv ConvNet, GPU against the CPU reference', () => {
  it('the losses of SGD steps and the first step’s parameter gradients agree', async () => {
    const steps = 3;
    const g = await train(gpu, steps);
    const r = await train(cpu, steps);
    r.losses.forEach((loss, s) =>
      expectClose([g.losses[s]], [loss], 1e-6 + 4 * K * ULP * (s + 1) * Math.abs(loss), `loss of step ${s}`),
    );
    expect(r.names).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'head.weight', 'head.bias']);
    r.firstGrads.forEach((ref, i) => {
      expect(ref.every(Number.isFinite), `reference ∂L/∂${r.names[i]} is finite`).toBe(true);
      const scale = Math.max(...Array.from(ref, Math.abs));
      expect(scale, `∂L/∂${r.names[i]} is not all zero`).toBeGreaterThan(0);
      expectClose(g.firstGrads[i], ref, 1e-7 + 8 * K * ULP * scale, `∂L/∂${r.names[i]}`);
    });
  });
});
