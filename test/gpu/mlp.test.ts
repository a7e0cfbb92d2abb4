// A two-layer MLP's gradients on the GPU against the float64 reference, and along a random direction (JAX-style).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

const [batch, inputs, hidden, classes] = [33, 17, 65, 3];
const random = rng(2024);
const data = {
  x: f32(randomArray(batch * inputs, random)),
  w1: f32(randomArray(inputs * hidden, random, -0.5, 0.5)),
  b1: f32(randomArray(hidden, random, -0.1, 0.1)),
  w2: f32(randomArray(hidden * classes, random, -0.5, 0.5)),
  b2: f32(randomArray(classes, random, -0.1, 0.1)),
  labels: Array.from({ length: batch }, (_, i) => (i * 7) % classes),
};

function params(rt: Runtime, shift?: { direction: Float64Array[]; t: number }) {
  const list = [data.w1, data.b1, data.w2, data.b2].map((v, i) =>
    shift ? Float64Array.from(v, (x, j) => x + shift.t * shift.direction[i][j]) : v,
  );
  const shapes = [[inputs, hidden], [hidden], [hidden, classes], [classes]];
  return list.map((v, i) => rt.tensor(v, shapes[i], { requiresGrad: true }));
}

function loss(rt: Runtime, [w1, b1, w2, b2]: Tensor[], activation: 'relu' | 'tanh'): Tensor {
  const x = rt.tensor(data.x, [batch, inputs]);
  const h = rt[activation](rt.add(rt.matmul(x, w1), b1));
  return rt.softmaxCrossEntropy(rt.add(rt.matmul(h, w2), b2), data.labels);
}

describe('a two-layer MLP', () => {
  for (const activation of ['relu', 'tanh'] as const) {
    it(`${activation}: every parameter gradient matches the reference`, async () => {
      const run = async (rt: Runtime) => {
        const ps = params(rt);
        const l = loss(rt, ps, activation);
        const grads = await rt.grad(l, ps);
        return { loss: await read(l), grads: await Promise.all(grads.map(read)) };
      };
      const g = await run(gpu);
      const r = await run(cpu);
      expectClose(g.loss, r.loss, 1e-5 * Math.max(1, Math.abs(r.loss[0])), 'loss');
      const names = ['W1', 'b1', 'W2', 'b2'];
      g.grads.forEach((grad, i) => {
        // A single ±Inf in the reference would make max|ref| — and so every element's bound — infinite.
        expect(r.grads[i].every(Number.isFinite), `reference ∂L/∂${names[i]} is finite`).toBe(true);
        const scale = Math.max(...Array.from(r.grads[i], Math.abs));
        // Weight gradients sum over the batch; the hidden layer's gradient also passes through a K = hidden product.
        const reductionLength = batch * (i < 2 ? hidden : 1);
        expectClose(grad, r.grads[i], 1e-7 + 8 * reductionLength * 2 ** -24 * Math.max(scale, 1e-3), `∂L/∂${names[i]}`);
      });
    });
  }

  it('the GPU gradient predicts the change of the loss along a random direction', async () => {
    const dirRandom = rng(77);
    const shapes = [inputs * hidden, hidden, hidden * classes, classes];
    const direction = shapes.map((n) => randomArray(n, dirRandom));
    const ps = params(gpu);
    const grads = await gpu.grad(loss(gpu, ps, 'tanh'), ps);
    let predicted = 0;
    for (let i = 0; i < grads.length; i++) {
      const g = await read(grads[i]);
      g.forEach((v, j) => (predicted += v * direction[i][j]));
    }
    // The reference's loss at θ ± t·d, in float64.
    const t = 1e-4;
    const at = async (sign: number) => (await read(loss(cpu, params(cpu, { direction, t: sign * t }), 'tanh')))[0];
    const measured = ((await at(1)) - (await at(-1))) / (2 * t);
    expect(Math.abs(predicted - measured)).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(measured)));
  });
});
