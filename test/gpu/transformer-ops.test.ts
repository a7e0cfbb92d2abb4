// softmax, logSoftmax, N-D cross-entropy and attention on the GPU against the float64 reference, forward and
// backward; ±1e4 logits; and the dispatch trace of attention's backward pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Tensor } from '../../src/index.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, relBound, rng } from '../helpers.js';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

/** f's value and the gradient of Σ f ⊙ R for each input, on one runtime. */
async function valueAndGrads(
  rt: Runtime,
  inputs: { data: Float32Array; shape: number[] }[],
  r: Float32Array,
  f: (xs: Tensor[]) => Tensor,
) {
  const xs = inputs.map((i) => rt.tensor(i.data, i.shape, { requiresGrad: true }));
  const y = f(xs);
  const grads = await rt.grad(rt.sum(rt.mul(y, rt.tensor(r, y.shape))), xs);
  return { y: await read(y), grads: await Promise.all(grads.map(read)) };
}

/** A bound for values computed from a line of n terms of magnitude ≲ scale: a few ulps per term. */
const lineBound = (expected: ArrayLike<number>, n: number, scale = 1) =>
  relBound(expected, 8).map((b) => b + 4 * n * 2 ** -24 * scale);

describe('softmax and logSoftmax on the GPU', () => {
  // Ragged line lengths and layouts: the axis first, in the middle and last.
  const cases: [number[], number][] = [
    [[1], -1],
    [[3, 17], -1],
    [[33, 3], 0],
    [[2, 65, 3], 1],
    [[17, 5, 2], -1],
    [[3, 1, 33], 0],
  ];
  for (const log of [false, true]) {
    for (const [shape, axis] of cases) {
      it(`${log ? 'logSoftmax' : 'softmax'} [${shape}] axis ${axis}, forward and backward`, async () => {
        const random = rng(size(shape) + axis + (log ? 5 : 0));
        const x = f32(randomArray(size(shape), random, -4, 4));
        const r = f32(randomArray(size(shape), random));
        const f = (rt: Runtime) => (xs: Tensor[]) => (log ? rt.logSoftmax(xs[0], axis) : rt.softmax(xs[0], axis));
        const traced = await gpu.trace(() => valueAndGrads(gpu, [{ data: x, shape }], r, f(gpu)));
        const got = traced.value;
        const ref = await valueAndGrads(cpu, [{ data: x, shape }], r, f(cpu));
        // One fused kernel each way, along the axis in place.
        const kernels = traced.dispatches.filter((d) => d.op.startsWith('softmax')).map((d) => d.kernel);
        expect(kernels).toEqual(log ? ['log_softmax', 'log_softmax_grad'] : ['softmax', 'softmax_grad']);
        for (const d of traced.dispatches) expect(d.op).not.toMatch(/transpose|permute|copy/);
        const n = shape[axis < 0 ? shape.length + axis : axis];
        expectClose(got.y, ref.y, lineBound(ref.y, n, 4), 'forward');
        expectClose(got.grads[0], ref.grads[0], lineBound(ref.grads[0], n, 4), 'backward');
      });
    }
  }

  it('±1e4 logits: finite and equal to the reference', async () => {
    const values = [1e4, 1e4 - 1, -1e4, -1e4, -1e4 + 2, -1e4 - 3, 1e4, -1e4, 0];
    for (const log of [false, true]) {
      const run = async (rt: Runtime) =>
        read(log ? rt.logSoftmax(rt.tensor(values, [3, 3])) : rt.softmax(rt.tensor(values, [3, 3])));
      const got = await run(gpu);
      for (const v of got) expect(Number.isFinite(v)).toBe(true);
      expectClose(got, await run(cpu), lineBound(await run(cpu), 3), log ? 'logSoftmax' : 'softmax');
    }
  });
});

describe('softmaxCrossEntropy on N-D logits on the GPU', () => {
  const shapes: number[][] = [
    [2, 3, 5],
    [17, 3],
    [3, 1, 65],
  ];
  for (const shape of shapes) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      it(`[${shape}] with ignoreIndex −100, reduction ${reduction}, labels as an array and as a tensor`, async () => {
        const random = rng(size(shape) + reduction.length);
        const classes = shape[shape.length - 1];
        const positions = shape.slice(0, -1);
        const x = f32(randomArray(size(shape), random, -5, 5));
        const labels = Array.from({ length: size(positions) }, (_, i) => (i % 3 === 1 ? -100 : (i * 7) % classes));
        const r = f32(randomArray(reduction === 'none' ? size(positions) : 1, random));
        const options = { ignoreIndex: -100, reduction };
        for (const asTensor of [false, true]) {
          const f = (rt: Runtime) => (xs: Tensor[]) =>
            rt.softmaxCrossEntropy(xs[0], asTensor ? rt.tensor(labels, positions) : labels, options);
          const got = await valueAndGrads(gpu, [{ data: x, shape }], r, f(gpu));
          const ref = await valueAndGrads(cpu, [{ data: x, shape }], r, f(cpu));
          const terms = reduction === 'none' ? classes : classes * size(positions);
          expectClose(got.y, ref.y, lineBound(ref.y, terms, 10), `loss, tensor labels ${asTensor}`);
          expectClose(
            got.grads[0],
            ref.grads[0],
            lineBound(ref.grads[0], classes, 1),
            `gradient, tensor labels ${asTensor}`,
          );
        }
      });
    }
  }

  it('±1e4 logits give finite losses and gradients', async () => {
    const x = [1e4, -1e4, 0, -1e4, 1e4, 1e4 - 1];
    const run = async (rt: Runtime) => {
      const logits = rt.tensor(x, [2, 3], { requiresGrad: true });
      const loss = rt.softmaxCrossEntropy(logits, [1, 2], { reduction: 'none' });
      const [g] = await rt.grad(rt.sum(loss), [logits]);
      return { loss: await read(loss), g: await read(g) };
    };
    const got = await run(gpu);
    const ref = await run(cpu);
    expectClose(got.loss, ref.loss, relBound(ref.loss, 8, 1e-4), 'loss');
    expectClose(got.g, ref.g, 1e-6, 'gradient');
  });
});

