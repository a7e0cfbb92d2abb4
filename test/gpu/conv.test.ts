// conv2d and conv1d on the GPU against the float64 CPU reference, with poisoned outputs: the forward and all three
// gradients on ragged shapes, bounds scaled by each product's reduction length, the trace showing the three
// implicit-GEMM kernels (and no transpose, permute or patch matrix), and dW, dX bit-identical from run to run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import type { Conv2dOptions } from '../../src/ops/conv.js';
import { convErrorCases } from '../conv-cases.js';
import {
  cpuRuntime,
  dotBound,
  expectBitEqual,
  expectClose,
  f32,
  gpuRuntime,
  randomArray,
  read,
  relBound,
  rng,
} from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

interface ConvCase {
  label: string;
  x: number[];
  w: number[];
  options: Conv2dOptions;
  bias?: boolean;
  /** Runs conv1d on x [N, C, L], w [O, C/groups, k] instead; options are conv1d's. */
  oneD?: boolean;
}

const CASES: ConvCase[] = [
  { label: '3×3 pad 1, odd H and W, C = 3', x: [2, 3, 7, 9], w: [4, 3, 3, 3], options: { padding: 1 } },
  { label: '1×1, N = 1, C = 1', x: [1, 1, 17, 5], w: [3, 1, 1, 1], options: {} },
  {
    label: '5×5 stride 2 pad 2, no bias',
    x: [2, 3, 9, 11],
    w: [5, 3, 5, 5],
    options: { stride: 2, padding: 2 },
    bias: false,
  },
  { label: "2×3 'same' (even kernel)", x: [2, 2, 7, 6], w: [3, 2, 2, 3], options: { padding: 'same' } },
  {
    label: '3×3 dilation 2, groups 2',
    x: [1, 4, 9, 9],
    w: [6, 2, 3, 3],
    options: { dilation: 2, padding: 2, groups: 2 },
  },
  { label: "depthwise, groups = C, 'same'", x: [2, 3, 5, 7], w: [3, 1, 3, 3], options: { groups: 3, padding: 'same' } },
  {
    label: 'depthwise ×2 channels, stride [2, 1]',
    x: [1, 3, 9, 8],
    w: [6, 1, 3, 3],
    options: { groups: 3, stride: [2, 1] },
  },
  { label: 'split-K weight gradient, C = 1', x: [4, 1, 17, 17], w: [8, 1, 3, 3], options: { padding: 1 } },
  { label: '33×65, O = 17, stride 2', x: [1, 3, 33, 65], w: [17, 3, 3, 3], options: { stride: 2, padding: 1 } },
  { label: 'conv1d L = 65, stride 2', x: [2, 3, 65], w: [5, 3, 3], options: { stride: 2, padding: 1 }, oneD: true },
  { label: "3×3 'valid', groups 2, W = 10", x: [2, 4, 9, 10], w: [6, 2, 3, 3], options: { groups: 2 } },
  { label: '3×3 padding [0, 2], O = 17', x: [1, 2, 6, 13], w: [17, 2, 3, 3], options: { padding: [0, 2] } },
];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Inputs {
  x: Float32Array;
  w: Float32Array;
  b: Float32Array | null;
  r: Float32Array;
  yShape: readonly number[];
}

/** y = conv(x, w, b) and the gradients of Σ y ⊙ r, read back as float64. */
async function run(rt: Runtime, c: ConvCase, v: Inputs, abs = false) {
  const val = (a: Float32Array) => (abs ? a.map(Math.abs) : a);
  const x = rt.tensor(val(v.x), c.x, { requiresGrad: true });
  const w = rt.tensor(val(v.w), c.w, { requiresGrad: true });
  const b = v.b ? rt.tensor(val(v.b), [c.w[0]], { requiresGrad: true }) : null;
  const traced = await rt.trace(async () => {
    const y = c.oneD ? rt.conv1d(x, w, b, c.options as never) : rt.conv2d(x, w, b, c.options);
    const grads = await rt.grad(rt.sum(rt.mul(y, rt.tensor(val(v.r), y.shape))), b ? [x, w, b] : [x, w]);
    return [y, ...grads];
  });
  const [y, dx, dw, db] = await Promise.all((traced.value as Tensor[]).map(read));
  return { y, dx, dw, db, kernels: traced.dispatches.map((d) => d.kernel) };
}

function inputsOf(c: ConvCase, i: number): Inputs {
  const random = rng(101 + i);
  const yShape = (c.oneD ? cpu.conv1d : cpu.conv2d)(cpu.zeros(c.x), cpu.zeros(c.w), null, c.options as never).shape;
  return {
    x: f32(randomArray(size(c.x), random)),
    w: f32(randomArray(size(c.w), random)),
    b: c.bias === false ? null : f32(randomArray(c.w[0], random)),
    r: f32(randomArray(size(yShape), random)),
    yShape,
  };
}

