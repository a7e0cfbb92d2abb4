// Attention's fused softmax (the scale and the causal mask applied as the kernel reads the scores) on the float64
// reference: the same values as the composite it replaced (scale, add a −∞ mask, softmax), gradients against
// central finite differences, NaN exactly on the rows with no key visible.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { attentionSoftmax } from '../../src/ops/softmax.js';
import { gradcheck } from '../gradcheck-helpers.js';
import { randomArray, rng } from '../helpers.js';

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** The unfused composite: scale·x plus a −∞ mask above the diagonal shifted by S − T, then softmax. */
function composite(rt: Runtime, x: Tensor, scale: number, causal: boolean): Tensor {
  const [t, s] = x.shape.slice(-2);
  const hidden = new Float64Array(t * s);
  if (causal)
    for (let i = 0; i < t; i++) for (let j = Math.max(0, i + (s - t) + 1); j < s; j++) hidden[i * s + j] = -Infinity;
  return rt.softmax(rt.add(rt.scale(x, scale), rt.tensor(hidden, [t, s])), -1);
}

describe('attention softmax, fused scale and causal mask', () => {
  const shapes = [
    [2, 3, 5, 5],
    [3, 2, 5],
    [2, 1, 3, 7],
    [1, 1, 1],
  ];
  for (const shape of shapes) {
    for (const causal of [false, true]) {
      it(`${JSON.stringify(shape)} causal ${causal}: the composite's values`, async () => {
        const rt = await createRuntime({ backend: 'cpu' });
        const x = rt.tensor(randomArray(size(shape), rng(3), -3, 3), shape);
        const got = await attentionSoftmax(x, 0.37, causal).dataF64();
        const want = await composite(rt, x, 0.37, causal).dataF64();
        expect(got.length).toBe(want.length);
        got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-15));
      });
    }
  }

  it('a query that sees no key (T > S) is NaN across its row, the others are not', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const x = rt.tensor(randomArray(4 * 2, rng(4)), [4, 2]);
    const y = await attentionSoftmax(x, 1, true).dataF64();
    // offset S − T = −2: queries 0 and 1 see nothing, query 2 key 0, query 3 both.
    expect(Array.from(y.subarray(0, 4), Number.isNaN)).toEqual([true, true, true, true]);
    expect(y[4]).toBe(1);
    expect(y[5]).toBe(0);
    expect(y[6] + y[7]).toBeCloseTo(1, 15);
  });

  it('gradients: T = S and T < S, causal and not, a scale other than 1/√D', async () => {
    await gradcheck('attentionSoftmax causal', [{ shape: [2, 4, 4] }], (_rt, [x]) => attentionSoftmax(x, 0.6, true));
    await gradcheck('attentionSoftmax causal T<S', [{ shape: [2, 3, 5] }], (_rt, [x]) =>
      attentionSoftmax(x, 1.3, true),
    );
    await gradcheck('attentionSoftmax', [{ shape: [3, 4] }], (_rt, [x]) => attentionSoftmax(x, 0.25, false));
    await gradcheck(
      'attention T = S causal',
      [{ shape: [2, 4, 3] }, { shape: [2, 4, 3] }, { shape: [2, 4, 3] }],
      (rt, [q, k, v]) => rt.attention(q, k, v, { causal: true, scale: 0.8 }),
    );
  });

  it('refuses scores of rank < 2, naming the op and the shape, and records nothing', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    expect(() => attentionSoftmax(rt.zeros([4]), 1, true)).toThrow(
      /attentionSoftmax: scores must be \[\.\.\., T, S\], got \[4\]/,
    );
    // Still usable: T = 2 over S = 1, so query 0 sees nothing and query 1 sees key 0.
    expect(Array.from(await attentionSoftmax(rt.zeros([2, 1]), 1, true).dataF64())).toEqual([NaN, 1]);
  });
});
