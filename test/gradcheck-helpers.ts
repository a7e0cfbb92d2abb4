// The finite-difference gradient check every differentiable op goes through (float64, central
// differences, eps ≈ 1e-6, rtol ≈ 1e-6), shared by the test files that check gradients.
import { expect } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../src/index.js';
import { randomArray, rng } from './helpers.js';

const EPS = 1e-6;
const RTOL = 1e-6;
const ATOL = 1e-8;

export interface Input {
  shape: number[];
  lo?: number;
  hi?: number;
}

/**
 * Builds L = Σ f(inputs) ⊙ R for a fixed random R, takes its analytic gradient, and compares each input's
 * gradient with (L(x + eps) − L(x − eps)) / 2eps element by element.
 */
export async function gradcheck(label: string, inputs: Input[], f: (rt: Runtime, xs: Tensor[]) => Tensor, seed = 1) {
  const rt = await createRuntime({ backend: 'cpu' });
  const random = rng(seed);
  const values = inputs.map((i) =>
    randomArray(
      i.shape.reduce((a, b) => a * b, 1),
      random,
      i.lo ?? -1,
      i.hi ?? 1,
    ),
  );
  let weights: Float64Array | null = null;

  const lossOf = async (vals: Float64Array[], withGrad: boolean) => {
    const xs = vals.map((v, i) => rt.tensor(v, inputs[i].shape, { requiresGrad: withGrad }));
    const y = f(rt, xs);
    weights ??= randomArray(y.size, rng(seed + 99));
    const loss = rt.sum(rt.mul(y, rt.tensor(weights, y.shape)));
    return { xs, loss };
  };

  const { xs, loss } = await lossOf(values, true);
  const grads = await rt.grad(loss, xs);
  for (let input = 0; input < inputs.length; input++) {
    const analytic = await grads[input].dataF64();
    expect(grads[input].shape, `${label}: gradient shape of input ${input}`).toEqual(inputs[input].shape);
    for (let e = 0; e < values[input].length; e++) {
      const shifted = (delta: number) =>
        values.map((v, i) => (i === input ? v.map((x, j) => (j === e ? x + delta : x)) : v));
      const plus = (await (await lossOf(shifted(EPS), false)).loss.dataF64())[0];
      const minus = (await (await lossOf(shifted(-EPS), false)).loss.dataF64())[0];
      const numeric = (plus - minus) / (2 * EPS);
      const tolerance = ATOL + RTOL * Math.max(Math.abs(numeric), Math.abs(analytic[e]), 1);
      expect(
        Math.abs(analytic[e] - numeric),
        `${label}: input ${input} element ${e}: analytic ${analytic[e]} vs numeric ${numeric}`,
      ).toBeLessThanOrEqual(tolerance);
    }
  }
}

export interface Check {
  label: string;
  inputs: Input[];
  f: (rt: Runtime, xs: Tensor[]) => Tensor;
}
