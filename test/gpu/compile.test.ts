import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { f32, randomArray, rng } from '../helpers.js';

// A small classifier: 12 → 16 → 5, batch 8, SGD; labels one-hot so that they can be step inputs.
const [BATCH, IN, HIDDEN, OUT] = [8, 12, 16, 5];

function batch(seed: number, rows = BATCH) {
  const random = rng(seed);
  const x = f32(randomArray(rows * IN, random));
  const y = new Float32Array(rows * OUT);
  for (let i = 0; i < rows; i++) y[i * OUT + Math.floor(random() * OUT)] = 1;
  return { x, y, rows };
}

/** A model built from the same seed on any runtime, and one training step that updates it in place. */
type Update = 'optimizer' | 'adam' | 'assign';

function model(rt: Runtime, update: Update) {
  const mlp = rt.nn.mlp([IN, HIDDEN, OUT], 'relu', { seed: 7 });
  const params = mlp.params();
  const opt = update === 'adam' ? rt.optim.adam({ lr: 0.01 }) : rt.optim.sgd({ lr: 0.1, momentum: 0.5 });
  const step = async (x: Tensor, y: Tensor) => {
    const loss = rt.softmaxCrossEntropy(mlp.forward(x), y);
    const grads = await rt.grad(loss, params);
    if (update !== 'assign') opt.step(params, grads);
    else params.forEach((p, i) => rt.assign(p, rt.sub(p, rt.scale(grads[i], 0.1))));
    return { loss };
  };
  return { mlp, params, step };
}

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => rt?.destroy());

async function train(runtime: Runtime, compiled: boolean, update: Update, steps: number, rows = BATCH) {
  const m = model(runtime, update);
  const step = compiled ? runtime.compile(m.step) : m.step;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { x, y } = batch(100 + s, rows);
    const result = await runtime.tidy(async () => {
      const out = await step(runtime.tensor(x, [rows, IN]), runtime.tensor(y, [rows, OUT]));
      return (await out.loss.data())[0];
    });
    losses.push(result);
  }
  const params = await Promise.all(m.params.map((p) => p.data()));
  m.mlp.dispose();
  return { losses, params, step };
}

describe('rt.compile', () => {
  for (const update of ['optimizer', 'adam', 'assign'] as const) {
    it(`replays a training step (${update} update) with results equal to the eager path bit for bit`, async () => {
      const eager = await train(rt, false, update, 6);
      const compiled = await train(rt, true, update, 6);
      expect(compiled.losses).toEqual(eager.losses);
      compiled.params.forEach((p, i) => expect(p, `parameter ${i}`).toEqual(eager.params[i]));
      expect(eager.losses[5]).toBeLessThan(eager.losses[0]);
      expect((compiled.step as unknown as { recordings: number }).recordings).toBe(1);
    });
  }

  it('a replay runs no op code: nothing traced, one replay, the recorded dispatches counted again', async () => {
    const m = model(rt, 'optimizer');
    const step = rt.compile(m.step);
    const { x, y } = batch(1);
    const X = rt.tensor(x, [BATCH, IN]);
    const Y = rt.tensor(y, [BATCH, OUT]);
    const recorded = await rt.trace(() => step(X, Y));
    expect(recorded.dispatches.length).toBeGreaterThan(10);
    const before = rt.stats();
    const replayed = await rt.trace(() => step(X, Y));
    const after = rt.stats();
    expect(replayed.dispatches).toEqual([]);
    expect(after.replays - before.replays).toBe(1);
    expect(after.recordings - before.recordings).toBe(0);
    expect(after.dispatches - before.dispatches).toBe(recorded.dispatches.length);
    await rt.sync();
    for (const t of [X, Y, recorded.value.loss, replayed.value.loss]) t.dispose();
    step.dispose();
    m.mlp.dispose();
  });

  it('records again when the input shapes change, and both recordings stay correct', async () => {
    const run = async (compiled: boolean) => {
      const m = model(rt, 'optimizer');
      const step = compiled ? rt.compile(m.step) : m.step;
      const losses: number[] = [];
      for (const rows of [8, 4, 8, 4, 3]) {
        const { x, y } = batch(rows, rows);
        const out = await step(rt.tensor(x, [rows, IN]), rt.tensor(y, [rows, OUT]));
        losses.push((await out.loss.data())[0]);
      }
      const params = await Promise.all(m.params.map((p) => p.data()));
      m.mlp.dispose();
      return { losses, params, recordings: (step as unknown as { recordings?: number }).recordings };
    };
    const eager = await rt.tidy(() => run(false));
    const compiled = await rt.tidy(() => run(true));
    expect(compiled.losses).toEqual(eager.losses);
    compiled.params.forEach((p, i) => expect(p).toEqual(eager.params[i]));
    expect(compiled.recordings).toBe(3);
  });

  it('records again after a parameter it used was disposed and replaced', async () => {
    let w = rt.tensor([1, 2, 3, 4], [2, 2]);
    const step = rt.compile((x: Tensor) => rt.matmul(x, w));
    const x = rt.tensor([1, 0, 0, 1], [2, 2]);
    expect(Array.from(await (await step(x)).data())).toEqual([1, 2, 3, 4]);
    w.dispose();
    w = rt.tensor([5, 6, 7, 8], [2, 2]);
    expect(Array.from(await (await step(x)).data())).toEqual([5, 6, 7, 8]);
    expect(step.recordings).toBe(2);
    step.dispose();
  });

  it('returns arrays and objects of fresh tensors the caller owns, and passes other values through', async () => {
    const a = rt.tensor([1, 2, 3], [3]);
    const step = rt.compile((x: Tensor) => ({ sum: rt.sum(x), parts: [rt.scale(x, 2), x], label: 'ok' }));
    for (let i = 0; i < 2; i++) {
      const out = await step(a);
      expect(out.label).toBe('ok');
      expect(Array.from(await out.sum.data())).toEqual([6]);
      expect(Array.from(await out.parts[0].data())).toEqual([2, 4, 6]);
      expect(Array.from(await out.parts[1].data())).toEqual([1, 2, 3]);
      expect(out.parts[1]).not.toBe(a);
    }
    step.dispose();
  });

  it('refuses to read data while recording, and the runtime stays usable', async () => {
    const step = rt.compile(async (x: Tensor) => {
      await x.data();
      return x;
    });
    await expect(step(rt.tensor([1], [1]))).rejects.toThrow(/cannot read tensors while it records/);
    expect(Array.from(await rt.add(rt.tensor([1], [1]), 1).data())).toEqual([2]);
  });

  it('steps replayed back to back without reading are each applied, in order', async () => {
    const acc = rt.tensor([0, 0], [2]);
    const step = rt.compile((x: Tensor) => {
      rt.assign(acc, rt.add(rt.scale(acc, 2), x));
      // Σ acc² = 2a², distinct for every step (Σ acc itself is 0 whatever acc holds).
      return rt.sum(rt.mul(acc, acc));
    });
    const results: Tensor[] = [];
    for (let i = 1; i <= 4; i++) results.push(await step(rt.tensor([i, -i], [2])));
    // acc: 1, 4, 11, 26 (and the negatives)
    expect(Array.from(await acc.data())).toEqual([26, -26]);
    expect(await Promise.all(results.map(async (r) => (await r.data())[0]))).toEqual([2, 32, 242, 1352]);
    step.dispose();
  });
});
