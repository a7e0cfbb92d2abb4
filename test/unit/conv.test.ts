// conv2d and conv1d on the CPU reference: every gradient (x, w, bias) against central differences, the grad ops'
// own VJPs, the padding rules against an explicit pad, and bad input on both backends' shared checks.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Tensor } from '../../src/index.js';
import { apply } from '../../src/tensor/tensor.js';
import { conv2dInputGradOp, conv2dWeightGradOp, convGeometry, type Conv2dOptions } from '../../src/ops/conv.js';
import { gradcheck, type Check } from '../gradcheck-helpers.js';
import { randomArray, rng } from '../helpers.js';
import { convErrorCases } from '../conv-cases.js';

/** x [N, C, H, W], w [O, C/groups, kh, kw], bias [O] through conv2d with `options`. */
function convCheck(label: string, x: number[], w: number[], options: Conv2dOptions, bias = true): Check {
  return {
    label,
    inputs: [{ shape: x }, { shape: w }, ...(bias ? [{ shape: [w[0]] }] : [])],
    f: (rt, [xs, ws, b]) => rt.conv2d(xs, ws, b ?? null, options),
  };
}

const CHECKS: Check[] = [
  convCheck('conv2d 3×3, pad 1', [2, 3, 5, 4], [4, 3, 3, 3], { padding: 1 }),
  convCheck('conv2d 1×1, no bias', [1, 2, 3, 5], [3, 2, 1, 1], {}, false),
  convCheck('conv2d 2×3, stride 2', [2, 2, 7, 6], [3, 2, 2, 3], { stride: 2 }),
  convCheck('conv2d stride [2, 1], padding [1, 2]', [1, 2, 5, 5], [2, 2, 3, 3], { stride: [2, 1], padding: [1, 2] }),
  convCheck("conv2d 'same', even kernel 2×4", [1, 2, 5, 6], [3, 2, 2, 4], { padding: 'same' }),
  convCheck('conv2d dilation 2, pad 2', [1, 2, 7, 6], [2, 2, 3, 3], { dilation: 2, padding: 2 }),
  convCheck('conv2d groups 2', [2, 4, 4, 5], [6, 2, 3, 3], { groups: 2, padding: 1 }),
  convCheck('conv2d depthwise, groups = C', [1, 3, 5, 5], [3, 1, 3, 3], { groups: 3, padding: 'same' }),
  convCheck("conv2d 5×5, 'valid'", [1, 1, 6, 7], [2, 1, 5, 5], { padding: 'valid' }),
  {
    label: 'conv1d k 3, stride 2, pad 1',
    inputs: [{ shape: [2, 3, 9] }, { shape: [4, 3, 3] }, { shape: [4] }],
    f: (rt, [x, w, b]) => rt.conv1d(x, w, b, { stride: 2, padding: 1 }),
  },
  {
    label: "conv1d 'same', dilation 2, groups 3",
    inputs: [{ shape: [1, 3, 8] }, { shape: [6, 1, 4] }],
    f: (rt, [x, w]) => rt.conv1d(x, w, null, { padding: 'same', dilation: 2, groups: 3 }),
  },
];

// Second derivatives: each gradient op is linear in both its inputs, and its VJP is made of the other two.
const GRAD_OP_CHECKS: Check[] = [
  {
    label: 'conv2dInputGrad through its VJP',
    inputs: [{ shape: [2, 4, 3, 3] }, { shape: [4, 2, 3, 2] }],
    f: (rt, [g, w]) => {
      const shape = [2, 4, 5, 4];
      const geometry = convGeometry('conv2d', shape, w.shape, { stride: 2, padding: 1, groups: 2 });
      return apply(rt, conv2dInputGradOp, [g, w], { geometry, shape });
    },
  },
  {
    label: 'conv2dWeightGrad through its VJP',
    inputs: [{ shape: [2, 3, 4, 3] }, { shape: [2, 2, 4, 5] }],
    f: (rt, [g, x]) => {
      const shape = [3, 2, 3, 3];
      const geometry = convGeometry('conv2d', x.shape, shape, { padding: 1, dilation: [1, 2] });
      return apply(rt, conv2dWeightGradOp, [g, x], { geometry, shape });
    },
  },
];

describe('conv gradients against central differences (float64)', () => {
  for (const check of [...CHECKS, ...GRAD_OP_CHECKS]) {
    it(check.label, () => gradcheck(check.label, check.inputs, check.f));
  }
});

async function values(t: Tensor) {
  return Array.from(await t.dataF64());
}

describe('conv2d reference', () => {
  it('computes a cross-correlation by its definition', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    // x 1×1×3×3 = 1..9, w = [[1, 0], [0, -1]]: y[r, s] = x[r, s] − x[r+1, s+1] = −4 everywhere, plus the bias.
    const x = rt.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const y = rt.conv2d(x, rt.tensor([1, 0, 0, -1], [1, 1, 2, 2]), rt.tensor([0.5], [1]));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(await values(y)).toEqual([-3.5, -3.5, -3.5, -3.5]);
  });

  it("'same' with an even kernel pads the extra zero after, as an explicit pad does", async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const random = rng(7);
    const x = rt.tensor(randomArray(2 * 3 * 5 * 6, random), [2, 3, 5, 6]);
    const w = rt.tensor(randomArray(4 * 3 * 2 * 4, random), [4, 3, 2, 4]);
    const same = rt.conv2d(x, w, null, { padding: 'same' });
    // Totals kh − 1 = 1 and kw − 1 = 3: (0 before, 1 after) rows, (1 before, 2 after) columns.
    const padded = rt.conv2d(
      rt.pad(x, [
        [0, 0],
        [0, 0],
        [0, 1],
        [1, 2],
      ]),
      w,
    );
    expect(same.shape).toEqual([2, 4, 5, 6]);
    expect(await values(same)).toEqual(await values(padded));
  });

  it('conv1d equals conv2d over a height of 1', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const random = rng(3);
    const x = rt.tensor(randomArray(2 * 2 * 11, random), [2, 2, 11]);
    const w = rt.tensor(randomArray(3 * 2 * 3, random), [3, 2, 3]);
    const b = rt.tensor(randomArray(3, random), [3]);
    const y = rt.conv1d(x, w, b, { stride: 2, padding: 2, dilation: 2 });
    const y2 = rt.conv2d(rt.reshape(x, [2, 2, 1, 11]), rt.reshape(w, [3, 2, 1, 3]), b, {
      stride: [1, 2],
      padding: [0, 2],
      dilation: [1, 2],
    });
    expect(y.shape).toEqual([2, 3, 6]);
    expect(await values(y)).toEqual(await values(y2));
  });
});

describe('conv bad input on the CPU runtime', async () => {
  const rt = await createRuntime({ backend: 'cpu' });
  for (const [label, call, message] of convErrorCases(rt)) {
    it(label, async () => {
      expect(call).toThrow(message);
      const y = rt.conv2d(rt.ones([1, 1, 3, 3]), rt.ones([1, 1, 2, 2]));
      expect(await values(y)).toEqual([4, 4, 4, 4]);
    });
  }
});
