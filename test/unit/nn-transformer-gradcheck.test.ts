// The gradient of a whole (tiny) transformer block against central finite differences in float64, with respect to
// every parameter element and the input, on the CPU reference (eps 1e-6, rtol 1e-6, as test/gradcheck-helpers.ts).
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { randomArray, rng } from '../helpers.js';

const EPS = 1e-6;
const RTOL = 1e-6;
const ATOL = 1e-8;

/** Checks ∂L/∂θ for L = Σ model(x) ⊙ R, for each tensor θ of `wrt`, element by element. */
async function gradcheckModel(label: string, rt: Runtime, wrt: Record<string, Tensor>, output: () => Tensor) {
  const probe = output();
  const weights = rt.tensor(randomArray(probe.size, rng(99)), probe.shape);
  const loss = () => rt.sum(rt.mul(output(), weights));
  const names = Object.keys(wrt);
  const grads = await rt.grad(loss(), Object.values(wrt));
  let checked = 0;
  for (let i = 0; i < names.length; i++) {
    const target = wrt[names[i]];
    const analytic = await grads[i].dataF64();
    const base = await target.dataF64();
    const at = async (e: number, delta: number) => {
      const shifted = Float64Array.from(base, (v, j) => (j === e ? v + delta : v));
      rt.assign(target, rt.tensor(shifted, target.shape));
      return (await rt.noGrad(loss).dataF64())[0];
    };
    for (let e = 0; e < base.length; e++) {
      const numeric = ((await at(e, EPS)) - (await at(e, -EPS))) / (2 * EPS);
      const tolerance = ATOL + RTOL * Math.max(Math.abs(numeric), Math.abs(analytic[e]), 1);
      expect(
        Math.abs(analytic[e] - numeric),
        `${label}: ∂L/∂${names[i]}[${e}]: analytic ${analytic[e]} vs numeric ${numeric}`,
      ).toBeLessThanOrEqual(tolerance);
      checked++;
    }
    rt.assign(target, rt.tensor(base, target.shape));
  }
  return checked;
}

describe('finite-difference gradcheck of nn modules', () => {
  for (const causal of [true, false]) {
    it(`a ${causal ? 'causal' : 'full'} transformer block (d 8, 2 heads, T 3, batch 2): every parameter and the input`, async () => {
      const rt = await createRuntime({ backend: 'cpu' });
      const block = rt.nn.transformerBlock(8, 2, { causal, seed: 11 });
      // Random norms and biases, so that no gradient path runs through an identity γ or a zero β.
      const random = rng(12);
      for (const p of block.params().filter((t) => t.rank === 1))
        rt.assign(p, rt.tensor(randomArray(p.size, random), p.shape));
      const x = rt.tensor(randomArray(2 * 3 * 8, random), [2, 3, 8], { requiresGrad: true });
      const checked = await gradcheckModel('block', rt, { ...block.namedParams(), x }, () => block.forward(x));
      expect(checked).toBe(8 + 8 + 3 * 64 + 24 + 64 + 8 + 8 + 8 + 32 * 8 + 32 + 8 * 32 + 8 + 48);
    });
  }

  it('embedding + learned positions + N-D linear head: every parameter', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const tokens = rt.nn.embedding(5, 4, { seed: 1 });
    const positions = rt.nn.embedding(3, 4, { seed: 2 });
    const head = rt.nn.linear(4, 5, { seed: 3, activation: 'tanh' });
    const named = {
      tok: tokens.weight,
      pos: positions.weight,
      ...Object.fromEntries(Object.entries(head.namedParams()).map(([n, t]) => [`head.${n}`, t])),
    };
    rt.assign(head.bias!, rt.tensor(randomArray(5, rng(4)), [5]));
    const ids = [
      [4, 1, 4],
      [0, 2, 2],
    ];
    await gradcheckModel('embedding model', rt, named, () =>
      head.forward(rt.add(tokens.forward(ids), positions.forward([0, 1, 2]))),
    );
  });
});
