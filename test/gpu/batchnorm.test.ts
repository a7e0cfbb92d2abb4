// batchNorm2d on the GPU against the float64 CPU reference, with poisoned outputs: training forward, dx, dγ, dβ and
// the in-place running statistics, and eval mode, on ragged NCHW shapes (N = 1, C = 1 and 3, odd H and W), a channel
// offset far from 0, a compiled step that replays the running update, and the kernels named in the trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
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

const ULP = 2 ** -24;
const EPS = 1e-5;

interface Case {
  shape: number[];
  training: boolean;
  /** x = offset + u, u uniform in [−1, 1). */
  offset?: number;
}

interface Inputs {
  xs: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  gs: Float32Array;
}

/** y, dx, dγ, dβ, and the running statistics after the call. */
async function run(rt: Runtime, shape: number[], v: Inputs, training: boolean) {
  const c = shape[1];
  const x = rt.tensor(v.xs, shape, { requiresGrad: true });
  const gamma = rt.tensor(v.gamma, [c], { requiresGrad: true });
  const beta = rt.tensor(v.beta, [c], { requiresGrad: true });
  const runningMean = rt.tensor(v.runningMean, [c]);
  const runningVar = rt.tensor(v.runningVar, [c]);
  const y = rt.batchNorm2d(x, gamma, beta, runningMean, runningVar, { training, momentum: 0.3 });
  const grads = await rt.grad(rt.sum(rt.mul(y, rt.tensor(v.gs, shape))), [x, gamma, beta]);
  return [y, ...grads, runningMean, runningVar].map(read);
}

async function check({ shape, training, offset = 0 }: Case) {
  const [n, c, h, w] = shape;
  const spatial = h * w;
  const count = n * spatial;
  const size = n * c * spatial;
  const random = rng(size + c);
  const v: Inputs = {
    xs: f32(randomArray(size, random).map((u) => offset + u)),
    gamma: f32(randomArray(c, random, 0.5, 1.5)),
    beta: f32(randomArray(c, random)),
    runningMean: f32(randomArray(c, random)),
    runningVar: f32(randomArray(c, random, 0.5, 2)),
    gs: f32(randomArray(size, random)),
  };
  const onGpu = await Promise.all(await run(gpu, shape, v, training));
  const onCpu = await Promise.all(await run(cpu, shape, v, training));

  // The statistics the op normalises with, in float64, and each element's channel.
  const channel = (i: number) => Math.floor(i / spatial) % c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < size; i++) mean[channel(i)] += v.xs[i] / count;
  for (let i = 0; i < size; i++) variance[channel(i)] += (v.xs[i] - mean[channel(i)]) ** 2 / count;
  const used = training
    ? { mean, variance }
    : { mean: Float64Array.from(v.runningMean), variance: Float64Array.from(v.runningVar) };
  // Terms summed per channel on the GPU: count in training, a few in eval (the folded scale and shift).
  const k = training ? count : 4;
  const rstd = (ch: number) => 1 / Math.sqrt(used.variance[ch] + EPS);
  const sumG = new Float64Array(c);
  const sumGX = new Float64Array(c);
  for (let i = 0; i < size; i++) {
    const ch = channel(i);
    sumG[ch] += Math.abs(v.gs[i]);
    sumGX[ch] += Math.abs(v.gs[i] * (v.xs[i] - used.mean[ch]) * rstd(ch));
  }
  const forward = new Float64Array(size);
  const dx = new Float64Array(size);
  const dGamma = new Float64Array(c);
  for (let i = 0; i < size; i++) {
    const ch = channel(i);
    const xhat = Math.abs(v.xs[i] - used.mean[ch]) * rstd(ch);
    // Rounding x − μ costs an ulp of |x| + |μ|, scaled by r, whatever the count.
    const rounding = (Math.abs(v.xs[i]) + Math.abs(used.mean[ch])) * rstd(ch);
    const gam = Math.abs(v.gamma[ch]);
    forward[i] = 16 * ULP * (k * (xhat + 1) * gam + rounding * gam + Math.abs(v.beta[ch])) + 1e-5;
    const meanG = sumG[ch] / count;
    const meanGX = sumGX[ch] / count;
    dx[i] = 16 * ULP * gam * rstd(ch) * (k * (Math.abs(v.gs[i]) + meanG + xhat * meanGX) + rounding * meanGX) + 1e-5;
    dGamma[ch] += 16 * ULP * Math.abs(v.gs[i]) * (count * (xhat + 1) + rounding);
  }
  const label = `${JSON.stringify(shape)} ${training ? 'training' : 'eval'}${offset ? ` offset ${offset}` : ''}`;
  expectClose(onGpu[0], onCpu[0], forward, `${label}: y`);
  expectClose(onGpu[1], onCpu[1], dx, `${label}: dx`);
  expectClose(
    onGpu[2],
    onCpu[2],
    dGamma.map((b) => b + 1e-5),
    `${label}: dγ`,
  );
  expectClose(onGpu[3], onCpu[3], dotBound(sumG, count), `${label}: dβ`);
  // running = 0.7·running + 0.3·batch: the batch mean's error, and count·(the variance) terms for the variance.
  const runningBound = (values: Float32Array, batch: Float64Array) =>
    Float64Array.from(
      values,
      (r, ch) => 16 * ULP * (Math.abs(r) + count * (Math.abs(batch[ch]) + variance[ch])) + 1e-6,
    );
  expectClose(onGpu[4], onCpu[4], runningBound(v.runningMean, mean), `${label}: running mean`);
  expectClose(onGpu[5], onCpu[5], runningBound(v.runningVar, variance), `${label}: running variance`);
}

