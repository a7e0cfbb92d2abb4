// conv2d's `activation` and `maxPool` options on the GPU against the float64 CPU reference, with poisoned outputs:
// the forward and all three gradients on ragged shapes, the trace showing the fused kernels (and no separate
// activation, pool, transpose or patch matrix), and the gradients bit-identical from run to run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import type { Conv2dOptions } from '../../src/ops/conv.js';
import {
  cpuRuntime,
  dotBound,
  expectBitEqual,
  expectClose,
  f32,
  gpuRuntime,
  randomArray,
  read,
  rng,
} from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

interface Case {
  label: string;
  x: number[];
  w: number[];
  options: Conv2dOptions;
  bias?: boolean;
}

const CASES: Case[] = [
  {
    label: 'relu + pool, 3×3 pad 1, odd H and W, O = 5',
    x: [2, 3, 7, 9],
    w: [5, 3, 3, 3],
    options: { padding: 1, activation: 'relu', maxPool: 2 },
  },
  {
    label: 'tanh + pool, 5×5 stride 2 pad 2, no bias',
    x: [2, 2, 11, 9],
    w: [3, 2, 5, 5],
    options: { stride: 2, padding: 2, activation: 'tanh', maxPool: 2 },
    bias: false,
  },
  {
    label: "relu + pool, depthwise 2×3 'same'",
    x: [1, 3, 8, 7],
    w: [3, 1, 2, 3],
    options: { groups: 3, padding: 'same', activation: 'relu', maxPool: 2 },
  },
  {
    label: 'pool alone, dilation 2, groups 2',
    x: [1, 4, 9, 10],
    w: [6, 2, 3, 3],
    options: { dilation: 2, padding: 2, groups: 2, maxPool: 2 },
  },
  {
    label: 'relu + pool, N = 1, C = 1, 17×17 (split-K dW)',
    x: [1, 1, 17, 17],
    w: [8, 1, 3, 3],
    options: { padding: 1, activation: 'relu', maxPool: 2 },
  },
  {
    label: "tanh + pool, 3×3 'valid', an odd number of windows per row",
    x: [2, 3, 9, 12],
    w: [6, 3, 3, 3],
    options: { activation: 'tanh', maxPool: 2 },
  },
  { label: 'relu epilogue, O = 17', x: [2, 3, 6, 5], w: [17, 3, 3, 3], options: { padding: 1, activation: 'relu' } },
  {
    label: 'gelu epilogue (z recomputed), stride [2, 1]',
    x: [1, 2, 9, 8],
    w: [3, 2, 3, 3],
    options: { stride: [2, 1], activation: 'gelu' },
  },
];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** y = conv2d(x, w, b, options) and the gradients of Σ y ⊙ r, read back as float64, with the kernels run. */
async function run(
  rt: Runtime,
  c: Case,
  v: Record<'x' | 'w' | 'b', Float32Array>,
  r: Float32Array | null,
  abs = false,
) {
  const val = (a: Float32Array) => (abs ? a.map(Math.abs) : a);
  const x = rt.tensor(val(v.x), c.x, { requiresGrad: true });
  const w = rt.tensor(val(v.w), c.w, { requiresGrad: true });
  const b = c.bias === false ? null : rt.tensor(val(v.b), [c.w[0]], { requiresGrad: true });
  const traced = await rt.trace(async () => {
    const y = rt.conv2d(x, w, b, c.options);
    const weights = rt.tensor(val(r ?? f32(randomArray(y.size, rng(5)))), y.shape);
    const grads = await rt.grad(rt.sum(rt.mul(y, weights)), b ? [x, w, b] : [x, w]);
    return [y, ...grads];
  });
  const [y, dx, dw, db] = await Promise.all((traced.value as Tensor[]).map(read));
  return { y, dx, dw, db, kernels: traced.dispatches.map((d) => d.kernel) };
}

/** A bound of K float32 roundings of the largest magnitude: a wrong winner or a missed element is far outside it. */
const bound = (mag: Float64Array, k: number) => dotBound(new Float64Array(mag.length).fill(Math.max(...mag)), k);

describe('conv2d activation and maxPool on the GPU against the float64 reference', () => {
  CASES.forEach((c, i) => {
    it(c.label, async () => {
      const random = rng(300 + i);
      const v = {
        x: f32(randomArray(size(c.x), random)),
        w: f32(randomArray(size(c.w), random)),
        b: f32(randomArray(c.w[0], random)),
      };
      const want = await run(cpu, c, v, null);
      const r = f32(randomArray(want.y.length, random));
      const [got, ref, mag] = [await run(gpu, c, v, r), await run(cpu, c, v, r), await run(cpu, c, v, r, true)];
      const [kh, kw] = [c.w[2], c.w[3]];
      const pixels = size(c.x) / c.x[1];
      expectClose(got.y, ref.y, bound(mag.y, c.w[1] * kh * kw + 1), `${c.label}: y`);
      expectClose(got.dx, ref.dx, bound(mag.dx, c.w[0] * kh * kw), `${c.label}: dx`);
      expectClose(got.dw, ref.dw, bound(mag.dw, pixels), `${c.label}: dw`);
      if (c.bias !== false) expectClose(got.db, ref.db, bound(mag.db, pixels), `${c.label}: dbias`);

      const fused = c.options.maxPool === 2;
      const dense3x3 = c.w[2] === 3 && c.w[3] === 3 && !c.options.stride && !c.options.dilation;
      const forward = (fused ? 'conv2d_forward_max_pool' : 'conv2d_forward') + (dense3x3 ? '_3x3' : '');
      expect(got.kernels).toContain(forward);
      if (fused) expect(got.kernels).toContain('conv2d_max_pool_grad');
      for (const k of got.kernels) {
        expect(k, 'no transpose, permute, im2col or matmul').not.toMatch(/transpose|permute|im2col|patch|matmul/);
        // Fused with a pool, the activation's backward runs in conv2d_max_pool_grad too; alone, as a binary op.
        const separate = fused ? /^(relu|tanh|max_pool2d)/ : /^(relu|tanh|gelu|max_pool2d)$/;
        expect(k, 'the activation and the pool run inside the fused kernels').not.toMatch(separate);
      }

      const again = await run(gpu, c, v, r);
      expectBitEqual(again.dx, got.dx, `${c.label}: dx run twice`);
      expectBitEqual(again.dw, got.dw, `${c.label}: dw run twice`);
    });
  });
});
