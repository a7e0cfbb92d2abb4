import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.js';

// The CPU reference updates, against the formulas written out here once more in float64.
describe('optimizer updates on the CPU reference', () => {
  const p0 = [0.5, -1.5, 2];
  const gradsPerStep = [
    [0.1, -0.2, 0.3],
    [-0.4, 0.5, 0.05],
    [0.2, 0.2, -0.7],
  ];

  it('sgd with momentum and weight decay, in place', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const p = rt.tensor(p0, [3], { requiresGrad: true });
    const opt = rt.optim.sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const expected = [...p0];
    const u = [0, 0, 0];
    const storage = p.storage;
    for (const g of gradsPerStep) {
      opt.step([p], [rt.tensor(g, [3])]);
      for (let i = 0; i < 3; i++) {
        u[i] = 0.9 * u[i] + g[i] + 0.01 * expected[i];
        expected[i] -= 0.1 * u[i];
      }
    }
    expect(p.storage).toBe(storage);
    expect(Array.from(await p.dataF64())).toEqual(expected);
    expect(Array.from(await opt.stateOf(p)[0].dataF64())).toEqual(u);
  });

  it('plain sgd keeps no state', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const p = rt.tensor(p0, [3]);
    const opt = rt.optim.sgd({ lr: 0.5 });
    opt.step([p], [rt.tensor(gradsPerStep[0], [3])]);
    expect(Array.from(await p.dataF64())).toEqual(p0.map((v, i) => v - 0.5 * gradsPerStep[0][i]));
    expect(opt.stateOf(p)).toHaveLength(0);
  });

  for (const weightDecay of [0, 0.1]) {
    it(`adam${weightDecay ? 'w (decoupled decay)' : ''} with bias correction`, async () => {
      const rt = await createRuntime({ backend: 'cpu' });
      const p = rt.tensor(p0, [3]);
      const [b1, b2, eps, lr] = [0.8, 0.99, 1e-6, 0.05];
      const opt = rt.optim.adam({ lr, betas: [b1, b2], eps, weightDecay });
      const expected = [...p0];
      const m = [0, 0, 0];
      const v = [0, 0, 0];
      gradsPerStep.forEach((g, step) => {
        opt.step([p], [rt.tensor(g, [3])]);
        const t = step + 1;
        for (let i = 0; i < 3; i++) {
          m[i] = b1 * m[i] + (1 - b1) * g[i];
          v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
          const update = m[i] / (1 - b1 ** t) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
          expected[i] = expected[i] * (1 - lr * weightDecay) - lr * update;
        }
      });
      const got = await p.dataF64();
      expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 14));
      expect(opt.steps).toBe(3);
    });
  }

  it('rejects mismatched arguments and bad hyperparameters', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const p = rt.tensor(p0, [3]);
    const opt = rt.optim.adam();
    expect(() => opt.step([p], [])).toThrow(/adam.step: 1 parameters but 0 gradients/);
    expect(() => opt.step([p], [rt.tensor([1, 2], [2])])).toThrow(/parameter 0 \[3\] has a gradient of shape \[2\]/);
    expect(() => rt.optim.sgd({ lr: -1 })).toThrow(/sgd: lr must be a positive number/);
    expect(() => rt.optim.adam({ betas: [1, 0.9] })).toThrow(/betas\[0\] must be in \[0, 1\)/);
  });

  it('trains a small model: the loss falls', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const model = rt.nn.mlp([2, 8, 2], 'tanh');
    const opt = rt.optim.adam({ lr: 0.05 });
    const x = rt.tensor([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
    const y = [0, 1, 1, 0];
    const vg = rt.valueAndGrad(() => rt.softmaxCrossEntropy(model.forward(x), y));
    const losses: number[] = [];
    for (let step = 0; step < 150; step++) {
      const { value, grads } = await vg(model.params());
      opt.step(model.params(), grads);
      losses.push((await value.data())[0]);
      [value, ...grads].forEach((t) => t.dispose());
    }
    expect(losses[149]).toBeLessThan(0.1 * losses[0]);
    expect(await rt.accuracy(model.forward(x), y)).toBe(1);
  });
});
