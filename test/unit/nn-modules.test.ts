// rt.nn.layerNorm, rmsNorm, dropout and sequential on the CPU reference: PyTorch names and layouts, train/eval.
import { describe, expect, it } from 'vitest';
import { createRuntime, decodeSafetensors, type Runtime } from '../../src/index.js';
import { randomArray, rng } from '../helpers.js';

async function cpu(seed = 0): Promise<Runtime> {
  return createRuntime({ backend: 'cpu', seed });
}

describe('rt.nn normalisation, dropout and sequential', () => {
  it('layerNorm(dim): weight ones and bias zeros [dim], forward is rt.layerNorm over the last axis of N-D x', async () => {
    const rt = await cpu();
    const norm = rt.nn.layerNorm(5);
    expect(Object.keys(norm.namedParams())).toEqual(['weight', 'bias']);
    expect(norm.params().map((p) => p.shape)).toEqual([[5], [5]]);
    expect(Array.from(await norm.weight!.data())).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(await norm.bias!.data())).toEqual([0, 0, 0, 0, 0]);
    const x = rt.tensor(randomArray(2 * 3 * 5, rng(1)), [2, 3, 5]);
    expect(await norm.forward(x).dataF64()).toEqual(await rt.layerNorm(x).dataF64());
    expect(Object.keys(rt.nn.layerNorm(4, { bias: false }).namedParams())).toEqual(['weight']);
    expect(rt.nn.layerNorm(4, { elementwiseAffine: false }).params()).toEqual([]);
  });

  it('rmsNorm(dim): weight ones [dim]', async () => {
    const rt = await cpu();
    const norm = rt.nn.rmsNorm(3, { eps: 1e-3 });
    expect(Object.keys(norm.namedParams())).toEqual(['weight']);
    const x = rt.tensor([1, 2, 3, -4, 5, 6], [2, 3]);
    expect(await norm.forward(x).dataF64()).toEqual(await rt.rmsNorm(x, null, { eps: 1e-3 }).dataF64());
  });

  it('sequential names parameters `i.name` as torch.nn.Sequential, and they round-trip through safetensors', async () => {
    const rt = await cpu();
    const model = rt.nn.sequential([
      rt.nn.linear(4, 6, { seed: 1 }),
      rt.nn.layerNorm(6),
      rt.nn.dropout(0.2),
      rt.nn.linear(6, 2, { seed: 2 }),
      rt.nn.rmsNorm(2),
    ]);
    expect(Object.keys(model.namedParams())).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '3.weight',
      '3.bias',
      '4.weight',
    ]);
    expect(model.params().length).toBe(7);
    const { tensors } = decodeSafetensors(await rt.saveSafetensors(model.namedParams()));
    expect(tensors['0.weight'].shape).toEqual([6, 4]);
    expect(tensors['1.bias'].shape).toEqual([6]);
    expect(model.forward(rt.tensor(randomArray(12, rng(2)), [3, 4])).shape).toEqual([3, 2]);
  });

  it('train() and eval() switch dropout, and sequential propagates them', async () => {
    const rt = await cpu(5);
    const drop = rt.nn.dropout(0.5);
    const model = rt.nn.sequential([rt.nn.layerNorm(64), drop]);
    const x = rt.tensor(randomArray(64, rng(3)), [1, 64]);
    expect(model.training).toBe(true);
    const trained = await model.forward(x).dataF64();
    expect(trained.filter((v) => v === 0).length).toBeGreaterThan(10);
    expect(model.eval()).toBe(model);
    expect(drop.training).toBe(false);
    expect(await model.forward(x).dataF64()).toEqual(
      await rt.layerNorm(x, model.params()[0], model.params()[1]).dataF64(),
    );
    model.train();
    expect(drop.training).toBe(true);
    const mlp = rt.nn.mlp([2, 3, 1]).eval();
    expect(mlp.layers.every((l) => !l.training)).toBe(true);
  });

  it('gradients reach every parameter of a sequential model', async () => {
    const rt = await cpu();
    const model = rt.nn.sequential([
      rt.nn.linear(3, 4, { seed: 3 }),
      rt.nn.layerNorm(4),
      rt.nn.linear(4, 1, { seed: 4 }),
    ]);
    const loss = rt.mseLoss(model.forward(rt.tensor(randomArray(6, rng(4)), [2, 3])), rt.tensor([0.5, -0.5], [2, 1]));
    const grads = await rt.grad(loss, model.params());
    grads.forEach((g, i) => expect(g.shape).toEqual(model.params()[i].shape));
    const dGamma = await grads[2].dataF64();
    expect(dGamma.some((v) => v !== 0)).toBe(true);
  });

  it('rejects bad sizes and probabilities', async () => {
    const rt = await cpu();
    expect(() => rt.nn.layerNorm(0)).toThrow(/nn.layerNorm: dim must be a positive integer, got 0/);
    expect(() => rt.nn.rmsNorm(2.5)).toThrow(/nn.rmsNorm: dim must be a positive integer, got 2.5/);
    expect(() => rt.nn.dropout(1)).toThrow(/nn.dropout: p must be in \[0, 1\), got 1/);
    expect(() => rt.nn.sequential([{} as never])).toThrow(/nn.sequential: expects an array of modules/);
  });
});
