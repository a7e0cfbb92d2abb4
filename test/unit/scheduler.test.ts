import { describe, expect, it } from 'vitest';
import { createRuntime, type Tensor } from '../../src/index.js';

// The scheduling API on the CPU reference: compile runs eagerly, profile gives wall times, counters exist.
describe('scheduling API on the CPU reference backend', () => {
  it('compile runs the step eagerly with the same results and in-place updates', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const w = rt.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const step = rt.compile(async (x: Tensor) => {
      const loss = rt.sum(rt.square(rt.matmul(x, w)));
      const [g] = await rt.grad(loss, [w]);
      rt.assign(w, rt.sub(w, rt.scale(g, 0.01)));
      return { loss };
    });
    const x = rt.tensor([1, 0, 0, 1], [2, 2]);
    const first = await step(x);
    expect(Array.from(await first.loss.data())).toEqual([30]);
    const second = await step(x);
    expect((await second.loss.data())[0]).toBeLessThan(30);
    expect(Array.from(await w.data())).not.toEqual([1, 2, 3, 4]);
    step.dispose();
  });

  it('profile times each op by wall clock; stats and memory report counters', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const a = rt.tensor([1, 2, 3, 4], [2, 2]);
    const profile = await rt.profile(() => rt.relu(rt.matmul(a, a)));
    expect(profile.timing).toBe('wall');
    expect(profile.kernels.map((k) => k.op)).toEqual(['matmul', 'relu']);
    expect(profile.kernels[0].shape).toBe('[2,2]·[2,2] → [2,2]');
    expect(Array.from(await profile.value.data())).toEqual([7, 10, 15, 22]);
    const stats = rt.stats();
    expect(stats.dispatches).toBe(2);
    expect(rt.memory().stepBytes).toBe(0);
    await rt.flush();
    await rt.warmup();
    expect(rt.stats().dispatches).toBe(2);
  });

  it('assign checks its operands', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    expect(() => rt.assign(rt.zeros([2]), rt.zeros([3]))).toThrow(/assign: value \[3\] does not match target \[2\]/);
  });
});
