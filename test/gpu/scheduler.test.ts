import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type SchedulerStats, type Tensor } from '../../src/index.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => rt?.destroy());

function delta(before: SchedulerStats, after: SchedulerStats): SchedulerStats {
  const d = { ...after };
  for (const k of Object.keys(before) as (keyof SchedulerStats)[]) d[k] -= before[k];
  return d;
}

function mlpStep(rt: Runtime) {
  const mlp = rt.nn.mlp([6, 8, 3], 'relu', { seed: 1 });
  const params = mlp.params();
  const opt = rt.optim.sgd({ lr: 0.1 });
  const body = async (x: Tensor, y: Tensor) => {
    const loss = rt.softmaxCrossEntropy(mlp.forward(x), y);
    opt.step(params, await rt.grad(loss, params));
    return loss;
  };
  const x = rt.tensor(
    Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)),
    [4, 6],
  );
  const y = rt.tensor([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0], [4, 3]);
  return { body, x, y, dispose: () => [mlp, x, y].forEach((t) => t.dispose()) };
}

describe('batched submission', () => {
  it('a whole training step (forward, backward, update) is one submission, eager or compiled', async () => {
    const { body, x, y, dispose } = mlpStep(rt);
    const compiled = rt.compile(body);
    for (const step of [body, compiled, compiled]) {
      const before = rt.stats();
      const loss = await step(x, y);
      expect(rt.stats().submissions).toBe(before.submissions);
      await rt.flush();
      const d = delta(before, rt.stats());
      expect(d.submissions).toBe(1);
      expect(d.dispatches).toBeGreaterThan(10);
      await loss.data(); // the read adds one more: the copy to its staging buffer
      expect(rt.stats().submissions - before.submissions).toBe(2);
      loss.dispose();
    }
    compiled.dispose();
    dispose();
  });

  it('reading the loss is the only submission of a step', async () => {
    const { body, x, y, dispose } = mlpStep(rt);
    const before = rt.stats();
    for (let i = 0; i < 5; i++) await rt.tidy(async () => (await body(x, y)).data());
    expect(rt.stats().submissions - before.submissions).toBe(5);
    dispose();
  });

  it('concurrent reads share one submission, each gets its own values', async () => {
    const tensors = Array.from({ length: 8 }, (_, i) => rt.scale(rt.tensor([i, i + 1, i + 2], [3]), 2));
    const before = rt.stats();
    const values = await Promise.all(tensors.map((t) => t.data()));
    expect(rt.stats().submissions - before.submissions).toBe(1);
    values.forEach((v, i) => expect(Array.from(v)).toEqual([2 * i, 2 * i + 2, 2 * i + 4]));
    // Reads of the same tensor, interleaved with new work, also come back right.
    const t = tensors[3];
    const [a, b, c] = await Promise.all([t.data(), rt.add(t, 1).data(), t.data()]);
    expect(Array.from(a)).toEqual([6, 8, 10]);
    expect(Array.from(b)).toEqual([7, 9, 11]);
    expect(Array.from(c)).toEqual([6, 8, 10]);
    tensors.forEach((x) => x.dispose());
  });

  it('submits by itself when a batch grows past its bound, and the results stay right', async () => {
    let x = rt.tensor([0], [1]);
    const before = rt.stats();
    const ops = 5000;
    rt.tidy(() => {
      for (let i = 0; i < ops; i++) x = rt.add(x, 1);
      return rt.keep(x);
    });
    expect(Array.from(await x.data())).toEqual([ops]);
    // The read made one; the bound (4096 commands, 10,000 with the uploaded constants) made the others.
    expect(rt.stats().submissions - before.submissions).toBeGreaterThanOrEqual(2);
    x.dispose();
  });

  it('warmup compiles pipelines without dispatching; the step that follows compiles none', async () => {
    const other = await createRuntime({ backend: 'webgpu' });
    const { body, x, y, dispose } = mlpStep(other);
    const before = other.stats();
    await other.warmup(() => body(x, y));
    const warmed = delta(before, other.stats());
    expect(warmed.pipelines).toBeGreaterThan(5);
    expect(warmed.dispatches).toBe(0);
    expect(warmed.submissions).toBe(0);
    const afterWarm = other.stats();
    await (await body(x, y)).data();
    expect(other.stats().pipelines).toBe(afterWarm.pipelines);
    const beforeDefault = other.stats();
    await other.warmup();
    await other.warmup([[5, 7, 3]]);
    const d = delta(beforeDefault, other.stats());
    expect(d.dispatches).toBe(0);
    expect(d.pipelines).toBeGreaterThan(0);
    dispose();
    other.destroy();
  });
});
