import { describe, expect, it } from 'vitest';
import { createRuntime, initialWeights } from '../../src/index.js';

describe('seeded initialisers', () => {
  it('repeat for a seed and differ between seeds', () => {
    expect(initialWeights('heNormal', 16, 8, 7)).toEqual(initialWeights('heNormal', 16, 8, 7));
    expect(initialWeights('heNormal', 16, 8, 7)).not.toEqual(initialWeights('heNormal', 16, 8, 8));
  });

  for (const [kind, variance] of [
    ['glorotUniform', 2 / (200 + 300)],
    ['glorotNormal', 2 / (200 + 300)],
    ['heUniform', 2 / 200],
    ['heNormal', 2 / 200],
  ] as const) {
    it(`${kind} has variance ${variance.toPrecision(3)} and mean 0`, () => {
      const w = initialWeights(kind, 200, 300, 3);
      const mean = w.reduce((a, b) => a + b, 0) / w.length;
      const v = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
      expect(Math.abs(mean)).toBeLessThan(3 * Math.sqrt(variance / w.length) + 1e-6);
      expect(v / variance).toBeGreaterThan(0.97);
      expect(v / variance).toBeLessThan(1.03);
    });
  }

  it('glorotUniform stays inside its limit', () => {
    const limit = Math.sqrt(6 / (5 + 7));
    expect(Math.max(...initialWeights('glorotUniform', 5, 7, 1).map(Math.abs))).toBeLessThanOrEqual(limit);
  });

  it('rejects bad fans and kinds', () => {
    expect(() => initialWeights('heNormal', 0, 3, 1)).toThrow(/fanIn and fanOut must be positive integers/);
    expect(() => initialWeights('nope' as never, 2, 3, 1)).toThrow(/unknown initializer 'nope'/);
  });
});

describe('rt.nn', () => {
  it('a fresh runtime builds the same MLP; an explicit seed the same layer anywhere', async () => {
    const a = await createRuntime({ backend: 'cpu' });
    const b = await createRuntime({ backend: 'cpu' });
    const ma = a.nn.mlp([2, 8, 3], 'tanh');
    const mb = b.nn.mlp([2, 8, 3], 'tanh');
    for (const [i, p] of ma.params().entries()) expect(await p.data()).toEqual(await mb.params()[i].data());
    const la = a.nn.linear(4, 5, { seed: 9 });
    const lb = b.nn.linear(4, 5, { seed: 9 });
    expect(await la.weight.data()).toEqual(await lb.weight.data());
    const lc = a.nn.linear(4, 5);
    expect(await lc.weight.data()).not.toEqual(await la.weight.data());
  });

  it('linear: y = act(x·Wᵀ + b) with W [out, in], params and names', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const layer = rt.nn.linear(3, 2, { activation: 'relu', seed: 1 });
    expect(layer.weight.shape).toEqual([2, 3]);
    expect(layer.bias!.shape).toEqual([2]);
    expect(layer.params()).toEqual([layer.weight, layer.bias]);
    expect(Object.keys(layer.namedParams())).toEqual(['weight', 'bias']);
    const w = await layer.weight.dataF64();
    const x = [0.5, -1, 2, 1, 1, -1];
    const y = await layer.forward(rt.tensor(x, [2, 3])).dataF64();
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        let z = 0;
        for (let k = 0; k < 3; k++) z += x[i * 3 + k] * w[j * 3 + k];
        expect(y[i * 2 + j]).toBeCloseTo(Math.max(z, 0), 12);
      }
    expect(rt.nn.linear(3, 2, { bias: false }).params()).toHaveLength(1);
  });

  it('mlp: layer sizes, activations on hidden layers only, PyTorch-style names', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const model = rt.nn.mlp([4, 16, 8, 3], 'relu');
    expect(model.layers.map((l) => [l.inFeatures, l.outFeatures, l.activation])).toEqual([
      [4, 16, 'relu'],
      [16, 8, 'relu'],
      [8, 3, 'none'],
    ]);
    expect(Object.keys(model.namedParams())).toEqual([
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
      'layers.2.weight',
      'layers.2.bias',
    ]);
    expect(model.forward(rt.tensor(new Float32Array(20).fill(0.1), [5, 4])).shape).toEqual([5, 3]);
  });

  it('parameters survive the tidy they were made in', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const model = rt.tidy(() => rt.nn.mlp([2, 4, 2]));
    expect(model.params().every((p) => !p.disposed)).toBe(true);
  });

  it('rejects bad sizes and activations', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    expect(() => rt.nn.linear(0, 2)).toThrow(/inFeatures must be a positive integer/);
    expect(() => rt.nn.mlp([3])).toThrow(/at least \[in, out\]/);
    expect(() => rt.nn.mlp([3, 2], 'swish' as never)).toThrow(
      /activation must be one of identity, relu, tanh, gelu or 'none'/,
    );
  });
});

describe('valueAndGrad and accuracy', () => {
  it('gives the loss and the gradients that rt.grad gives, and frees the graph', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const model = rt.nn.mlp([2, 5, 3], 'tanh');
    const x = rt.tensor([0.1, 0.2, -0.3, 0.4, 0.9, -1], [3, 2]);
    const labels = [0, 2, 1];
    const before = rt.memory().liveTensors;
    const vg = rt.valueAndGrad((_params, input: typeof x, y: number[]) =>
      rt.softmaxCrossEntropy(model.forward(input), y),
    );
    const { value, grads } = await vg(model.params(), x, labels);
    expect(rt.memory().liveTensors).toBe(before + 1 + grads.length);
    expect(value.shape).toEqual([]);
    const loss = rt.softmaxCrossEntropy(model.forward(x), labels);
    const expected = await rt.grad(loss, model.params());
    expect(await value.dataF64()).toEqual(await loss.dataF64());
    for (const [i, g] of grads.entries()) expect(await g.dataF64()).toEqual(await expected[i].dataF64());
  });

  it('rejects a non-scalar loss', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const w = rt.tensor([1, 2], [2], { requiresGrad: true });
    await expect(rt.valueAndGrad(([p]) => rt.mul(p, 2))([w])).rejects.toThrow(
      /the loss must be a scalar, got shape \[2\]/,
    );
  });

  it('accuracy from class indices and from one-hot rows', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const logits = rt.tensor([1, 2, 0, 5, 1, 1, 0, 0, 3], [3, 3]);
    expect(await rt.accuracy(logits, [1, 0, 0])).toBeCloseTo(2 / 3);
    expect(await rt.accuracy(logits, rt.tensor([0, 1, 0, 1, 0, 0, 0, 0, 1], [3, 3]))).toBe(1);
    await expect(rt.accuracy(logits, [1, 0])).rejects.toThrow(/2 labels for 3 rows/);
  });
});
