// The public API in Node, against Dawn (the 'webgpu' package) on SwiftShader's Vulkan driver.
import { describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { create } from 'webgpu';
import { createRuntime, type Runtime } from '../../src/index.js';
import { defineOp } from '../../src/tensor/tensor.js';
import { apply } from '../../src/tensor/tensor.js';
import { Shader } from '../../src/core/shader.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('Node with Dawn', () => {
  it('trains the transposed-gradient identity end to end', async () => {
    if (!process.env.VK_ICD_FILENAMES) {
      expect(
        existsSync(SWIFTSHADER_ICD),
        `no Vulkan driver for Dawn: install Debian's chromium (for ${SWIFTSHADER_ICD}) or set VK_ICD_FILENAMES`,
      ).toBe(true);
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    const rt = await createRuntime({ backend: 'webgpu', gpu: create([]) });
    expect(rt.info.backend).toBe('webgpu');
    expect(rt.info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    rt.debug = { poisonOutputs: true };

    // Z = X·Vᵀ with V = Wᵀ stored [N,K]; L = Σ Z ⊙ G, so ∂L/∂V = Gᵀ·X.
    const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const v = rt.tensor([1, 0, -1, 2, 1, 0, 0, 1, 1, -2, 0.5, 3], [4, 3], { requiresGrad: true });
    const g = rt.tensor([1, -1, 2, 0, 0.5, 1, -2, 3], [2, 4]);
    const { value: grads, dispatches } = await rt.trace(() =>
      rt.grad(rt.sum(rt.mul(rt.matmul(x, v, { transposeB: true }), g)), [v]),
    );
    const expected = [];
    for (let n = 0; n < 4; n++)
      for (let k = 0; k < 3; k++)
        expected.push(1 * [1, -1, 2, 0][n] * [1, 2, 3][k] + [0.5, 1, -2, 3][n] * [4, 5, 6][k]);
    expect(Array.from(await grads[0].data())).toEqual(expected);
    expect(dispatches.filter((d) => d.op === 'matmul').map((d) => d.kernel.slice(-2))).toEqual(['nt', 'tn']);
    rt.destroy();
  });

  it('a kernel that does not compile fails with the compiler message and line, and the runtime goes on', async () => {
    const rt = await createRuntime({ backend: 'webgpu', gpu: create([]) });
    const broken = new Shader(
      'broken',
      `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = x[0] + undefinedName; }`,
    );
    const brokenOp = defineOp({
      name: 'broken',
      shape: ([x]) => x,
      cpu: ([x]) => x.data.slice(),
      gpu: (gpu, [x], _p, out) => gpu.dispatch({ name: 'broken', shader: broken }, { x, out }, [1]),
    });
    const y = apply(rt, brokenOp, [rt.tensor([1], [1])], undefined);
    await expect(y.data()).rejects.toThrow(
      /kernel broken: pipeline creation failed: broken\.wgsl:3:\d+: .*undefinedName/,
    );
    expect(Array.from(await rt.add(rt.tensor([1, 2], [2]), 1).data())).toEqual([2, 3]);
    rt.destroy();
  });
  // In Node a read sleeps on a timer through most of what the same submission took last time before Dawn's wait,
  // which polls in a setImmediate loop, starts (src/backend/webgpu/wait-pacer.ts). The results must not change.
  it('paced reads: the second replay of a long step sleeps before its wait, and every result is the same', async () => {
    const step = async (rt: Runtime, replays: number) => {
      const x = rt.tensor(
        Float32Array.from({ length: 128 * 784 }, (_, i) => Math.sin(i)),
        [128, 784],
      );
      const w = rt.tensor(
        Float32Array.from({ length: 784 * 256 }, (_, i) => Math.cos(i) * 0.05),
        [784, 256],
        {
          requiresGrad: true,
        },
      );
      const compiled = rt.compile(async () => {
        const loss = rt.mean(rt.square(rt.matmul(x, w)));
        const [g] = await rt.grad(loss, [w]);
        rt.assign(w, rt.sub(w, rt.scale(g, 0.1)));
        return loss;
      });
      const sleeps: number[] = [];
      const losses: number[] = [];
      const timeout = vi.spyOn(globalThis, 'setTimeout');
      try {
        for (let i = 0; i < replays; i++) {
          timeout.mockClear();
          losses.push((await (await compiled()).data())[0]);
          sleeps.push(Math.max(0, ...timeout.mock.calls.map((c) => Number(c[1] ?? 0))));
        }
      } finally {
        timeout.mockRestore();
        rt.destroy();
      }
      return { sleeps, losses };
    };
    const paced = await step(await createRuntime({ backend: 'webgpu', gpu: create([]) }), 4);
    const polled = await step(await createRuntime({ backend: 'webgpu', gpu: create([]), pacedWaits: false }), 4);
    expect(paced.losses).toEqual(polled.losses);
    expect(paced.losses[3]).toBeLessThan(paced.losses[0]);
    // Two 25-MFLOP products take well over the 4 ms below which nothing is paced, on any software adapter.
    expect(paced.sleeps[0]).toBe(0);
    expect(Math.min(...paced.sleeps.slice(2))).toBeGreaterThanOrEqual(1);
    expect(Math.max(...polled.sleeps)).toBe(0);
  });
});
