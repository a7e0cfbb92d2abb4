// Bad input gets a clear Error at the call that names the op and the shapes; the runtime stays usable after each.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';

async function stillWorks(rt: Runtime) {
  const y = rt.matmul(rt.tensor([1, 2], [1, 2]), rt.tensor([3, 4], [2, 1]));
  expect(Array.from(await y.data())).toEqual([11]);
}

describe('errors on the CPU runtime', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  const other = await createRuntime({ backend: 'cpu' });

  const cases: [string, () => unknown, RegExp][] = [
    ['data length', () => rt.tensor([1, 2, 3], [2, 2]), /tensor: 3 values do not fill shape \[2,2\] \(4 elements\)/],
    ['zero dimension', () => rt.tensor([], [0, 3]), /tensor: dimension 0 of shape \[0,3\] is 0/],
    ['negative dimension', () => rt.tensor([1], [-1]), /tensor: dimension 0 of shape \[-1\] is -1/],
    ['fractional dimension', () => rt.tensor([1, 2], [1.5, 2]), /tensor: dimension 0 of shape \[1.5,2\] is 1.5/],
    [
      'matmul inner dimensions',
      () => rt.matmul(rt.zeros([2, 3]), rt.zeros([4, 5])),
      /matmul: inner dimensions differ: A \[2,3\] · B \[4,5\]: 3 ≠ 4/,
    ],
    [
      'matmul inner dimensions, transposed',
      () => rt.matmul(rt.zeros([2, 3]), rt.zeros([4, 5]), { transposeB: true }),
      /matmul: inner dimensions differ: A \[2,3\] · Bᵀ \[4,5\] \(used as \[5,4\]\): 3 ≠ 5/,
    ],
    [
      'matmul rank',
      () => rt.matmul(rt.zeros([2]), rt.zeros([2, 2])),
      /matmul: operands must have rank 2 or more, got \[2\] and \[2,2\]/,
    ],
    ['broadcast', () => rt.add(rt.zeros([2, 3]), rt.zeros([2])), /add: shapes \[2,3\] and \[2\] do not broadcast/],
    [
      'mse shapes',
      () => rt.mseLoss(rt.zeros([2, 3]), rt.zeros([3, 2])),
      /mseLoss: shapes \[2,3\] and \[3,2\] must be equal/,
    ],
    ['sum axis', () => rt.sum(rt.zeros([2, 3]), 2), /sum: axis 2 is out of range for shape \[2,3\]/],
    ['labels', () => rt.softmaxCrossEntropy(rt.zeros([2, 3]), [0, 3]), /softmaxCrossEntropy: label 1 is 3/],
    [
      'transpose rank',
      () => rt.transpose(rt.zeros([4])),
      /transpose: expects at least 2 dimensions to swap the last two, got \[4\]/,
    ],
    ['another runtime', () => rt.add(rt.zeros([2]), other.zeros([2])), /add: tensor \[2\] belongs to another runtime/],
    [
      'disposed',
      () => {
        const t = rt.zeros([3, 3]);
        t.dispose();
        return rt.relu(t);
      },
      /relu: tensor \[3,3\] was disposed/,
    ],
    ['not a tensor', () => rt.matmul([1, 2] as never, rt.zeros([2, 2])), /matmul: argument 0 is not a Tensor/],
  ];

  for (const [label, call, message] of cases) {
    it(label, async () => {
      const before = rt.memory();
      expect(call).toThrow(message);
      expect(rt.memory().liveTensors - before.liveTensors).toBeLessThanOrEqual(2); // only the operands made in the call
      await stillWorks(rt);
    });
  }

  it('grad of a non-scalar', async () => {
    const x = rt.tensor([1, 2], [2], { requiresGrad: true });
    await expect(rt.grad(rt.mul(x, 2), [x])).rejects.toThrow(
      /grad: the loss must be a scalar \(one element\), got shape \[2\]/,
    );
    await stillWorks(rt);
  });

  it('reading a disposed tensor', async () => {
    const t = rt.zeros([2]);
    t.dispose();
    await expect(t.data()).rejects.toThrow(/data: tensor \[2\] was disposed/);
  });

  it('an unknown backend', async () => {
    await expect(createRuntime({ backend: 'metal' as never })).rejects.toThrow(/backend must be 'webgpu' or 'cpu'/);
  });

  it('no WebGPU says so and what to do', async () => {
    await expect(createRuntime({ backend: 'webgpu', gpu: undefined })).rejects.toThrow(/WebGPU is not available here/);
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createRuntime({ backend: 'webgpu', gpu: noAdapter })).rejects.toThrow(/no GPU adapter was found/);
  });

  it('NaN and Inf inputs compute without crashing', async () => {
    const y = rt.relu(rt.tensor([NaN, Infinity, -Infinity, 1], [4]));
    const v = await y.data();
    expect(Number.isNaN(v[0])).toBe(true);
    expect(Array.from(v.slice(1))).toEqual([Infinity, 0, 1]);
  });
});
