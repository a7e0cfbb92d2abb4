import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import { addOp } from '../../src/ops/elementwise.js';
import type { InPlaceKernelDef } from '../../src/core/kernel.js';

let rt: Runtime;
let other: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ backend: 'webgpu' });
  other = await createRuntime({ backend: 'webgpu' });
});
afterAll(() => {
  rt?.destroy();
  other?.destroy();
});

/** The runtime still computes, and the failed call left no tensor or byte behind. */
async function expectUsable(before: { liveTensors: number; liveBytes: number }) {
  expect(rt.memory().liveTensors).toBe(before.liveTensors);
  expect(rt.memory().liveBytes).toBe(before.liveBytes);
  const t = rt.tidy(() => rt.add(rt.tensor([1, 2], [2]), 1));
  expect(Array.from(await t.data())).toEqual([2, 3]);
  t.dispose();
}

describe('bad input on the GPU runtime: a clear error at the call, and the runtime stays usable', () => {
  const a = () => rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const cases: [string, () => unknown, RegExp][] = [
    ['wrong data length', () => rt.tensor([1, 2, 3], [2, 2]), /tensor: 3 values do not fill shape \[2,2\]/],
    [
      'a zero dimension',
      () => rt.tensor([], [0, 3]),
      /dimension 0 of shape \[0,3\] is 0; dimensions must be positive integers/,
    ],
    ['a negative dimension', () => rt.zeros([2, -1]), /dimension 1 of shape \[2,-1\] is -1/],
    ['a non-integer dimension', () => rt.ones([1.5]), /dimension 0 of shape \[1.5\] is 1.5/],
    [
      'non-broadcastable shapes',
      () => rt.add(a(), rt.tensor([1, 2], [2])),
      /add: shapes \[2,3\] and \[2\] do not broadcast/,
    ],
    [
      'a matmul dimension mismatch',
      () => rt.matmul(a(), a()),
      /matmul: inner dimensions differ: A \[2,3\] · B \[2,3\]: 3 ≠ 2/,
    ],
    [
      'a disposed tensor',
      () => {
        const t = a();
        t.dispose();
        return rt.relu(t);
      },
      /relu: tensor \[2,3\] was disposed/,
    ],
    [
      'a tensor from another runtime',
      () => rt.mul(a(), other.tensor([1, 2, 3, 4, 5, 6], [2, 3])),
      /mul: tensor \[2,3\] belongs to another runtime/,
    ],
  ];
  for (const [what, call, message] of cases) {
    it(what, async () => {
      const before = rt.memory();
      expect(() => rt.tidy(call)).toThrow(message);
      await expectUsable(before);
    });
  }

  it('the gradient of a non-scalar', async () => {
    const before = rt.memory();
    await expect(
      rt.tidy(async () => {
        const w = rt.tensor([1, 2], [2], { requiresGrad: true });
        return rt.grad(rt.scale(w, 2), [w]);
      }),
    ).rejects.toThrow(/grad: the loss must be a scalar \(one element\), got shape \[2\]/);
    await expectUsable(before);
  });

  it('a result larger than the device can bind is refused before anything is dispatched', async () => {
    const before = rt.memory();
    const submissions = rt.stats().submissions;
    expect(() => rt.zeros([70000, 70000])).toThrow(
      /fill: a result of shape \[70000,70000\] needs 19600000000 bytes; this device binds at most \d+/,
    );
    expect(() => rt.tidy(() => rt.matmul(rt.zeros([100000, 1]), rt.zeros([1, 100000])))).toThrow(
      /matmul: a result of shape \[100000,100000\] needs 40000000000 bytes/,
    );
    expect(rt.stats().submissions).toBe(submissions);
    await expectUsable(before);
  });
});

