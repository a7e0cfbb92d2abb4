import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.js';

const values = async (t: { dataF64(): Promise<Float64Array> }) => Array.from(await t.dataF64());

describe('the tape', () => {
  it('accumulates the gradient of a tensor used more than once', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 2, 3], [3], { requiresGrad: true });
    // L = Σ (x·x + 3x) → dL/dx = 2x + 3
    const loss = rt.sum(rt.add(rt.mul(x, x), rt.mul(x, 3)));
    const [dx] = await rt.grad(loss, [x]);
    expect(await values(dx)).toEqual([5, 7, 9]);
  });

  it('accumulates a gradient that a VJP passes through to an input which already has one', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 2, 3], [3], { requiresGrad: true });
    const u = rt.mul(x, 1); // an intermediate: its gradient is the tape's own, and spent
    // add hands its gradient to both inputs; u's first share meets the gradient u already has from the outer mul.
    // L = Σ u·(u + u) = Σ 2u² → dL/du = 4u; and L = Σ u·(u + u·u) → dL/du = 2u + 3u².
    const [dx] = await rt.grad(rt.sum(rt.mul(u, rt.add(u, u))), [x]);
    expect(await values(dx)).toEqual([4, 8, 12]);
    const [dx2] = await rt.grad(rt.sum(rt.mul(u, rt.add(u, rt.mul(u, u)))), [x]);
    expect(await values(dx2)).toEqual([5, 16, 33]);
  });

  it('records nothing for tensors without requiresGrad, and refuses to differentiate them', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const w = rt.tensor([2], [1], { requiresGrad: true });
    const c = rt.tensor([5], [1]);
    const y = rt.mul(w, c);
    expect(y.requiresGrad).toBe(true);
    expect(rt.mul(c, c).requiresGrad).toBe(false);
    const loss = rt.sum(y);
    const [dw] = await rt.grad(loss, [w]);
    expect(await values(dw)).toEqual([5]);
    await expect(rt.grad(loss, [c])).rejects.toThrow(/parameter 0 \[1\] was not created with \{ requiresGrad: true \}/);
  });

  it('gives zeros of the right shape for a parameter the loss does not use', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const a = rt.tensor([1, 2], [2], { requiresGrad: true });
    const unused = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const [, du] = await rt.grad(rt.sum(a), [a, unused]);
    expect(du.shape).toEqual([2, 3]);
    expect(await values(du)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('returns gradients of the parameter shapes through broadcasting', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const b = rt.tensor([10, 20, 30], [3], { requiresGrad: true });
    const s = rt.tensor([2], [], { requiresGrad: true });
    const loss = rt.sum(rt.mul(rt.add(x, b), s));
    const [dx, db, ds] = await rt.grad(loss, [x, b, s]);
    expect(dx.shape).toEqual([2, 3]);
    expect(db.shape).toEqual([3]);
    expect(ds.shape).toEqual([]);
    expect(await values(db)).toEqual([4, 4, 4]);
    expect(await values(ds)).toEqual([1 + 2 + 3 + 4 + 5 + 6 + 2 * (10 + 20 + 30)]);
  });

  it('handles a deep chain without recursion limits', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1], [1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = rt.add(y, 1);
    const [dx] = await rt.grad(rt.sum(y), [x]);
    expect(await values(dx)).toEqual([1]);
  });

  it('frees the gradient pass’s intermediates: only the returned gradients stay', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const w = rt.tensor([1, 0, 0, 1], [2, 2], { requiresGrad: true });
    const loss = rt.sum(rt.tanh(rt.matmul(x, w)));
    const before = rt.memory().liveTensors;
    const grads = await rt.grad(loss, [x, w]);
    expect(rt.memory().liveTensors).toBe(before + 2);
    grads.forEach((g) => g.dispose());
    expect(rt.memory().liveTensors).toBe(before);
  });
});

describe('tidy and memory', () => {
  it('disposes what fn made, except what it returns', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor([1, 2, 3], [3]);
    const start = rt.memory();
    const kept = rt.tidy(() => {
      const a = rt.add(x, 1);
      const b = rt.mul(a, a);
      return { result: rt.sum(b), list: [a] };
    });
    expect(rt.memory().liveTensors).toBe(start.liveTensors + 2);
    expect(await values(kept.result)).toEqual([4 + 9 + 16]);
    expect(kept.list[0].disposed).toBe(false);
  });

  it('works with async functions, and nests', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const w = rt.tensor([1, 2], [2], { requiresGrad: true });
    const start = rt.memory().liveTensors;
    const grads = await rt.tidy(async () => {
      const inner = rt.tidy(() => rt.mul(w, 2));
      const loss = rt.sum(rt.mul(inner, w));
      return rt.grad(loss, [w]);
    });
    expect(await values(grads[0])).toEqual([4, 8]);
    expect(rt.memory().liveTensors).toBe(start + 1);
  });

  it('disposes on a throw and stays usable', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const start = rt.memory().liveTensors;
    expect(() =>
      rt.tidy(() => {
        rt.ones([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(rt.memory().liveTensors).toBe(start);
    expect(await values(rt.ones([2]))).toEqual([1, 1]);
  });

  it('reports live, pooled and peak bytes', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const t = rt.zeros([10, 10]);
    const m = rt.memory();
    expect(m.liveTensors).toBe(1);
    expect(m.liveBytes).toBeGreaterThan(0);
    expect(m.peakBytes).toBeGreaterThanOrEqual(m.liveBytes);
    t.dispose();
    t.dispose();
    expect(rt.memory().liveTensors).toBe(0);
    expect(rt.memory().liveBytes).toBe(0);
  });
});

describe('saved tensors', () => {
  it('a tensor disposed by tidy stays readable by the backward pass that needs it', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const w = rt.tensor([1, 2], [2], { requiresGrad: true });
    const loss = rt.tidy(() => rt.sum(rt.mul(rt.exp(w), w)));
    const [dw] = await rt.grad(loss, [w]);
    // d/dw (e^w · w) = e^w (1 + w)
    const expected = [Math.exp(1) * 2, Math.exp(2) * 3];
    (await dw.dataF64()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
  });

  it('frees the saved tensors when the loss goes, so a training loop does not grow', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const w = rt.tensor([0.5, -0.5, 0.25, 1], [2, 2], { requiresGrad: true });
    const x = rt.tensor([1, 2, 3, 4], [2, 2]);
    const baseline = rt.memory();
    for (let step = 0; step < 50; step++) {
      const [g] = await rt.tidy(async () => {
        const loss = rt.mean(rt.square(rt.tanh(rt.matmul(x, w))));
        return rt.grad(loss, [w]);
      });
      g.dispose();
    }
    expect(rt.memory().liveTensors).toBe(baseline.liveTensors);
    expect(rt.memory().liveBytes).toBe(baseline.liveBytes);
  });
});
