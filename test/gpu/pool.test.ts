// maxPool2d and avgPool2d on the GPU against the float64 CPU reference, with poisoned outputs: ragged NCHW shapes,
// kernels 2, 3 and 2×3, strides 1 and 2, padding 1; ties (the first maximum takes the gradient); the backward is
// bit-identical from run to run; the trace names the kernels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool2dOptions, Pool2dSize, Runtime, Tensor } from '../../src/index.js';
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

type Kind = 'maxPool2d' | 'avgPool2d';

function pool(rt: Runtime, kind: Kind, x: Tensor, kernel: Pool2dSize, options: Pool2dOptions) {
  return kind === 'maxPool2d' ? rt.maxPool2d(x, kernel, options) : rt.avgPool2d(x, kernel, options);
}

/** y and dx of L = Σ pool(x)·g. */
async function run(
  rt: Runtime,
  kind: Kind,
  xs: Float32Array,
  shape: number[],
  gs: Float32Array | null,
  kernel: Pool2dSize,
  options: Pool2dOptions,
) {
  const x = rt.tensor(xs, shape, { requiresGrad: true });
  const y = pool(rt, kind, x, kernel, options);
  const g = gs ?? f32(randomArray(y.size, rng(y.size)));
  const [dx] = await rt.grad(rt.sum(rt.mul(y, rt.tensor(g, y.shape))), [x]);
  return { y: await read(y), dx: await read(dx), g };
}

/** A window covers at most ⌈k/s⌉ outputs along an axis: the number of float32 terms in one dx element. */
const covering = (k: number, s: number) => Math.ceil(k / s);

async function check(kind: Kind, shape: number[], kernel: Pool2dSize, options: Pool2dOptions) {
  const label = `${kind} ${JSON.stringify(shape)} kernel ${JSON.stringify(kernel)} ${JSON.stringify(options)}`;
  const xs = f32(
    randomArray(
      shape.reduce((a, b) => a * b, 1),
      rng(shape.join('').length * 7 + shape[3]),
    ),
  );
  const onCpu = await run(cpu, kind, xs, shape, null, kernel, options);
  const onGpu = await run(gpu, kind, xs, shape, onCpu.g, kernel, options);
  const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  const stride = options.stride ?? kernel;
  const [sh, sw] = typeof stride === 'number' ? [stride, stride] : stride;
  // Bounds from the same ops on magnitudes: Σ|x|/area per window, and Σ|g| per input element.
  const magnitudes = await run(cpu, kind, xs.map(Math.abs), shape, onCpu.g.map(Math.abs), kernel, options);
  if (kind === 'maxPool2d') expectBitEqual(onGpu.y, onCpu.y, `${label}: y (a selection, exact)`);
  else expectClose(onGpu.y, onCpu.y, dotBound(magnitudes.y, kh * kw), `${label}: y`);
  const terms = covering(kh, sh) * covering(kw, sw);
  // For max, the magnitudes' maxima may sit elsewhere; Σ|g| over every covering window bounds either way.
  const gBound =
    kind === 'maxPool2d'
      ? (await run(cpu, 'avgPool2d', xs, shape, onCpu.g.map(Math.abs), kernel, options)).dx.map((v) => v * kh * kw)
      : magnitudes.dx;
  expectClose(onGpu.dx, onCpu.dx, dotBound(gBound, terms), `${label}: dx`);
}

const CONFIGS: { kernel: Pool2dSize; options: Pool2dOptions }[] = [
  { kernel: 2, options: {} },
  { kernel: 2, options: { stride: 1 } },
  { kernel: 3, options: { stride: 2, padding: 1 } },
  { kernel: 3, options: { stride: 1, padding: 1 } },
  { kernel: [2, 3], options: { stride: [1, 2], padding: [1, 1] } },
];
const SHAPES = [
  [1, 1, 17, 33],
  [1, 3, 5, 7],
  [2, 3, 33, 3],
  [3, 1, 3, 65],
];

describe('pooling, GPU vs CPU', () => {
  for (const kind of ['maxPool2d', 'avgPool2d'] as const)
    for (const { kernel, options } of CONFIGS)
      for (const shape of SHAPES) {
        it(`${kind} ${JSON.stringify(shape)} kernel ${JSON.stringify(kernel)} ${JSON.stringify(options)}`, () =>
          check(kind, shape, kernel, options));
      }
});

describe('max pooling ties and determinism on the GPU', () => {
  it('ties: values from {0, 1, 2} send each window gradient to its first maximum, as on the CPU', async () => {
    const shape = [2, 3, 9, 11];
    const random = rng(5);
    const xs = Float32Array.from({ length: 2 * 3 * 9 * 11 }, () => Math.floor(random() * 3));
    for (const options of [{}, { stride: 1, padding: 1 }] as Pool2dOptions[]) {
      const onCpu = await run(cpu, 'maxPool2d', xs, shape, null, 3, options);
      const onGpu = await run(gpu, 'maxPool2d', xs, shape, onCpu.g, 3, options);
      expectBitEqual(onGpu.y, onCpu.y, `ties ${JSON.stringify(options)}: y`);
      // Each dx element sums few float32 terms; an element that took a wrong window would be off by a whole g.
      expectClose(onGpu.dx, onCpu.dx, 1e-5, `ties ${JSON.stringify(options)}: dx`);
    }
  });

  it('the backward is bit-identical on two runs (overlapping windows, no atomics)', async () => {
    const shape = [2, 3, 17, 17];
    const xs = f32(randomArray(2 * 3 * 17 * 17, rng(9)));
    for (const kind of ['maxPool2d', 'avgPool2d'] as const) {
      const first = await run(gpu, kind, xs, shape, null, 3, { stride: 1, padding: 1 });
      const second = await run(gpu, kind, xs, shape, first.g, 3, { stride: 1, padding: 1 });
      expectBitEqual(second.dx, first.dx, `${kind} dx`);
    }
  });

  it('the trace names one forward and one backward kernel per pooling', async () => {
    const x = gpu.tensor(f32(randomArray(2 * 3 * 5 * 5, rng(2))), [2, 3, 5, 5], { requiresGrad: true });
    const { dispatches } = await gpu.trace(() =>
      gpu.grad(gpu.sum(gpu.avgPool2d(gpu.maxPool2d(x, 3, { stride: 1, padding: 1 }), 2)), [x]),
    );
    const names = dispatches.map((d) => d.kernel).filter((k) => k.includes('pool'));
    expect(names).toEqual(['max_pool2d', 'avg_pool2d', 'avg_pool2d_backward', 'max_pool2d_backward']);
  });

  it('a bad window on the GPU runtime throws and leaves it usable', async () => {
    expect(() => gpu.maxPool2d(gpu.zeros([1, 1, 2, 2]), 3)).toThrow(/maxPool2d: the window 3×3 is larger/);
    const y = gpu.maxPool2d(gpu.tensor([1, 4, 3, 2], [1, 1, 2, 2]), 2);
    expect(Array.from(await y.data())).toEqual([4]);
  });
});
