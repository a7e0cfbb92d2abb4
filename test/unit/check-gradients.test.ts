// checkGradients on the CPU reference against itself (it holds, with every field reported), a loss that differs
// between the runtimes (it fails, naming the parameter), the estimate of K, and bad input.
import { describe, expect, it } from 'vitest';
import { checkGradients, createRuntime, estimateReduction, type Runtime, type Tensor } from '../../src/index.js';

const xs = [0.5, -1, 2, 0.25, 1.5, -0.75];

/** A two-layer model written against whatever runtime it is given: [2,3]·[3,4] → tanh → [4,2], MSE to targets. */
function mlpLoss(rt: Runtime, [w1, b1, w2]: Tensor[]): Tensor {
  const x = rt.tensor(xs, [2, 3]);
  const h = rt.tanh(rt.add(rt.matmul(x, w1), b1));
  return rt.mseLoss(rt.matmul(h, w2), rt.tensor([1, 0, 0, 1], [2, 2]));
}

async function params(rt: Runtime) {
  return [
    rt.tensor(
      Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) / 2),
      [3, 4],
      { requiresGrad: true },
    ),
    rt.tensor([0.1, -0.2, 0.3, 0], [4], { requiresGrad: true }),
    rt.tensor(
      Array.from({ length: 8 }, (_, i) => Math.cos(i) / 2),
      [4, 2],
      { requiresGrad: true },
    ),
  ];
}

describe('checkGradients', () => {
  it('holds for the CPU reference against itself, with a report per parameter', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const p = await params(rt);
    const report = await checkGradients(mlpLoss, p);
    expect(report.ok).toBe(true);
    expect(report.parameters.map((r) => [r.name, r.shape])).toEqual([
      ['0', [3, 4]],
      ['1', [4]],
      ['2', [4, 2]],
    ]);
    for (const r of report.parameters) {
      expect(r.ok).toBe(true);
      expect(r.maxRef).toBeGreaterThan(0);
      // The reference starts from the values read back as float64: the same numbers, the same gradients.
      expect(r.maxDiff).toBe(0);
      expect(r.bound).toBeCloseTo(1e-7 + 8 * report.reduction * 2 ** -24 * r.maxRef, 15);
    }
    expect(report.loss).toBe(report.referenceLoss);
    // The longest reduction here is the products' inner size (3 or 4) or the 4-wide rows: at least 4.
    expect(report.reduction).toBeGreaterThanOrEqual(4);
    expect(report.reduction).toBeLessThanOrEqual(8);
  });

  it('takes named parameters and passes the names to the loss and to the report', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const [w1, b1, w2] = await params(rt);
    const report = await checkGradients((r, p) => mlpLoss(r, [p.w1, p.b1, p.w2]), { w1, b1, w2 }, { reduction: 16 });
    expect(report.parameters.map((r) => r.name)).toEqual(['w1', 'b1', 'w2']);
    expect(report.reduction).toBe(16);
    expect(report.ok).toBe(true);
  });

  it('checks a model made of modules: built on each runtime, loaded from the parameters, gradients of its own', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const block = rt.nn.transformerBlock(8, 2, { causal: true });
    const x = Array.from({ length: 2 * 3 * 8 }, (_, i) => Math.sin(i));
    const report = await checkGradients((r, p) => {
      const b = r.nn.transformerBlock(8, 2, { causal: true });
      r.nn.loadStateDict(b, p);
      return { loss: r.mean(r.square(b.forward(r.tensor(x, [2, 3, 8])))), params: b.namedParams() };
    }, block.namedParams());
    expect(report.ok).toBe(true);
    expect(report.parameters.map((p) => p.name)).toEqual(Object.keys(block.namedParams()));
    expect(report.parameters.every((p) => p.maxDiff === 0 && p.maxRef > 0)).toBe(true);
  });

  it('fails when the loss differs between the runtimes, naming the parameter whose gradient is wrong', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const p = await params(rt);
    // On the checked runtime the second layer's weights count 1.001 times: a gradient error of ~1e-3, far over a
    // float32 bound of ~1e-6 relative, but only in ∂L/∂w2 and what flows back from it.
    const report = await checkGradients(
      (r, [w1, b1, w2]) => mlpLoss(r, [w1, b1, r === rt ? rt.scale(w2, 1.001) : w2]),
      p,
    );
    expect(report.ok).toBe(false);
    const w2 = report.parameters[2];
    expect(w2.ok).toBe(false);
    expect(w2.maxDiff).toBeGreaterThan(w2.bound);
    expect(w2.relativeDiff).toBeGreaterThan(1e-4);
    expect(report.loss).not.toBe(report.referenceLoss);
  });

  it('reports a non-finite gradient as failing', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const w = rt.tensor([1, 2], [2], { requiresGrad: true });
    const report = await checkGradients((r, [v]) => (r === rt ? r.sum(r.sqrt(r.sub(v, 1))) : r.sum(r.square(v))), [w]);
    expect(report.parameters[0].ok).toBe(false);
    expect(report.parameters[0].maxDiff).toBe(Infinity);
  });

  it('estimates K from shapes: a product’s inner size, a sum’s length, a softmax row', () => {
    expect(
      estimateReduction({
        shapes: [
          [8, 300],
          [300, 5],
        ],
        outShape: [8, 5],
      }),
    ).toBe(300);
    // A weight gradient Xᵀ·G over 512 rows: K = 512.
    expect(
      estimateReduction({
        shapes: [
          [512, 20],
          [512, 30],
        ],
        outShape: [20, 30],
      }),
    ).toBe(512);
    expect(estimateReduction({ shapes: [[1000, 3]], outShape: [3] })).toBe(1000);
    expect(estimateReduction({ shapes: [[4, 77]], outShape: [4, 77] })).toBe(77);
    // Elementwise operands are not a product.
    expect(estimateReduction({ shapes: [[64, 64], [64]], outShape: [64, 64] })).toBe(64);
  });

  it('refuses parameters without requiresGrad, from two runtimes, or none', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const other = await createRuntime({ backend: 'cpu' });
    const a = rt.tensor([1], [1], { requiresGrad: true });
    await expect(checkGradients((r, [v]) => r.sum(v), [rt.tensor([1], [1])])).rejects.toThrow(
      /parameter 0 was made without requiresGrad/,
    );
    await expect(
      checkGradients((r, [v]) => r.sum(v), [a, other.tensor([1], [1], { requiresGrad: true })]),
    ).rejects.toThrow(/parameter 1 belongs to another runtime/);
    await expect(checkGradients((r) => r.tensor(0), [])).rejects.toThrow(/no parameters/);
    await expect(checkGradients((r, [v]) => v, [rt.tensor([1, 2], [2], { requiresGrad: true })])).rejects.toThrow(
      /must be a scalar/,
    );
  });
});
