// conv2d's `activation` and `maxPool` options on the CPU reference: every gradient against central differences, and
// the fused ops equal to the composition they stand for (conv2d, then the activation, then maxPool2d).
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import type { Conv2dOptions } from '../../src/ops/conv.js';
import { gradcheck, type Check } from '../gradcheck-helpers.js';
import { randomArray, rng } from '../helpers.js';

function check(label: string, x: number[], w: number[], options: Conv2dOptions, bias = true): Check {
  return {
    label,
    inputs: [{ shape: x }, { shape: w }, ...(bias ? [{ shape: [w[0]] }] : [])],
    f: (rt, [xs, ws, b]) => rt.conv2d(xs, ws, b ?? null, options),
  };
}

const CHECKS: Check[] = [
  check('relu epilogue, 3×3 pad 1', [2, 3, 5, 4], [4, 3, 3, 3], { padding: 1, activation: 'relu' }),
  check('tanh epilogue, stride 2, no bias', [1, 2, 7, 6], [3, 2, 2, 3], { stride: 2, activation: 'tanh' }, false),
  check('gelu epilogue (z recomputed), groups 2', [1, 4, 4, 5], [2, 2, 3, 3], { groups: 2, activation: 'gelu' }),
  check('fused relu + maxPool 2, odd H and W', [2, 3, 7, 5], [4, 3, 3, 3], {
    padding: 1,
    activation: 'relu',
    maxPool: 2,
  }),
  check('fused tanh + maxPool 2, dilation 2', [1, 2, 8, 9], [3, 2, 3, 3], {
    dilation: 2,
    activation: 'tanh',
    maxPool: 2,
  }),
  check('fused maxPool 2, no activation, no bias', [1, 1, 6, 6], [2, 1, 3, 3], { maxPool: 2 }, false),
  check('fused relu + maxPool 2, depthwise', [2, 3, 5, 6], [3, 1, 3, 3], {
    groups: 3,
    padding: 'same',
    activation: 'relu',
    maxPool: 2,
  }),
  check('maxPool 3 (conv2d then maxPool2d)', [1, 2, 7, 7], [2, 2, 1, 1], { activation: 'relu', maxPool: 3 }),
];

describe('conv2d activation and maxPool gradients against central differences (float64)', () => {
  for (const c of CHECKS) it(c.label, () => gradcheck(c.label, c.inputs, c.f));
});

const values = async (t: Tensor) => Array.from(await t.dataF64());

/** conv2d with the options, and the same model spelled as separate ops; their outputs and gradients. */
async function bothWays(rt: Runtime, x: number[], w: number[], options: Conv2dOptions) {
  const random = rng(11);
  const xs = rt.tensor(
    randomArray(
      x.reduce((a, b) => a * b),
      random,
    ),
    x,
    { requiresGrad: true },
  );
  const ws = rt.tensor(
    randomArray(
      w.reduce((a, b) => a * b),
      random,
    ),
    w,
    { requiresGrad: true },
  );
  const b = rt.tensor(randomArray(w[0], random), [w[0]], { requiresGrad: true });
  const { activation, maxPool, ...geometry } = options;
  const composed = (() => {
    let y = rt.conv2d(xs, ws, b, geometry);
    if (activation === 'relu') y = rt.relu(y);
    if (activation === 'tanh') y = rt.tanh(y);
    return maxPool ? rt.maxPool2d(y, maxPool) : y;
  })();
  const fused = rt.conv2d(xs, ws, b, options);
  const r = rt.tensor(randomArray(fused.size, random), fused.shape);
  const gradsOf = async (y: Tensor) => Promise.all((await rt.grad(rt.sum(rt.mul(y, r)), [xs, ws, b])).map(values));
  return {
    fused: await values(fused),
    composed: await values(composed),
    fusedGrads: await gradsOf(fused),
    composedGrads: await gradsOf(composed),
    shape: fused.shape,
  };
}

describe('conv2d options equal the composition they stand for', () => {
  it.each([
    ['relu + maxPool 2, odd sizes', [2, 2, 9, 7], [3, 2, 3, 3], { padding: 1, activation: 'relu', maxPool: 2 }],
    ['tanh + maxPool 2, stride 2', [1, 3, 11, 10], [5, 3, 3, 3], { stride: 2, activation: 'tanh', maxPool: 2 }],
    ['relu only', [2, 1, 5, 5], [4, 1, 3, 3], { activation: 'relu' }],
  ] as [string, number[], number[], Conv2dOptions][])('%s', async (_label, x, w, options) => {
    const rt = await createRuntime({ backend: 'cpu' });
    const r = await bothWays(rt, x, w, options);
    expect(r.fused).toEqual(r.composed);
    r.fusedGrads.forEach((g, i) => expect(g, `gradient ${i}`).toEqual(r.composedGrads[i]));
  });

  it('ties go to the first element of the window, and relu sends nothing through a window of zeros', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    // A 1×1 identity convolution: z = x. Window 1 ties at 2 (the first one wins); window 2 is all negative.
    const x = rt.tensor([2, 2, -1, -3, 1, 2, -2, -5], [1, 1, 2, 4], { requiresGrad: true });
    const y = rt.conv2d(x, rt.tensor([1], [1, 1, 1, 1]), null, { activation: 'relu', maxPool: 2 });
    expect(await values(y)).toEqual([2, 0]);
    const [dx] = await rt.grad(rt.sum(y), [x]);
    expect(await values(dx)).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('bad options throw, naming conv2d and the shapes, and the runtime stays usable', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.ones([1, 1, 3, 3]);
    const w = rt.ones([1, 1, 3, 3]);
    expect(() => rt.conv2d(x, w, null, { activation: 'softmax' as never })).toThrow(
      /conv2d: activation must be one of/,
    );
    expect(() => rt.conv2d(x, w, null, { maxPool: 0 })).toThrow(
      /conv2d: maxPool must be a positive integer, got 0 for x \[1,1,3,3\]/,
    );
    expect(() => rt.conv2d(x, w, null, { maxPool: 2 })).toThrow(
      /conv2d: maxPool 2 needs an output of at least 2×2, got \[1,1,1,1\] from x \[1,1,3,3\]/,
    );
    expect(await values(rt.conv2d(x, w, null, { padding: 1, maxPool: 2 }))).toEqual([9]);
  });
});
