import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { f32, randomArray, rng } from '../helpers.js';

// 1,000 steps of a small training loop: live memory, live tensors and allocations must not move after warm-up.
const [BATCH, IN, HIDDEN, OUT] = [16, 10, 12, 4];
const STEPS = 1000;
const WARM = 3;

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => rt?.destroy());

function data(seed: number) {
  const random = rng(seed);
  const x = f32(randomArray(BATCH * IN, random));
  const y = new Float32Array(BATCH * OUT);
  for (let i = 0; i < BATCH; i++) y[i * OUT + (i % OUT)] = 1;
  return { x, y };
}

async function loop(compiled: boolean) {
  const mlp = rt.nn.mlp([IN, HIDDEN, OUT], 'tanh', { seed: 3 });
  const params = mlp.params();
  const opt = rt.optim.sgd({ lr: 0.05, momentum: 0.9 });
  const body = async (x: Tensor, y: Tensor) => {
    const loss = rt.softmaxCrossEntropy(mlp.forward(x), y);
    opt.step(params, await rt.grad(loss, params));
    return loss;
  };
  const compiledStep = compiled ? rt.compile(body) : null;
  const step = compiledStep ?? body;
  const inputs = [data(1), data(2)];
  let baseline = rt.memory();
  let baseStats = rt.stats();
  let first = 0;
  let last = 0;
  for (let s = 0; s < STEPS; s++) {
    if (s === WARM) {
      baseline = rt.memory();
      baseStats = rt.stats();
    }
    const { x, y } = inputs[s % 2];
    const loss = await rt.tidy(
      async () => (await (await step(rt.tensor(x, [BATCH, IN]), rt.tensor(y, [BATCH, OUT]))).data())[0],
    );
    if (s === 0) first = loss;
    last = loss;
  }
  const end = rt.memory();
  const endStats = rt.stats();
  compiledStep?.dispose();
  opt.dispose();
  mlp.dispose();
  return {
    baseline,
    end,
    allocations: endStats.allocations - baseStats.allocations,
    submissions: endStats.submissions - baseStats.submissions,
    first,
    last,
  };
}

describe(`memory over ${STEPS} training steps`, () => {
  for (const compiled of [false, true]) {
    it(`${compiled ? 'compiled' : 'eager'}: live bytes and tensors stay flat, no allocation after warm-up, one submission per step`, async () => {
      const r = await loop(compiled);
      expect(r.last).toBeLessThan(r.first);
      expect(r.end.liveTensors).toBe(r.baseline.liveTensors);
      expect(r.end.liveBytes).toBe(r.baseline.liveBytes);
      // The pool may give back what warm-up left and the loop never needs (TRIM_WINDOW), but never grows.
      expect(r.end.pooledBytes).toBeLessThanOrEqual(r.baseline.pooledBytes);
      expect(r.end.stepBytes).toBe(r.baseline.stepBytes);
      expect(r.end.peakBytes).toBe(r.baseline.peakBytes);
      expect(r.allocations).toBe(0);
      expect(r.submissions).toBe(STEPS - WARM);
    });
  }

  it('tidy and dispose return memory to the pool, and a disposed compiled step returns its buffers', async () => {
    const before = rt.memory();
    const t = rt.tensor(new Float32Array(1000).fill(1), [10, 100]);
    expect(rt.memory().liveBytes - before.liveBytes).toBe(4096); // 4,000 bytes in the 4 KiB size class
    expect(rt.memory().liveTensors - before.liveTensors).toBe(1);
    rt.tidy(() => {
      rt.relu(rt.add(t, 1));
    });
    expect(rt.memory().liveTensors - before.liveTensors).toBe(1);
    t.dispose();
    expect(rt.memory().liveBytes).toBe(before.liveBytes);
    expect(rt.memory().liveTensors).toBe(before.liveTensors);

    const w = rt.tensor([1, 2, 3, 4], [2, 2]);
    const step = rt.compile((x: Tensor) => rt.sum(rt.relu(rt.matmul(x, w))));
    (await step(rt.tensor([1, 1, 1, 1], [2, 2]))).dispose();
    expect(rt.memory().stepBytes).toBeGreaterThan(0);
    step.dispose();
    expect(rt.memory().stepBytes).toBe(before.stepBytes);
    w.dispose();
  });

  it('tensors of nearby sizes share pooled buffers (size classes): a smaller last batch allocates nothing', async () => {
    rt.tidy(() => {
      rt.relu(rt.zeros([100, 64]));
    });
    await rt.sync();
    const total = (m: ReturnType<Runtime['memory']>) => m.liveBytes + m.pooledBytes + m.stepBytes;
    const before = rt.memory();
    rt.tidy(() => {
      rt.relu(rt.zeros([97, 64]));
    });
    await rt.sync();
    // No new storage buffer: the pool holds exactly what it held (only the uniforms, 16 bytes each, are new).
    expect(total(rt.memory())).toBe(total(before));
    expect(rt.memory().peakBytes).toBe(before.peakBytes);
  });
});
