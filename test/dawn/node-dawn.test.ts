// The public API in Node, against Dawn (the 'webgpu' package) on SwiftShader's Vulkan driver.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { create } from 'webgpu';
import { createRuntime } from '../../src/index.js';
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
});
