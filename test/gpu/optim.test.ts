import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, expectBitEqual, expectClose, f32, gpuRuntime, randomArray, read, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

const ULP = 2 ** -24;
// Ragged sizes around the 64-wide workgroup, a matrix, and sizes that are a multiple of 4 (updated as vec4s: 4, 68
// and a matrix of 4·65 floats, one vec4 past a 64-wide workgroup).
const SHAPES = [[1], [3], [65], [17, 33], [4], [4, 17], [65, 4]];

type MakeOptimizer = (rt: Runtime) => { step(p: Tensor[], g: Tensor[]): void; stateOf(p: Tensor): readonly Tensor[] };

const OPTIMIZERS: [string, MakeOptimizer][] = [
  ['sgd', (rt) => rt.optim.sgd({ lr: 0.1 })],
  ['sgd momentum + weight decay', (rt) => rt.optim.sgd({ lr: 0.05, momentum: 0.9, weightDecay: 0.01 })],
  ['adam', (rt) => rt.optim.adam({ lr: 0.01 })],
  ['adamw', (rt) => rt.optim.adam({ lr: 0.02, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 })],
];

const kernelOf = (name: string) =>
  name.startsWith('adam') ? 'adam' : name.includes('momentum') ? 'sgd_momentum' : 'sgd';