describe('attention on the GPU', () => {
  // T < S, so that causal's offset S − T shows; a fully hidden row (T > S) would be NaN, as in PyTorch.
  const [batch, heads, t, s, d] = [2, 2, 3, 5, 4];
  const qShape = [batch, heads, t, d];
  const kvShape = [batch, heads, s, d];

  async function run(
    rt: Runtime,
    options: { causal?: boolean; masked?: boolean },
    data: Float32Array[],
    trace = false,
    square = false,
  ) {
    const [q, k, v, r, mask] = data;
    const [qShape, kvShape] = square
      ? [
          [batch, heads, s, d],
          [batch, heads, s, d],
        ]
      : [
          [batch, heads, t, d],
          [batch, heads, s, d],
        ];
    const inputs = [
      { data: q, shape: qShape },
      { data: k, shape: kvShape },
      { data: v, shape: kvShape },
    ];
    const xs = inputs.map((i) => rt.tensor(i.data, i.shape, { requiresGrad: true }));
    const maskTensor = options.masked ? rt.tensor(mask, [batch, 1, qShape[2], s]) : undefined;
    const out = rt.attention(xs[0], xs[1], xs[2], { causal: options.causal, mask: maskTensor });
    const loss = rt.sum(rt.mul(out, rt.tensor(r, out.shape)));
    const traced = trace ? await rt.trace(() => rt.grad(loss, xs)) : { value: await rt.grad(loss, xs), dispatches: [] };
    return { out: await read(out), grads: await Promise.all(traced.value.map(read)), dispatches: traced.dispatches };
  }

  for (const options of [{}, { causal: true }, { masked: true }, { causal: true, masked: true }]) {
    it(`[${qShape}] over [${kvShape}] ${JSON.stringify(options)}: output and the gradients of q, k and v`, async () => {
      const random = rng(7);
      const data = [
        f32(randomArray(size(qShape), random)),
        f32(randomArray(size(kvShape), random)),
        f32(randomArray(size(kvShape), random)),
        f32(randomArray(batch * heads * t * d, random)),
        f32(randomArray(batch * t * s, random, -2, 2)),
      ];
      const got = await run(gpu, options, data);
      const ref = await run(cpu, options, data);
      // Products of length D and S, a softmax of S terms between them; inputs of magnitude ≤ 1 (mask ≤ 2).
      const bound = 1e-5 + 64 * (d + s) * 2 ** -24 * 4;
      expectClose(got.out, ref.out, bound, 'output');
      ['dQ', 'dK', 'dV'].forEach((name, i) => expectClose(got.grads[i], ref.grads[i], bound * 4, name));
    });
  }

  it('the backward pass on [2,2,5,4]: batched transposed products and the fused softmax gradient, nothing permuted or copied', async () => {
    const random = rng(11);
    const n = batch * heads * s * d;
    const data = [n, n, n, n, batch * s * s].map((count) => f32(randomArray(count, random)));
    const { dispatches } = await run(gpu, { causal: true }, data, true, true);
    const ops = dispatches.map((x) => x.op).filter((op) => op !== 'poison');
    for (const op of ops) expect(['matmul', 'softmaxGrad', 'scale', 'mul', 'broadcastTo', 'fill']).toContain(op);
    for (const x of dispatches) expect(`${x.op} ${x.kernel}`).not.toMatch(/transpose|permute|copy/);
    const products = dispatches.filter((x) => x.op === 'matmul');
    const flags = products.map((x) => x.kernel.slice(-2)).sort();
    // dP = dO·Vᵀ (nt), dV = Pᵀ·dO (tn), dQ = dS·K (nn), dK = dSᵀ·Q (tn): one batched dispatch each.
    expect(flags).toEqual(['nn', 'nt', 'tn', 'tn']);
    for (const p of products) expect(p.detail.batch).toBe(batch * heads);
    expect(dispatches.filter((x) => x.op === 'softmaxGrad')).toHaveLength(1);
  });
});

describe('errors on the GPU runtime', () => {
  it('name the op and the shapes, record nothing, and leave the runtime usable', async () => {
    const [a, b, q, k, v, x] = [
      [2, 3, 4],
      [3, 4, 5],
      [2, 3, 4],
      [2, 5, 3],
      [2, 5, 4],
      [2, 2, 3],
    ].map((shape) => gpu.zeros(shape));
    const before = gpu.stats().dispatches;
    expect(() => gpu.matmul(a, b)).toThrow(/matmul: batch dimensions do not broadcast: A \[2,3,4\] · B \[3,4,5\]/);
    expect(() => gpu.attention(q, k, v)).toThrow(/attention: head dimensions differ: q \[2,3,4\], k \[2,5,3\]/);
    expect(() => gpu.softmax(x, 3)).toThrow(/softmax: axis 3 is out of range for shape \[2,2,3\]/);
    expect(() => gpu.softmaxCrossEntropy(x, [0, 1, 2])).toThrow(
      /softmaxCrossEntropy: 3 class indices \[3\] for 4 positions \[2,2\]/,
    );
    expect(gpu.stats().dispatches).toBe(before);
    const out = await read(gpu.matmul(gpu.tensor([1, 2, 3, 4], [2, 1, 2]), gpu.tensor([1, 1], [2, 1])));
    expect(Array.from(out)).toEqual([3, 7]);
  });
});
