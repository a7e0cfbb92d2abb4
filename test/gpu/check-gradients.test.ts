// checkGradients on the GPU against the CPU reference: a small MLP written as functions, and a causal transformer
// block made of modules. Both hold within the K-scaled float32 bound, and a planted difference does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, type Runtime, type Tensor } from '../../src/index.js';
import { gpuRuntime, randomArray, rng } from '../helpers.js';

let gpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
});
afterAll(() => gpu?.destroy());

const [batch, inputs, hidden, classes] = [33, 17, 65, 10];
const random = rng(11);
const x = randomArray(batch * inputs, random);
const labels = Array.from({ length: batch }, (_, i) => (i * 7) % classes);

function mlpLoss(rt: Runtime, [w1, b1, w2, b2]: Tensor[]): Tensor {
  const h = rt.relu(rt.add(rt.matmul(rt.tensor(x, [batch, inputs]), w1), b1));
  return rt.softmaxCrossEntropy(rt.add(rt.matmul(h, w2), b2), labels);
}

describe('checkGradients, GPU against the CPU reference', () => {
  it('a small MLP holds within the bound', async () => {
    const shapes = [[inputs, hidden], [hidden], [hidden, classes], [classes]];
    const params = shapes.map((s) =>
      gpu.tensor(
        randomArray(
          s.reduce((a, b) => a * b, 1),
          random,
          -0.5,
          0.5,
        ),
        s,
        { requiresGrad: true },
      ),
    );
    const report = await checkGradients(mlpLoss, params);
    for (const p of report.parameters)
      console.log(
        `mlp ${p.name} ${JSON.stringify(p.shape)}: |Δ| ${p.maxDiff.toExponential(2)} ≤ ${p.bound.toExponential(2)}`,
      );
    expect(report.reduction).toBeGreaterThanOrEqual(hidden);
    expect(report.ok).toBe(true);
    // A loss that differs on the GPU by 1e-3 in one weight is caught, and only there.
    const planted = await checkGradients(
      (rt, [w1, b1, w2, b2]) => mlpLoss(rt, [w1, b1, rt === gpu ? rt.scale(w2, 1.001) : w2, b2]),
      params,
    );
    expect(planted.parameters[2].ok).toBe(false);
    params.forEach((p) => p.dispose());
  });

  it('a causal transformer block (d 32, 4 heads, T 16, batch 2) holds within the bound', async () => {
    const [d, heads, t, b] = [32, 4, 16, 2];
    const block = gpu.nn.transformerBlock(d, heads, { causal: true });
    const input = randomArray(b * t * d, random);
    const target = randomArray(b * t * d, random);
    const report = await checkGradients((rt, p) => {
      const m = rt.nn.transformerBlock(d, heads, { causal: true });
      rt.nn.loadStateDict(m, p);
      const loss = rt.mseLoss(m.forward(rt.tensor(input, [b, t, d])), rt.tensor(target, [b, t, d]));
      return { loss, params: m.namedParams() };
    }, block.namedParams());
    for (const p of report.parameters)
      console.log(
        `block ${p.name} ${JSON.stringify(p.shape)}: |Δ| ${p.maxDiff.toExponential(2)} ≤ ${p.bound.toExponential(2)}`,
      );
    console.log(`K = ${report.reduction}`);
    // The longest true reduction is the MLP's 4·d = 128 hidden units (and B·T = 32 rows of each weight gradient).
    expect(report.reduction).toBeGreaterThanOrEqual(4 * d);
    expect(report.ok).toBe(true);
    block.dispose();
  });
});