const SHAPES = [
  [1, 1, 17, 33],
  [1, 3, 5, 7],
  [2, 3, 33, 3],
  [3, 1, 3, 65],
  [2, 17, 3, 1],
];

describe('batchNorm2d, GPU vs CPU', () => {
  for (const shape of SHAPES)
    for (const training of [true, false]) {
      it(`${JSON.stringify(shape)} ${training ? 'training' : 'eval'}`, () => check({ shape, training }));
    }
  it('[2,3,17,17] training, offset 1e3: two-pass statistics', () =>
    check({ shape: [2, 3, 17, 17], training: true, offset: 1e3 }));
});

describe('batchNorm2d kernels, replay and determinism on the GPU', () => {
  const shape = [2, 3, 5, 5];
  const xs = f32(randomArray(150, rng(8)));

  it('the trace shows the statistics, the forward, the fused dx and the running update', async () => {
    const x = gpu.tensor(xs, shape, { requiresGrad: true });
    const gamma = gpu.ones([3]);
    const runningMean = gpu.zeros([3]);
    const runningVar = gpu.ones([3]);
    const { dispatches } = await gpu.trace(() =>
      gpu.grad(gpu.sum(gpu.batchNorm2d(x, gamma, null, runningMean, runningVar)), [x]),
    );
    const names = dispatches.map((d) => d.kernel).filter((k) => k.startsWith('batch_norm'));
    expect(names).toEqual([
      'batch_norm_statistics',
      'batch_norm_forward',
      'batch_norm_running_update',
      'batch_norm_scaled_normalized',
      'batch_norm_backward',
    ]);
  });

  it('a compiled step replays the running update: the same values as eager steps, step after step', async () => {
    const runSteps = async (compiled: boolean) => {
      const runningMean = gpu.zeros([3]);
      const runningVar = gpu.ones([3]);
      const gamma = gpu.tensor([1, 2, 3], [3], { requiresGrad: true });
      const body = async (x: Tensor) => {
        const [dGamma] = await gpu.grad(gpu.sum(gpu.square(gpu.batchNorm2d(x, gamma, null, runningMean, runningVar))), [
          gamma,
        ]);
        return dGamma;
      };
      const step = compiled ? gpu.compile(body) : body;
      const outputs: Float64Array[] = [];
      for (let i = 0; i < 3; i++) {
        const x = gpu.tensor(
          xs.map((v) => v * (i + 1) + i),
          shape,
        );
        outputs.push(await read(await step(x)));
      }
      return [...outputs, await read(runningMean), await read(runningVar)];
    };
    const eager = await runSteps(false);
    const compiled = await runSteps(true);
    eager.forEach((values, i) => expectBitEqual(compiled[i], values, `output ${i}`));
  });

  it('the backward is bit-identical on two runs', async () => {
    const grads = async () => {
      const x = gpu.tensor(xs, shape, { requiresGrad: true });
      const gamma = gpu.tensor([0.5, 1, 2], [3], { requiresGrad: true });
      const y = gpu.batchNorm2d(x, gamma, gpu.zeros([3]), null, null);
      const g = gpu.tensor(f32(randomArray(150, rng(3))), shape);
      return Promise.all((await gpu.grad(gpu.sum(gpu.mul(y, g)), [x, gamma])).map(read));
    };
    const [first, second] = [await grads(), await grads()];
    first.forEach((values, i) => expectBitEqual(second[i], values, `gradient ${i}`));
  });

  it('a batchNorm2d → maxPool2d → flatten → linear model gets the same gradients on both backends from one seed', async () => {
    const gradients = async (rt: Runtime) => {
      rt.nn.manualSeed(11);
      const model = rt.nn.sequential([
        rt.nn.batchNorm2d(3),
        rt.nn.maxPool2d(2),
        rt.nn.avgPool2d(3, { stride: 1, padding: 1 }),
        rt.nn.flatten(),
        rt.nn.linear(12, 4),
      ]);
      const x = rt.tensor(f32(randomArray(2 * 3 * 5 * 4, rng(12), -2, 3)), [2, 3, 5, 4]);
      const loss = rt.softmaxCrossEntropy(model.forward(x), [1, 3]);
      const grads = await rt.grad(loss, model.params());
      return {
        grads: await Promise.all(grads.map(read)),
        buffers: await Promise.all(Object.values(model.namedBuffers()).map(read)),
      };
    };
    const [onGpu, onCpu] = [await gradients(gpu), await gradients(cpu)];
    onCpu.grads.forEach((values, i) => expectClose(onGpu.grads[i], values, 1e-4, `gradient ${i}`));
    onCpu.buffers.forEach((values, i) => expectClose(onGpu.buffers[i], values, 1e-5, `buffer ${i}`));
  });

  it('memory stays flat over 60 compiled training steps of batchNorm2d → maxPool2d → linear with SGD', async () => {
    gpu.nn.manualSeed(5);
    const model = gpu.nn.sequential([
      gpu.nn.batchNorm2d(3),
      gpu.nn.maxPool2d(2),
      gpu.nn.flatten(),
      gpu.nn.linear(12, 2),
    ]);
    const opt = gpu.optim.sgd({ lr: 0.05 });
    const step = gpu.compile(async (x: Tensor) => {
      const loss = gpu.softmaxCrossEntropy(model.forward(x), [0, 1]);
      opt.step(model.params(), await gpu.grad(loss, model.params()));
      return loss;
    });
    const xs = f32(randomArray(2 * 3 * 4 * 4, rng(6)));
    let baseline = gpu.memory();
    const losses: number[] = [];
    for (let s = 0; s < 60; s++) {
      if (s === 5) baseline = gpu.memory();
      losses.push(await gpu.tidy(async () => (await (await step(gpu.tensor(xs, [2, 3, 4, 4]))).data())[0]));
    }
    const end = gpu.memory();
    expect(end.liveBytes).toBe(baseline.liveBytes);
    expect(end.liveTensors).toBe(baseline.liveTensors);
    expect(losses[59]).toBeLessThan(losses[0]);
    step.dispose();
    opt.dispose();
    model.dispose();
  });

  it('a channel mismatch on the GPU runtime throws and leaves it usable', async () => {
    expect(() => gpu.batchNorm2d(gpu.zeros([1, 2, 3, 3]), gpu.ones([3]), null, null, null)).toThrow(
      /batchNorm2d: gamma \[3\] must be \[2\], the channels of x \[1,2,3,3\]/,
    );
    const y = await gpu.batchNorm2d(gpu.tensor([1, 3], [2, 1, 1, 1]), null, null, null, null, { eps: 0 }).data();
    expect(Array.from(y)).toEqual([-1, 1]);
  });
});
