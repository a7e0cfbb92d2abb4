// 1,000 compiled SGD steps of the two-conv ConvNet: live memory and tensors stay flat, the pool does not grow, and
// no step allocates after warm-up; the loss falls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { imageBatch, tinyConvNet } from '../tiny-convnet.js';

const STEPS = 1000;
const WARM = 3;
const BATCH = 2;

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => rt?.destroy());

describe(`the ConvNet over ${STEPS} compiled training steps`, () => {
  it('keeps live bytes and tensors flat and allocates nothing per step', { timeout: 300_000 }, async () => {
    const model = tinyConvNet(rt, 3);
    const opt = rt.optim.sgd({ lr: 0.05, momentum: 0.9 });
    const lossAndGrads = rt.valueAndGrad((_params, x: Tensor, labels: Tensor) => model.loss(x, labels));
    const step = rt.compile(async (x: Tensor, labels: Tensor) => {
      const { value, grads } = await lossAndGrads(model.params, x, labels);
      opt.step(model.params, grads);
      return value;
    });
    const batches = [0, 1, 2, 3].map((i) => {
      const { images, labels } = imageBatch(BATCH, 50 + i);
      return { x: rt.tensor(images, [BATCH, 1, 28, 28]), y: rt.tensor(labels, [BATCH]) };
    });
    let baseline = rt.memory();
    let baseStats = rt.stats();
    const losses: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      if (s === WARM) {
        await rt.sync();
        baseline = rt.memory();
        baseStats = rt.stats();
      }
      const { x, y } = batches[s % batches.length];
      // Each step's loss is read, as a training loop that shows it does: its submission lets freed buffers go back
      // to the pool (unsubmitted steps would each hold their own until one is submitted).
      const loss = await step(x, y);
      losses.push((await loss.data())[0]);
      loss.dispose();
    }
    await rt.sync();
    const end = rt.memory();
    const stats = rt.stats();
    expect(end.liveBytes).toBe(baseline.liveBytes);
    expect(end.liveTensors).toBe(baseline.liveTensors);
    expect(end.peakBytes).toBe(baseline.peakBytes);
    expect(end.pooledBytes).toBeLessThanOrEqual(baseline.pooledBytes);
    expect(stats.allocations - baseStats.allocations).toBe(0);
    expect(stats.replays - baseStats.replays).toBe(STEPS - WARM);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.slice(-4).reduce((a, b) => a + b)).toBeLessThan(losses.slice(0, 4).reduce((a, b) => a + b));
    batches.forEach(({ x, y }) => (x.dispose(), y.dispose()));
    model.dispose();
  });
});
