// rt.nn.embedding, multiHeadAttention, transformerBlock and N-D nn.linear on the GPU against the float64 CPU
// reference, over ragged sequence lengths, with poisoned outputs: forward values and every parameter gradient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Module, Runtime } from '../../src/index.js';
import { cpuRuntime, expectClose, f32, gpuRuntime, randomArray, read, rng } from '../helpers.js';

const ULP = 2 ** -24;

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu?.destroy());

/** Gives every 1-D parameter (norms, biases) the same random float32 values on both runtimes. */
function randomizeVectors(rt: Runtime, module: Module, seed: number) {
  const random = rng(seed);
  for (const p of module.params().filter((t) => t.rank === 1))
    rt.assign(p, rt.tensor(f32(randomArray(p.size, random)), p.shape));
}

/** The module's output and the gradients of Σ output ⊙ R with respect to the input and every parameter. */
async function run(rt: Runtime, module: Module, x: Float32Array, shape: number[]) {
  return rt.tidy(async () => {
    const input = rt.tensor(x, shape, { requiresGrad: true });
    const y = module.forward(input);
    const weights = rt.tensor(f32(randomArray(y.size, rng(5))), y.shape);
    const grads = await rt.grad(rt.sum(rt.mul(y, weights)), [input, ...module.params()]);
    return { y: await read(y), grads: await Promise.all(grads.map(read)) };
  });
}

/** Each result within atol + c·K·2⁻²⁴·max|ref| of the reference. */
function expectAgree(g: Float64Array, r: Float64Array, k: number, label: string) {
  expect(r.every(Number.isFinite), `${label}: the reference is finite`).toBe(true);
  const scale = Math.max(...Array.from(r, Math.abs), 1e-3);
  expectClose(g, r, 1e-6 + 8 * k * ULP * scale, label);
}

describe('nn transformer modules, GPU against the CPU reference', () => {
  for (const t of [1, 3, 17, 33]) {
    for (const [d, heads] of [
      [8, 2],
      [12, 3],
    ]) {
      it(`a causal transformer block, batch 2, T ${t}, d ${d}, ${heads} heads: output and all gradients`, async () => {
        const make = (rt: Runtime) => {
          const block = rt.nn.transformerBlock(d, heads, { causal: true, mlpRatio: 2, seed: 40 + t });
          randomizeVectors(rt, block, t);
          return block;
        };
        const [gBlock, cBlock] = [make(gpu), make(cpu)];
        const x = f32(randomArray(2 * t * d, rng(t + d)));
        const g = await run(gpu, gBlock, x, [2, t, d]);
        const r = await run(cpu, cBlock, x, [2, t, d]);
        // Sums over d features, T keys and the 2·d hidden units forward; over the 2·T positions for weights.
        const k = 2 * d + 2 * t;
        expectAgree(g.y, r.y, k, 'output');
        const names = ['x', ...Object.keys(cBlock.namedParams())];
        r.grads.forEach((ref, i) => expectAgree(g.grads[i], ref, k, `∂L/∂${names[i]}`));
        gBlock.dispose();
        cBlock.dispose();
      });
    }
  }

  it('multiHeadAttention over [T, d] without a batch, T 17, d 12, 4 heads, not causal', async () => {
    const [gMha, cMha] = [gpu, cpu].map((rt) => {
      const m = rt.nn.multiHeadAttention(12, 4, { seed: 8 });
      randomizeVectors(rt, m, 9);
      return m;
    });
    const x = f32(randomArray(17 * 12, rng(10)));
    const g = await run(gpu, gMha, x, [17, 12]);
    const r = await run(cpu, cMha, x, [17, 12]);
    expectAgree(g.y, r.y, 12 + 17, 'output');
    r.grads.forEach((ref, i) => expectAgree(g.grads[i], ref, 2 * (12 + 17), `gradient ${i}`));
  });

  it('embedding with indices in a GPU tensor, and its scatter-add gradient with repeated indices', async () => {
    const ids = [
      [3, 0, 64, 3, 3],
      [1, 64, 2, 0, 0],
    ];
    const results = await Promise.all(
      [gpu, cpu].map(async (rt) => {
        const emb = rt.nn.embedding(65, 17, { seed: 2 });
        const y = emb.forward(rt.tensor(ids));
        const weights = rt.tensor(f32(randomArray(y.size, rng(3))), y.shape);
        const [dw] = await rt.grad(rt.sum(rt.mul(y, weights)), emb.params());
        return { shape: y.shape, y: await read(y), dw: await read(dw) };
      }),
    );
    const [g, r] = results;
    expect(g.shape).toEqual([2, 5, 17]);
    expectClose(g.y, r.y, 0, 'rows');
    // Row 3 sums three products, row 0 and row 64 two or three: a few float32 roundings.
    expectAgree(g.dw, r.dw, 3, 'dW');
  });

  it('nn.linear over [3, 17, 5] with a fused gelu, and its weight gradient folded over 51 rows', async () => {
    const [gLin, cLin] = [gpu, cpu].map((rt) => {
      const l = rt.nn.linear(5, 33, { activation: 'gelu', seed: 6 });
      randomizeVectors(rt, l, 7);
      return l;
    });
    const x = f32(randomArray(3 * 17 * 5, rng(8)));
    const g = await run(gpu, gLin, x, [3, 17, 5]);
    const r = await run(cpu, cLin, x, [3, 17, 5]);
    expectAgree(g.y, r.y, 5, 'output');
    r.grads.forEach((ref, i) => expectAgree(g.grads[i], ref, 3 * 17, `gradient ${i}`));
  });
});