describe('values and failures inside the GPU', () => {
  it('NaN and ±Inf inputs compute without crashing', async () => {
    const x = rt.tensor([NaN, Infinity, -Infinity, 1], [2, 2]);
    // WGSL leaves max(NaN, 0) to the implementation: only the defined elements are checked.
    expect(Array.from(await rt.relu(x).data()).slice(1)).toEqual([Infinity, 0, 1]);
    const e = await rt.exp(x).data();
    expect([e[1], e[2]]).toEqual([Infinity, 0]);
    expect(e[3]).toBeCloseTo(Math.E, 5);
    expect(Number.isNaN((await rt.sum(x).data())[0])).toBe(true);
    // [[NaN, ∞], [−∞, 1]]²: every element but the last meets the NaN; the last is −∞·∞ + 1·1 = −∞.
    const product = await rt.matmul(x, x).data();
    expect(Array.from(product.slice(0, 3)).some(Number.isFinite), `product ${Array.from(product)}`).toBe(false);
    expect(product[3]).toBe(-Infinity);
    const loss = await rt.softmaxCrossEntropy(x, rt.tensor([1, 0, 0, 1], [2, 2])).data();
    expect(Number.isFinite(loss[0]), `loss ${loss[0]}`).toBe(false);
    // A logit of −1e30 is a probability of exactly 0 in float32: no loss on the other class, and 1e30 on its own.
    const tiny = rt.tensor([-1e30, 0], [1, 2]);
    expect(Array.from(await rt.softmaxCrossEntropy(tiny, [1]).data())).toEqual([0]);
    expect(Array.from(await rt.softmaxCrossEntropy(tiny, [0]).data())).toEqual([Math.fround(1e30)]);
    // A −∞ logit is a masked class: it costs nothing where its label weight is 0 (not 0·−∞ = NaN), and ∞ where the
    // label is on it; the same on the CPU reference.
    const cpu = await createRuntime({ backend: 'cpu' });
    for (const runtime of [rt, cpu]) {
      const masked = runtime.tensor([-Infinity, 0, 2, -Infinity], [2, 2]);
      expect(Array.from(await runtime.softmaxCrossEntropy(masked, [1, 0], { reduction: 'none' }).data())).toEqual([
        0, 0,
      ]);
      expect(Array.from(await runtime.softmaxCrossEntropy(masked, [0, 0], { reduction: 'none' }).data())).toEqual([
        Infinity,
        0,
      ]);
    }
    x.dispose();
  });

  it('checkNumerics names the first op whose output holds NaN or Inf', async () => {
    rt.debug = { checkNumerics: true };
    try {
      const x = rt.tensor([1, 2, 3], [3]);
      const big = rt.scale(rt.add(x, 1), 1e30); // fine: up to 4e30
      const y = rt.exp(rt.mul(big, big)); // mul overflows float32 to Inf; exp of it is Inf too
      await expect(y.data()).rejects.toThrow(
        /checkNumerics: mul \[3\] · \[3\] → \[3\] is the first op whose output holds NaN or Inf/,
      );
      // Clean work after it passes the check.
      expect(Array.from(await rt.add(x, 1).data())).toEqual([2, 3, 4]);
      x.dispose();
    } finally {
      rt.debug = {};
    }
  });

  it('a WebGPU validation error becomes an Error naming the op and its shapes, and the work after it runs', async () => {
    // An in-place op that binds one buffer as both input and output: WebGPU forbids the aliasing.
    const aliased: InPlaceKernelDef<undefined> = {
      name: 'aliasedAdd',
      check: () => undefined,
      cpu: () => undefined,
      gpu: (gpu, [x]) => addOp.gpu(gpu, [x, x], undefined, x),
    };
    const x = rt.tensor([1, 2, 3], [3]);
    const fine = rt.scale(x, 2);
    (rt.backend as WebGpuBackend).runInPlace(aliased, [{ storage: x.storage!, shape: x.shape }], undefined);
    await expect(fine.data()).rejects.toThrow(/aliasedAdd \[3\] → \[3\] \(kernel add\): WebGPU validation error/);
    expect(Array.from(await fine.data())).toEqual([2, 4, 6]);
    expect(Array.from(await rt.add(x, 1).data())).toEqual([2, 3, 4]);
    x.dispose();
    fine.dispose();
  });
});

describe('device loss', () => {
  it('rt.lost resolves with the reason; in-flight and later calls reject clearly; a fresh runtime works', async () => {
    const doomed = await createRuntime({ backend: 'webgpu' });
    const x = doomed.tensor([1, 2, 3], [3]);
    await x.data();
    const queued = doomed.relu(doomed.add(x, 1)).data(); // not yet submitted when the device goes
    const big = doomed.matmul(doomed.ones([256, 256]), doomed.ones([256, 256]));
    const submitted = big.data();
    await doomed.flush(); // submitted, its readback waiting for the GPU
    (doomed.backend as WebGpuBackend).device.destroy();
    await expect(queued).rejects.toThrow();
    await expect(submitted).rejects.toThrow();
    const info = await doomed.lost;
    expect(info.reason).toBe('destroyed');
    expect(() => doomed.tensor([1], [1])).toThrow(/tensor: the GPU device was lost \(destroyed.*\).*createRuntime/);
    expect(() => doomed.relu(x)).toThrow(/relu: the GPU device was lost/);
    await expect(x.data()).rejects.toThrow(/data: the GPU device was lost/);
    await expect(doomed.sync()).rejects.toThrow(/the GPU device was lost/);

    const fresh = await createRuntime({ backend: 'webgpu' });
    expect(Array.from(await fresh.add(fresh.tensor([1, 2, 3], [3]), 1).data())).toEqual([2, 3, 4]);
    fresh.destroy();
    // The runtimes in use elsewhere were not touched.
    expect(Array.from(await rt.scale(rt.tensor([1], [1]), 3).data())).toEqual([3]);
  });
});

describe('two runtimes in one page', () => {
  it('interleaved work, compiled and eager, gives each its own results; destroying one leaves the other working', async () => {
    const a = await createRuntime({ backend: 'webgpu' });
    const b = await createRuntime({ backend: 'webgpu' });
    const wa = a.tensor([1, 2, 3, 4], [2, 2]);
    const wb = b.tensor([4, 3, 2, 1], [2, 2]);
    const stepA = a.compile((x) => a.matmul(x, wa));
    const results: Promise<Float32Array>[] = [];
    for (let i = 1; i <= 3; i++) {
      results.push(stepA(a.tensor([i, 0, 0, i], [2, 2])).then((t) => t.data()));
      results.push(b.matmul(b.tensor([i, 0, 0, i], [2, 2]), wb).data());
    }
    const values = (await Promise.all(results)).map((v) => Array.from(v));
    for (let i = 1; i <= 3; i++) {
      expect(values[2 * (i - 1)]).toEqual([1, 2, 3, 4].map((v) => v * i));
      expect(values[2 * (i - 1) + 1]).toEqual([4, 3, 2, 1].map((v) => v * i));
    }
    expect(() => a.add(wa, wb)).toThrow(/belongs to another runtime/);
    b.destroy();
    expect(Array.from(await (await stepA(a.tensor([1, 0, 0, 1], [2, 2]))).data())).toEqual([1, 2, 3, 4]);
    a.destroy();
  });
});
