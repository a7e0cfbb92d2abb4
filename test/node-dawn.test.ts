// The public API in Node, against Dawn (the 'webgpu' package) on SwiftShader's Vulkan driver.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { create } from 'webgpu';
import { createRuntime } from '../src/index.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('Node with Dawn', () => {
  it('trains the transposed-gradient identity end to end', async () => {
    if (!process.env.VK_ICD_FILENAMES) {
      expect(existsSync(SWIFTSHADER_ICD), `no Vulkan driver for Dawn: install Debian's chromium (for ${SWIFTSHADER_ICD}) or set VK_ICD_FILENAMES`).toBe(true);
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
    const { value: grads, dispatches } = await rt.trace(() => rt.grad(rt.sum(rt.mul(rt.matmul(x, v, { transposeB: true }), g)), [v]));
    const expected = [];
    for (let n = 0; n < 4; n++) for (let k = 0; k < 3; k++) expected.push(1 * [1, -1, 2, 0][n] * [1, 2, 3][k] + [0.5, 1, -2, 3][n] * [4, 5, 6][k]);
    expect(Array.from(await grads[0].data())).toEqual(expected);
    expect(dispatches.filter((d) => d.op === 'matmul').map((d) => d.kernel.slice(-2))).toEqual(['nt', 'tn']);
    rt.destroy();
  });
});
