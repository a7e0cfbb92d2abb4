// The README's training example, as written there, on the CPU reference.
import { expect, it } from 'vitest';
import { createRuntime, data, type Tensor } from '../../src/index.js';

it('the README training example converges', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const spiral = data.spiral();
  const x = rt.tensor(spiral.x, [spiral.size, 2]);
  const y = rt.tensor(spiral.y, [spiral.size]);
  const model = rt.nn.mlp([2, 16, 16, 3], 'tanh');
  const opt = rt.optim.adam({ lr: 0.03 });
  const lossAndGrads = rt.valueAndGrad((_params, x: Tensor, y: Tensor) => rt.softmaxCrossEntropy(model.forward(x), y));
  const step = rt.compile(async (x: Tensor, y: Tensor) => {
    const { value, grads } = await lossAndGrads(model.params(), x, y);
    opt.step(model.params(), grads);
    return value;
  });
  for (let i = 0; i < 150; i++) (await step(x, y)).dispose();
  expect(await rt.accuracy(model.forward(x), y)).toBeGreaterThan(0.95);
  const weights = await rt.saveSafetensors(model.namedParams());
  expect(Object.keys(rt.loadSafetensors(weights))).toContain('layers.0.weight');
});
