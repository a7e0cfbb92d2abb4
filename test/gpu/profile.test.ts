import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => rt?.destroy());

describe('rt.profile', () => {
  it('times every kernel of a training step by name and shape, eager and replayed', async () => {
    const w1 = rt.tensor(
      Float32Array.from({ length: 20 * 32 }, (_, i) => Math.sin(i) * 0.2),
      [20, 32],
      { requiresGrad: true },
    );
    const w2 = rt.tensor(
      Float32Array.from({ length: 32 * 4 }, (_, i) => Math.cos(i) * 0.2),
      [32, 4],
      { requiresGrad: true },
    );
    const params = [w1, w2];
    const opt = rt.optim.sgd({ lr: 0.1 });
    const body = async (x: Tensor, y: Tensor) => {
      const loss = rt.softmaxCrossEntropy(rt.matmul(rt.relu(rt.matmul(x, w1)), w2), y);
      opt.step(params, await rt.grad(loss, params));
      return loss;
    };
    const x = rt.tensor(
      Float32Array.from({ length: 16 * 20 }, (_, i) => Math.cos(i)),
      [16, 20],
    );
    const y = rt.tensor(
      Float32Array.from({ length: 16 * 4 }, (_, i) => (i % 5 === 0 ? 1 : 0)),
      [16, 4],
    );
    const expected = rt.info.features.includes('timestamp-query') ? 'timestamp-query' : 'wall';

    const eager = await rt.profile(() => rt.trace(() => body(x, y)));
    expect(eager.timing).toBe(expected);
    const traced = eager.value.dispatches;
    expect(eager.kernels.map((k) => k.name)).toEqual(traced.map((d) => d.kernel));
    expect(eager.kernels.map((k) => k.op)).toEqual(traced.map((d) => d.op));
    const forward = eager.kernels.find((k) => k.op === 'matmul')!;
    expect(forward.shape).toBe('[16,20]·[20,32] → [16,32]');
    for (const k of eager.kernels) expect(Number.isFinite(k.ms) && k.ms >= 0, `${k.name} ${k.ms}`).toBe(true);
    // The kernels ran inside the profiled wall-clock window, so their times cannot add up to more than it:
    // a unit slip (nanoseconds read as milliseconds) or unordered timestamp pairs fail here.
    expect(eager.totalMs).toBeLessThanOrEqual(eager.wallMs);
    // Profiling must not change what the step computes: its loss equals the same step on the CPU.
    const loss = (await eager.value.value.data())[0];
    const cpu = await createRuntime({ backend: 'cpu' });
    const cw1 = cpu.tensor(
      Float32Array.from({ length: 20 * 32 }, (_, i) => Math.sin(i) * 0.2),
      [20, 32],
    );
    const cw2 = cpu.tensor(
      Float32Array.from({ length: 32 * 4 }, (_, i) => Math.cos(i) * 0.2),
      [32, 4],
    );
    const cx = cpu.tensor(
      Float32Array.from({ length: 16 * 20 }, (_, i) => Math.cos(i)),
      [16, 20],
    );
    const cy = cpu.tensor(
      Float32Array.from({ length: 16 * 4 }, (_, i) => (i % 5 === 0 ? 1 : 0)),
      [16, 4],
    );
    const cpuLoss = (await cpu.softmaxCrossEntropy(cpu.matmul(cpu.relu(cpu.matmul(cx, cw1)), cw2), cy).data())[0];
    expect(Math.abs(loss - cpuLoss)).toBeLessThanOrEqual(1e-5 * Math.abs(cpuLoss));

    const step = rt.compile(body);
    (await step(x, y)).dispose();
    const replayed = await rt.profile(() => step(x, y));
    expect(replayed.kernels.map((k) => k.name)).toEqual(traced.map((d) => d.kernel));
    expect(Array.from(await replayed.value.data())[0]).toBeGreaterThan(0);

    // After profiling, work is batched again: one submission for a whole step.
    const before = rt.stats().submissions;
    await (await step(x, y)).data();
    expect(rt.stats().submissions - before).toBe(1);
    step.dispose();
    params.forEach((p) => p.dispose());
  });

  it('a profile of no GPU work is empty, and an error inside it still ends profiling', async () => {
    const empty = await rt.profile(() => 42);
    expect(empty.value).toBe(42);
    expect(empty.kernels).toEqual([]);
    await expect(rt.profile(() => rt.matmul(rt.zeros([2, 3]), rt.zeros([2, 3])))).rejects.toThrow(
      /inner dimensions differ/,
    );
    const before = rt.stats().submissions;
    await rt.add(rt.ones([2]), 1).data();
    expect(rt.stats().submissions - before).toBe(1);
  });

  it('without timestamp-query it falls back to the wall time of each kernel submitted alone', async () => {
    const wallRt = await createRuntime({ backend: 'webgpu', timing: 'wall' });
    const a = wallRt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const profile = await wallRt.profile(() => wallRt.relu(wallRt.matmul(a, a, { transposeB: true })));
    expect(profile.timing).toBe('wall');
    expect(profile.kernels.map((k) => k.op)).toEqual(['matmul', 'relu']);
    expect(profile.kernels[0].shape).toBe('[2,3]·[2,3] → [2,2]');
    for (const k of profile.kernels) expect(k.ms).toBeGreaterThan(0);
    expect(Array.from(await profile.value.data())).toEqual([14, 32, 32, 77]);
    wallRt.destroy();
  });
});
