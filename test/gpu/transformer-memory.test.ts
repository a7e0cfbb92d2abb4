// 1,000 compiled SGD steps of the two-layer causal transformer (vocab 27, context 32, d 64, 4 heads, batch 1,
// dropout 0.1): live memory and tensors stay flat, the pool does not grow, and no step allocates after warm-up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { CONTEXT, tinyTransformer, textBatch } from '../tiny-transformer.js';

const STEPS = 1000;
const WARM = 3;
const BATCH = 1;

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => rt?.destroy());

describe(`the transformer over ${STEPS} compiled training steps`, () => {
  it('keeps live bytes and tensors flat and allocates nothing per step', async () => {
    const model = tinyTransformer(rt, { dropout: 0.1, seed: 3 });
    const opt = rt.optim.sgd({ lr: 0.05, momentum: 0.9 });
    const lossAndGrads = rt.valueAndGrad((_params, ids: Tensor, targets: Tensor) => model.loss(ids, targets));
    const step = rt.compile(async (ids: Tensor, targets: Tensor) => {
      const { value, grads } = await lossAndGrads(model.params, ids, targets);
      opt.step(model.params, grads);
      return value;
    });
    const batches = [0, 1, 2, 3].map((i) => textBatch(BATCH, CONTEXT, 23 * i));
    let baseline = rt.memory();
    let baseStats = rt.stats();
    let started = 0;
    const losses: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      if (s === WARM) {
        baseline = rt.memory();
        baseStats = rt.stats();
        started = performance.now();
      }
      const { ids, targets } = batches[s % batches.length];
      losses.push(
        await rt.tidy(
          async () =>
            (await (await step(rt.tensor(ids, [BATCH, CONTEXT]), rt.tensor(targets, [BATCH, CONTEXT]))).data())[0],
        ),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const end = rt.memory();
    const endStats = rt.stats();
    console.log(
      `${STEPS - WARM} compiled steps in ${seconds.toFixed(1)} s (${((seconds * 1000) / (STEPS - WARM)).toFixed(2)} ms/step); ` +
        `loss ${losses[0].toFixed(3)} → ${losses[STEPS - 1].toFixed(3)}; live ${end.liveBytes} B in ${end.liveTensors} tensors, ` +
        `pooled ${end.pooledBytes} B (${baseline.pooledBytes} B after warm-up)`,
    );
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 4)));
    expect(end.liveTensors).toBe(baseline.liveTensors);
    expect(end.liveBytes).toBe(baseline.liveBytes);
    expect(end.pooledBytes).toBeLessThanOrEqual(baseline.pooledBytes);
    expect(end.peakBytes).toBe(baseline.peakBytes);
    expect(endStats.allocations - baseStats.allocations).toBe(0);
    expect(endStats.replays - baseStats.replays).toBe(STEPS - WARM);
    step.dispose();
    opt.dispose();
    model.dispose();
  }, 300_000); // about 30 s alone on SwiftShader; other test files and engineers share the two cores
});
