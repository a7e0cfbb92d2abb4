// The CPU reference of linear: its gradients against central finite differences in float64 (README, "Correctness").
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import type { Activation } from '../../src/ops/linear.js';
import { randomArray, rng } from '../helpers.js';

const ACTIVATIONS: Activation[] = ['identity', 'relu', 'tanh', 'gelu'];

/** L = Σ act(x·w + b) ⊙ r as a float64 number, on the reference. */
async function loss(
  rt: Runtime,
  x: Float64Array,
  w: Float64Array,
  b: Float64Array,
  r: Float64Array,
  activation: Activation,
) {
  const y = rt.linear(rt.tensor(x, [3, 4]), rt.tensor(w, [4, 5]), rt.tensor(b, [5]), activation);
  return (await rt.sum(rt.mul(y, rt.tensor(r, [3, 5]))).dataF64())[0];
}

describe('linear on the reference backend', () => {
  for (const activation of ACTIVATIONS) {
    it(`${activation}: gradients match central finite differences`, async () => {
      const rt = await createRuntime({ backend: 'cpu' });
      const random = rng(17);
      // Away from relu's kink, so that the finite difference is well defined.
      const x = randomArray(12, random);
      const w = randomArray(20, random);
      const b = randomArray(5, random).map((v) => v + 0.05 * Math.sign(v));
      const r = randomArray(15, random);
      const X = rt.tensor(x, [3, 4], { requiresGrad: true });
      const W = rt.tensor(w, [4, 5], { requiresGrad: true });
      const B = rt.tensor(b, [5], { requiresGrad: true });
      const L = rt.sum(rt.mul(rt.linear(X, W, B, activation), rt.tensor(r, [3, 5])));
      const grads = await Promise.all((await rt.grad(L, [X, W, B])).map((g) => g.dataF64()));
      const eps = 1e-6;
      const params = [x, w, b];
      for (let p = 0; p < 3; p++) {
        for (let i = 0; i < params[p].length; i++) {
          const plus = params.map((v) => v.slice());
          const minus = params.map((v) => v.slice());
          plus[p][i] += eps;
          minus[p][i] -= eps;
          const numeric =
            ((await loss(rt, plus[0], plus[1], plus[2], r, activation)) -
              (await loss(rt, minus[0], minus[1], minus[2], r, activation))) /
            (2 * eps);
          expect(Math.abs(grads[p][i] - numeric)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(numeric));
        }
      }
    });
  }
});