describe('conv on the GPU against the float64 reference', () => {
  CASES.forEach((c, i) => {
    it(c.label, async () => {
      const v = inputsOf(c, i);
      const got = await run(gpu, c, v);
      const want = await run(cpu, c, v);
      // The same products on |values|: |P|·|W|ᵀ, |g|·|W| folded back, |g|ᵀ·|P|, which bound each float32 sum.
      const mag = await run(cpu, c, v, true);
      const [kh, kw] = c.oneD ? [1, c.w[2]] : [c.w[2], c.w[3]];
      const groups = c.options.groups ?? 1;
      const pixels = size(v.yShape) / v.yShape[1];
      expectClose(got.y, want.y, dotBound(mag.y, c.w[1] * kh * kw + 1), `${c.label}: y`);
      expectClose(got.dx, want.dx, dotBound(mag.dx, (c.w[0] / groups) * kh * kw), `${c.label}: dx`);
      expectClose(got.dw, want.dw, dotBound(mag.dw, pixels), `${c.label}: dw`);
      if (v.b) expectClose(got.db, want.db, dotBound(mag.db, pixels), `${c.label}: dbias`);

      // A dense 3×3 kernel (stride 1, dilation 1) has its own forward and input-gradient entries, over 2×4 tiles.
      const dense3x3 = c.w[2] === 3 && c.w[3] === 3 && !c.options.stride && !c.options.dilation;
      expect(got.kernels).toContain(dense3x3 ? 'conv2d_forward_3x3' : 'conv2d_forward');
      expect(got.kernels).toContain(dense3x3 ? 'conv2d_input_grad_3x3' : 'conv2d_input_grad');
      // A 3×3 kernel has its own weight-gradient entry (9 taps of one channel per invocation).
      const weightGrad = dense3x3
        ? /^conv2d_weight_grad_3x3_tiles(_splitk)?$/
        : c.w[2] === 3 && c.w[3] === 3
          ? /^conv2d_weight_grad_3x3(_splitk)?$/
          : /^conv2d_weight_grad(_splitk)?$/;
      expect(got.kernels.some((k) => weightGrad.test(k))).toBe(true);
      for (const k of got.kernels)
        expect(k, 'no transpose, permute, im2col or matmul').not.toMatch(/transpose|permute|im2col|patch|matmul/);

      // Deterministic: no atomics, split-K partials summed in a fixed order.
      const again = await run(gpu, c, v);
      expectBitEqual(again.dx, got.dx, `${c.label}: dx run twice`);
      expectBitEqual(again.dw, got.dw, `${c.label}: dw run twice`);
    });
  });

  it('splits the weight gradient over the pixels when the weights are few', async () => {
    const v = inputsOf(CASES[7], 7);
    const { kernels } = await run(gpu, CASES[7], v);
    expect(kernels).toContain('conv2d_weight_grad_3x3_tiles_splitk');
    expect(kernels).toContain('conv2d_weight_grad_3x3_tiles_splitk_sum');
  });
});

describe('conv bad input on the GPU runtime', () => {
  it('throws an Error naming the op and the shapes, and the runtime stays usable', async () => {
    for (const [label, call, message] of convErrorCases(gpu)) {
      expect(call, label).toThrow(message);
      const y = gpu.conv2d(gpu.ones([1, 1, 3, 3]), gpu.ones([1, 1, 2, 2]));
      expect(Array.from(await y.data()), label).toEqual([4, 4, 4, 4]);
    }
  });
});

describe('conv in a compiled training step', () => {
  /** Two convolutions (the second depthwise, strided) and a mean-squared loss, trained with SGD for a few steps. */
  async function train(rt: Runtime, compiled: boolean) {
    const random = rng(2026);
    const param = (shape: number[], scale: number) =>
      rt.tensor(f32(randomArray(size(shape), random, -scale, scale)), shape, { requiresGrad: true });
    const params = [param([4, 3, 3, 3], 0.3), param([4], 0.1), param([4, 1, 2, 2], 0.4), param([4], 0.1)];
    const x = rt.tensor(f32(randomArray(2 * 3 * 9 * 7, random)), [2, 3, 9, 7]);
    const target = rt.tensor(f32(randomArray(2 * 4 * 5 * 4, random)), [2, 4, 5, 4]);
    const opt = rt.optim.sgd({ lr: 0.05 });
    const body = async (input: Tensor, t: Tensor) => {
      const [w1, b1, w2, b2] = params;
      const h = rt.relu(rt.conv2d(input, w1, b1, { padding: 'same' }));
      const y = rt.conv2d(h, w2, b2, { stride: 2, padding: 1, groups: 4 });
      const loss = rt.mseLoss(y, t);
      opt.step(params, await rt.grad(loss, params));
      return loss;
    };
    const step = compiled ? rt.compile(body) : body;
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) {
      const loss = await step(x, target);
      losses.push((await loss.data())[0]);
      loss.dispose();
    }
    return { losses, params: await Promise.all(params.map(read)) };
  }

  it('replays bit for bit the eager step, and follows the float64 reference', async () => {
    const eager = await train(gpu, false);
    const compiled = await train(gpu, true);
    expect(compiled.losses).toEqual(eager.losses);
    compiled.params.forEach((p, i) => expectBitEqual(p, eager.params[i], `parameter ${i}`));
    const reference = await train(cpu, false);
    expectClose(eager.losses, reference.losses, relBound(reference.losses, 2 ** 12), 'losses');
    expect(eager.losses[3]).toBeLessThan(eager.losses[0]);
  });
});
