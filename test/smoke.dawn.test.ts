import { describe, expect, it } from 'vitest';
import { create } from 'webgpu';
import { createRuntime } from '../src/index.js';
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('dawn smoke', () => {
  it('matmul', async () => {
    const rt = await createRuntime({ backend: 'webgpu', gpu: create([]) });
    console.log(rt.info);
    const a = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = rt.tensor([1, 0, 0, 1, 1, 1], [3, 2]);
    const c = rt.matmul(a, b);
    expect(Array.from(await c.data())).toEqual([4, 5, 10, 11]);
    rt.destroy();
  });
});