describe('optimizer kernels on the GPU against the float64 reference, over several steps', () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: one in-place kernel per parameter, parameters and state match`, async () => {
      const random = rng(name.length * 31);
      const inits = SHAPES.map((s) =>
        f32(
          randomArray(
            s.reduce((a, b) => a * b, 1),
            random,
          ),
        ),
      );
      const gp = SHAPES.map((s, i) => gpu.tensor(inits[i], s, { requiresGrad: true }));
      const cp = SHAPES.map((s, i) => cpu.tensor(inits[i], s, { requiresGrad: true }));
      const buffers = gp.map((p) => p.storage as { buffer: GPUBuffer } | null);
      const gOpt = make(gpu);
      const cOpt = make(cpu);
      const steps = 5;
      for (let step = 0; step < steps; step++) {
        // Gradients away from zero, so that Adam's 1/√v does not amplify rounding.
        const grads = SHAPES.map((s) =>
          f32(
            randomArray(
              s.reduce((a, b) => a * b, 1),
              random,
              0.1,
              1,
            ).map((v, i) => (i % 2 ? v : -v)),
          ),
        );
        const { dispatches } = await gpu.trace(() =>
          gOpt.step(
            gp,
            SHAPES.map((s, i) => gpu.tensor(grads[i], s)),
          ),
        );
        // A step is exactly one update kernel per parameter (Adam then counts the step on the device, once).
        const expected = SHAPES.map(() => kernelOf(name));
        expect(dispatches.map((d) => d.kernel)).toEqual(
          name.startsWith('adam') ? [...expected, 'count_step'] : expected,
        );
        expect(dispatches.slice(0, SHAPES.length).map((d) => d.detail.perInvocation)).toEqual(
          SHAPES.map((s) => (s.reduce((a, b) => a * b, 1) % 4 === 0 ? 4 : 1)),
        );
        cOpt.step(
          cp,
          SHAPES.map((s, i) => cpu.tensor(grads[i], s)),
        );
      }
      // Identity, not toEqual: a GPUBuffer has no own enumerable keys, so any two buffers compare deeply equal.
      gp.forEach((p, i) => {
        expect(p.storage, `parameter ${i} storage`).toBe(buffers[i]);
        expect((p.storage as { buffer: GPUBuffer }).buffer, `parameter ${i} buffer`).toBe(buffers[i]!.buffer);
      });
      for (let i = 0; i < SHAPES.length; i++) {
        const ref = await read(cp[i]);
        // A few float32 roundings per step, of the parameter and of the step size.
        const bound = Float64Array.from(ref, (v) => 1e-6 + 16 * steps * ULP * (Math.abs(v) + 1));
        expectClose(await read(gp[i]), ref, bound, `${name} parameter ${i}`);
        const gState = gOpt.stateOf(gp[i]);
        const cState = cOpt.stateOf(cp[i]);
        expect(gState.length).toBe(cState.length);
        for (let s = 0; s < gState.length; s++) {
          const sRef = await read(cState[s]);
          expectClose(
            await read(gState[s]),
            sRef,
            Float64Array.from(sRef, (v) => 1e-7 + 16 * steps * ULP * Math.abs(v)),
            `${name} state ${s} of ${i}`,
          );
        }
      }
    });
  }

  it('a small MLP trained on both backends with Adam stays together', async () => {
    const random = rng(5);
    const x = f32(randomArray(32 * 2, random));
    const labels = Array.from({ length: 32 }, (_, i) => (x[2 * i] * x[2 * i + 1] > 0 ? 1 : 0));
    const run = async (rt: Runtime) => {
      rt.nn.manualSeed(3);
      const model = rt.nn.mlp([2, 16, 2], 'tanh');
      const opt = rt.optim.adam({ lr: 0.01 });
      const input = rt.tensor(x, [32, 2]);
      const vg = rt.valueAndGrad(() => rt.softmaxCrossEntropy(model.forward(input), labels));
      const losses: number[] = [];
      for (let step = 0; step < 10; step++) {
        const { value, grads } = await vg(model.params());
        opt.step(model.params(), grads);
        losses.push((await value.data())[0]);
        [value, ...grads].forEach((t) => t.dispose());
      }
      return { losses, weights: await Promise.all(model.params().map((p) => read(p))) };
    };
    const g = await run(gpu);
    const c = await run(cpu);
    expectClose(g.losses, c.losses, 1e-4, 'losses');
    g.weights.forEach((w, i) => expectClose(w, c.weights[i], 1e-4, `parameter ${i}`));
  });
});

describe('optimizers inside rt.compile', () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: replayed steps equal eager steps bit for bit (state made while recording is not reset)`, async () => {
      const random = rng(77);
      const x = f32(randomArray(16 * 3, random));
      const labels = f32(Array.from({ length: 16 }, (_, i) => i % 3));
      const run = async (rt: Runtime, compiled: boolean) => {
        rt.nn.manualSeed(11);
        const model = rt.nn.mlp([3, 8, 3], 'tanh');
        const opt = make(rt);
        const vg = rt.valueAndGrad((_p, input: Tensor, y: Tensor) => rt.softmaxCrossEntropy(model.forward(input), y));
        const eager = async (input: Tensor, y: Tensor) => {
          const { value, grads } = await vg(model.params(), input, y);
          opt.step(model.params(), grads);
          grads.forEach((g) => g.dispose());
          return value;
        };
        const step = compiled ? rt.compile(eager) : eager;
        const losses: number[] = [];
        for (let i = 0; i < 6; i++) {
          const value = await step(rt.tensor(x, [16, 3]), rt.tensor(labels, [16]));
          losses.push((await value.data())[0]);
          value.dispose();
        }
        return { losses, params: await Promise.all(model.params().map((p) => read(p))) };
      };
      const eager = await run(gpu, false);
      const replayed = await run(gpu, true);
      // Bit equality alone passes when both paths are NaN (an op that wrote nothing, under the poison) or equally
      // wrong, so the eager path is also held to the float64 reference.
      const reference = await run(cpu, false);
      expectClose(eager.losses, reference.losses, 1e-4, 'eager losses');
      eager.params.forEach((p, i) => expectClose(p, reference.params[i], 1e-4, `eager parameter ${i}`));
      expect(reference.losses[5]).toBeLessThan(reference.losses[0]);
      expectBitEqual(replayed.losses, eager.losses, 'replayed losses');
      replayed.params.forEach((p, i) => expectBitEqual(p, eager.params[i], `replayed parameter ${i}`));
    });
  }
});
