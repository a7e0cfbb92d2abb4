// The ConvNet modules on the CPU reference: PyTorch's names, shapes and initialisation, train/eval switching
// batchNorm2d, buffers in the state dict, and a safetensors round trip. Conv2d's forward (rt.conv2d) is tested with
// the convolution op itself; here only its parameters.
import { describe, expect, it } from 'vitest';
import { createRuntime, decodeSafetensors, type Runtime } from '../../src/index.js';
import { expectClose, randomArray, rng } from '../helpers.js';

async function cpu(): Promise<Runtime> {
  return createRuntime({ backend: 'cpu' });
}

describe('rt.nn.conv2d parameters', () => {
  it('weight [O, C, kh, kw] and bias [O], within PyTorch’s default bound 1/√(C·kh·kw), seeded', async () => {
    const rt = await cpu();
    const conv = rt.nn.conv2d(3, 8, [3, 5], { seed: 7 });
    expect(Object.keys(conv.namedParams())).toEqual(['weight', 'bias']);
    expect(conv.params().map((p) => p.shape)).toEqual([[8, 3, 3, 5], [8]]);
    const bound = 1 / Math.sqrt(3 * 3 * 5);
    const weight = await conv.weight.dataF64();
    expect(weight.every((v) => Math.abs(v) <= bound)).toBe(true);
    // Spread over the range, not squeezed near 0: the largest magnitude is near the bound.
    expect(Math.max(...weight.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect((await conv.bias!.dataF64()).every((v) => Math.abs(v) <= bound)).toBe(true);
    const again = rt.nn.conv2d(3, 8, [3, 5], { seed: 7 });
    expect(await again.weight.dataF64()).toEqual(weight);
    expect(
      rt.nn
        .conv2d(1, 2, 3, { bias: false })
        .params()
        .map((p) => p.shape),
    ).toEqual([[2, 1, 3, 3]]);
  });

  it('forward is rt.conv2d with its weight and bias, stride and padding (odd sizes, padding "same")', async () => {
    const rt = await cpu();
    const x = rt.tensor(randomArray(2 * 3 * 9 * 7, rng(4)), [2, 3, 9, 7]);
    for (const options of [{ padding: 1 }, { padding: 'same' as const }, { stride: 2 }]) {
      const conv = rt.nn.conv2d(3, 5, 3, { ...options, seed: 2 });
      const expected = await rt.conv2d(x, conv.weight, conv.bias, options).dataF64();
      const out = conv.forward(x);
      expect(out.shape).toEqual(rt.conv2d(x, conv.weight, conv.bias, options).shape);
      expectClose(await out.dataF64(), expected, 0, `nn.conv2d ${JSON.stringify(options)}`);
    }
  });

  it('activation and maxPool are rt.conv2d options', async () => {
    const rt = await cpu();
    const x = rt.tensor(randomArray(2 * 3 * 9 * 7, rng(5)), [2, 3, 9, 7]);
    const options = { padding: 1, activation: 'relu' as const, maxPool: 2 };
    const conv = rt.nn.conv2d(3, 5, 3, { ...options, seed: 3 });
    const out = conv.forward(x);
    const expected = rt.maxPool2d(rt.relu(rt.conv2d(x, conv.weight, conv.bias, { padding: 1 })), 2);
    expect(out.shape).toEqual([2, 5, 4, 3]);
    expectClose(await out.dataF64(), await expected.dataF64(), 0, 'nn.conv2d relu + maxPool 2');
  });

  it('bad sizes are errors that name the module', async () => {
    const rt = await cpu();
    expect(() => rt.nn.conv2d(0, 2, 3)).toThrow(/nn.conv2d: inChannels must be a positive integer, got 0/);
    expect(() => rt.nn.conv2d(1, 2, [3, 0] as [number, number])).toThrow(/nn.conv2d: kernel must be/);
  });
});

describe('rt.nn pooling, flatten and batchNorm2d', () => {
  const x = (rt: Runtime) => rt.tensor(randomArray(2 * 3 * 5 * 4, rng(1)), [2, 3, 5, 4]);

  it('maxPool2d, avgPool2d and flatten have no parameters and forward to their ops', async () => {
    const rt = await cpu();
    const input = x(rt);
    const maxPool = rt.nn.maxPool2d(2);
    expect(maxPool.params()).toEqual([]);
    expect(await maxPool.forward(input).dataF64()).toEqual(await rt.maxPool2d(input, 2).dataF64());
    const avgPool = rt.nn.avgPool2d(3, { stride: 1, padding: 1 });
    expect(await avgPool.forward(input).dataF64()).toEqual(
      await rt.avgPool2d(input, 3, { stride: 1, padding: 1 }).dataF64(),
    );
    const flat = rt.nn.flatten().forward(input);
    expect(flat.shape).toEqual([2, 60]);
    expect(await flat.dataF64()).toEqual(await input.dataF64());
    expect(Object.keys(rt.nn.flatten().namedParams())).toEqual([]);
  });

  it('identity returns its input, has no parameters, and keeps the numbering of the modules after it', async () => {
    const rt = await cpu();
    const input = x(rt);
    const identity = rt.nn.identity();
    expect(identity.forward(input)).toBe(input);
    expect(identity.params()).toEqual([]);
    const model = rt.nn.sequential([rt.nn.identity(), rt.nn.identity(), rt.nn.flatten(), rt.nn.linear(60, 2)]);
    expect(Object.keys(model.namedParams())).toEqual(['3.weight', '3.bias']);
  });

  it('batchNorm2d: weight ones, bias zeros; buffers running_mean zeros, running_var ones; params() leaves buffers out', async () => {
    const rt = await cpu();
    const norm = rt.nn.batchNorm2d(3);
    expect(Object.keys(norm.namedParams())).toEqual(['weight', 'bias']);
    expect(Object.keys(norm.namedBuffers())).toEqual(['running_mean', 'running_var']);
    expect(norm.params()).toEqual([norm.weight, norm.bias]);
    expect(Array.from(await norm.runningMean.dataF64())).toEqual([0, 0, 0]);
    expect(Array.from(await norm.runningVar.dataF64())).toEqual([1, 1, 1]);
    expect(Object.keys(rt.nn.stateDict(norm))).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
    expect(() => rt.nn.batchNorm2d(0)).toThrow(/nn.batchNorm2d: channels must be a positive integer, got 0/);
  });

  it('batchNorm2d trains on batch statistics and updates its buffers; eval() uses them and leaves them', async () => {
    const rt = await cpu();
    const norm = rt.nn.batchNorm2d(3, { momentum: 0.2 });
    const input = x(rt);
    const expected = await rt.batchNorm2d(input, null, null, null, null).dataF64();
    expect(await norm.forward(input).dataF64()).toEqual(expected);
    const mean = await norm.runningMean.dataF64();
    const batchMean = await rt.mean(input, [0, 2, 3]).dataF64();
    mean.forEach((m, c) => expect(m).toBeCloseTo(0.2 * batchMean[c], 14));
    const batchVar = await rt.variance(input, [0, 2, 3], { correction: 1 }).dataF64();
    (await norm.runningVar.dataF64()).forEach((v, c) => expect(v).toBeCloseTo(0.8 + 0.2 * batchVar[c], 14));

    norm.eval();
    expect(norm.training).toBe(false);
    const evaluated = await norm.forward(input).dataF64();
    const byHand = await rt
      .batchNorm2d(input, null, null, norm.runningMean, norm.runningVar, { training: false })
      .dataF64();
    expect(evaluated).toEqual(byHand);
    expect(await norm.runningMean.dataF64()).toEqual(mean);
  });

  it('gradients reach weight and bias through the module', async () => {
    const rt = await cpu();
    const norm = rt.nn.batchNorm2d(3);
    const loss = rt.sum(rt.square(rt.mul(norm.forward(x(rt)), rt.tensor(randomArray(120, rng(2)), [2, 3, 5, 4]))));
    const grads = await rt.grad(loss, norm.params());
    expect(grads.map((g) => g.shape)).toEqual([[3], [3]]);
  });
});

describe('ConvNet state dicts', () => {
  const model = (rt: Runtime) =>
    rt.nn.sequential([
      rt.nn.conv2d(1, 3, 3, { padding: 1, seed: 3 }),
      rt.nn.batchNorm2d(3),
      rt.nn.maxPool2d(2),
      rt.nn.flatten(),
      rt.nn.linear(12, 4, { seed: 4 }),
    ]);

  it('sequential names parameters and buffers as torch.nn.Sequential’s state_dict, and train()/eval() reach batchNorm2d', async () => {
    const rt = await cpu();
    const net = model(rt);
    expect(Object.keys(net.namedParams())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '4.weight', '4.bias']);
    expect(Object.keys(net.namedBuffers())).toEqual(['1.running_mean', '1.running_var']);
    const state = rt.nn.stateDict(net);
    expect(Object.fromEntries(Object.entries(state).map(([k, t]) => [k, t.shape]))).toEqual({
      '0.weight': [3, 1, 3, 3],
      '0.bias': [3],
      '1.weight': [3],
      '1.bias': [3],
      '1.running_mean': [3],
      '1.running_var': [3],
      '4.weight': [4, 12],
      '4.bias': [4],
    });
    expect(net.params().length).toBe(6);
    net.eval();
    expect((net.modules[1] as { training: boolean }).training).toBe(false);
    net.train();
    expect((net.modules[1] as { training: boolean }).training).toBe(true);
  });

  it('a state dict round-trips through safetensors into a fresh model, buffers included', async () => {
    const rt = await cpu();
    const trained = rt.nn.sequential([rt.nn.batchNorm2d(3), rt.nn.avgPool2d(2), rt.nn.flatten(), rt.nn.linear(12, 2)]);
    const input = rt.tensor(randomArray(2 * 3 * 4 * 5, rng(5), 2, 4), [2, 3, 4, 5]);
    trained.forward(input); // moves the running statistics away from 0 and 1
    const bytes = await rt.saveSafetensors(rt.nn.stateDict(trained));
    expect(Object.keys(decodeSafetensors(bytes).tensors).sort()).toEqual(
      ['0.bias', '0.running_mean', '0.running_var', '0.weight', '3.bias', '3.weight'].sort(),
    );

    const fresh = rt.nn.sequential([rt.nn.batchNorm2d(3), rt.nn.avgPool2d(2), rt.nn.flatten(), rt.nn.linear(12, 2)]);
    const loaded = rt.loadSafetensors(bytes);
    // PyTorch's files carry a batch counter that webgrad does not keep: it is skipped.
    rt.nn.loadStateDict(fresh, { ...loaded, '0.num_batches_tracked': rt.tensor([1], [1]) });
    for (const [name, t] of Object.entries(rt.nn.stateDict(fresh)))
      // The file holds float32 values.
      expect(await t.data(), name).toEqual(await rt.nn.stateDict(trained)[name].data());
    trained.eval();
    fresh.eval();
    expectClose(await fresh.forward(input).dataF64(), await trained.forward(input).dataF64(), 1e-5, 'forward');
  });

  it('loadStateDict refuses missing, unexpected and misshapen tensors, and writes nothing then', async () => {
    const rt = await cpu();
    const net = rt.nn.sequential([rt.nn.batchNorm2d(2)]);
    const state = () => ({
      '0.weight': rt.tensor([2, 2]),
      '0.bias': rt.tensor([1, 1]),
      '0.running_mean': rt.tensor([5, 5]),
      '0.running_var': rt.tensor([3, 3]),
    });
    const { '0.running_var': _dropped, ...missing } = state();
    expect(() => rt.nn.loadStateDict(net, missing)).toThrow(
      /loadStateDict: missing \["0.running_var"\], unexpected \[\]/,
    );
    expect(() => rt.nn.loadStateDict(net, { ...state(), '1.weight': rt.ones([2]) })).toThrow(
      /unexpected \["1.weight"\]/,
    );
    expect(() => rt.nn.loadStateDict(net, { ...state(), '0.bias': rt.ones([3]) })).toThrow(
      /loadStateDict: '0.bias' is \[3\], the module's is \[2\]/,
    );
    expect(Array.from(await net.namedParams()['0.weight'].dataF64())).toEqual([1, 1]);
    rt.nn.loadStateDict(net, missing, { strict: false });
    expect(Array.from(await net.namedBuffers()['0.running_mean'].dataF64())).toEqual([5, 5]);
    expect(Array.from(await net.namedBuffers()['0.running_var'].dataF64())).toEqual([1, 1]);
  });
});
