// A compiled step cycled through 200 batch sizes: it keeps at most maxRecordings recordings (least recently used
// out first), and the buffer pool gives idle size classes back, so pooled memory returns to the working set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { f32, randomArray, rng } from '../helpers.js';
import { TRIM_WINDOW } from '../../src/backend/webgpu/buffers.js';

const [IN, HIDDEN, OUT] = [6, 8, 3];
const SHAPES = 200;
const MAX_RECORDINGS = 4;

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => rt?.destroy());

function batch(rows: number) {
  const y = new Float32Array(rows * OUT);
  for (let i = 0; i < rows; i++) y[i * OUT + (i % OUT)] = 1;
  return { x: f32(randomArray(rows * IN, rng(rows))), y };
}

describe('compiled steps over many shapes', () => {
  it(`cycling ${SHAPES} batch sizes keeps ≤ ${MAX_RECORDINGS} recordings and pooled bytes near the working set`, async () => {
    const mlp = rt.nn.mlp([IN, HIDDEN, OUT], 'tanh', { seed: 5 });
    const params = mlp.params();
    const opt = rt.optim.sgd({ lr: 0.01 });
    const step = rt.compile(
      async (x: Tensor, y: Tensor) => {
        const loss = rt.softmaxCrossEntropy(mlp.forward(x), y);
        opt.step(params, await rt.grad(loss, params));
        return loss;
      },
      { maxRecordings: MAX_RECORDINGS },
    );
    const run = async (rows: number) => {
      const { x, y } = batch(rows);
      await rt.tidy(async () => (await step(rt.tensor(x, [rows, IN]), rt.tensor(y, [rows, OUT]))).data());
    };

    // The working set: the largest batch, steady.
    for (let i = 0; i < 40; i++) await run(SHAPES);
    const steady = rt.memory();
    const recordingsBefore = step.recordings;

    let mostPooled = 0;
    for (let rows = 1; rows <= SHAPES; rows++) {
      await run(rows);
      expect(step.kept).toBeLessThanOrEqual(MAX_RECORDINGS);
      mostPooled = Math.max(mostPooled, rt.memory().pooledBytes);
    }
    expect(step.recordings - recordingsBefore).toBe(SHAPES - 1 + 1); // 1…199 are new; 200 was evicted meanwhile

    // Least recently used out: the four latest shapes replay without recording again.
    const recorded = step.recordings;
    for (let rows = SHAPES - MAX_RECORDINGS + 1; rows <= SHAPES; rows++) await run(rows);
    expect(step.recordings).toBe(recorded);

    // Back on one shape, the pool gives back what the sweep left within two trimming windows (a step here is at
    // least one submission).
    for (let i = 0; i < 2 * TRIM_WINDOW + 2; i++) await run(SHAPES);
    const after = rt.memory();
    console.log(
      `pooled bytes: steady ${steady.pooledBytes}, most during the sweep ${mostPooled}, after ${after.pooledBytes}; ` +
        `bytes held by recordings: steady ${steady.stepBytes} (one), after ${after.stepBytes} (${step.kept})`,
    );
    // What stays is the kept recordings (each at most the largest shape's) and a pool near one step's worth.
    expect(after.stepBytes).toBeLessThanOrEqual(steady.stepBytes * MAX_RECORDINGS);
    expect(after.pooledBytes).toBeLessThanOrEqual(steady.pooledBytes * 1.25 + 4096);
    // During the sweep the pool holds at most what two windows of steps freed (each step's at most the largest
    // shape's), however many shapes went by.
    expect(mostPooled).toBeLessThanOrEqual(2 * TRIM_WINDOW * (steady.stepBytes + steady.pooledBytes));
    mlp.dispose();
    step.dispose();
  });

  it('a steady compiled loop still allocates nothing per step', async () => {
    const mlp = rt.nn.mlp([IN, HIDDEN, OUT], 'tanh', { seed: 6 });
    const params = mlp.params();
    const opt = rt.optim.sgd({ lr: 0.01 });
    const step = rt.compile(async (x: Tensor, y: Tensor) => {
      const loss = rt.softmaxCrossEntropy(mlp.forward(x), y);
      opt.step(params, await rt.grad(loss, params));
      return loss;
    });
    const { x, y } = batch(16);
    const run = () => rt.tidy(async () => (await step(rt.tensor(x, [16, IN]), rt.tensor(y, [16, OUT]))).data());
    for (let i = 0; i < 5; i++) await run();
    const before = rt.stats().allocations;
    for (let i = 0; i < 100; i++) await run();
    expect(rt.stats().allocations).toBe(before);
  });

  it('maxRecordings must be a positive integer', () => {
    expect(() => rt.compile(async (x: Tensor) => x, { maxRecordings: 0 })).toThrow(
      /compile: maxRecordings must be a positive integer, got 0/,
    );
  });
});
