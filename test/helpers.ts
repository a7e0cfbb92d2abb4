import { expect } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../src/index.js';
import { uniformRandom } from '../src/core/random.js';

/** The library's seeded generator, so that failures reproduce. */
export const rng = uniformRandom;

/** Uniform values in [lo, hi), never exactly zero. */
export function randomArray(n: number, random: () => number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = lo + (hi - lo) * random();
    if (v === 0) v = 0.5;
    out[i] = v;
  }
  return out;
}

/** float32-representable copies, so that the CPU and GPU start from the same values. */
export function f32(values: Float64Array | number[]): Float32Array {
  return Float32Array.from(values);
}

/**
 * A GPU runtime with poisoned outputs and poisoned buffer tails (NaN past each tensor's end in its pooled buffer);
 * fails, never skips, when the browser has no WebGPU adapter.
 */
export async function gpuRuntime(): Promise<Runtime> {
  const rt = await createRuntime({ backend: 'webgpu' });
  rt.debug = { poisonOutputs: true, poisonTails: true };
  return rt;
}

export async function cpuRuntime(): Promise<Runtime> {
  return createRuntime({ backend: 'cpu' });
}

/**
 * Asserts |actual − expected| ≤ bound elementwise, where bound may vary per element.
 * NaN (the poison) never passes.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: number | ArrayLike<number>,
  label = '',
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  // A bound that is NaN, undefined or infinite would accept any value (diff <= NaN is false, but so is the
  // excess comparison), and a short bound array would leave the tail unchecked: both are mistakes in the test.
  if (typeof bound !== 'number') expect(bound.length, `${label}: bound length`).toBe(actual.length);
  for (let i = 0; i < actual.length; i++) {
    const b = typeof bound === 'number' ? bound : bound[i];
    if (!(typeof b === 'number' && Number.isFinite(b) && b >= 0)) {
      expect.fail(`${label}: the bound for element ${i} is ${b}; a bound must be a finite number ≥ 0`);
    }
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const b = typeof bound === 'number' ? bound : bound[i];
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= b)) {
      const excess = Number.isNaN(diff) ? Infinity : diff / b;
      if (excess >= worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
  }
  if (worst >= 0) {
    const b = typeof bound === 'number' ? bound : bound[worst];
    expect.fail(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ± ${b.toExponential(2)}` +
        (Number.isNaN(actual[worst]) ? ' (NaN: an element no kernel wrote, or a NaN computed)' : ''),
    );
  }
}

const ULP = 2 ** -24;

/**
 * The float32 error bound of a dot product of length k: atol + c·k·2⁻²⁴·(|A|·|B|)ᵢⱼ (the README's bound),
 * given the elementwise products of magnitudes.
 */
export function dotBound(absProduct: ArrayLike<number>, k: number, c = 4, atol = 1e-6): Float64Array {
  return Float64Array.from(absProduct, (v) => atol + c * Math.max(k, 1) * ULP * v);
}

/** (|A|·|B|) for op(A)·op(B), in float64. */
export function absMatmul(
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  ta = false,
  tb = false,
): Float64Array {
  const [m, k] = ta ? [aShape[1], aShape[0]] : aShape;
  const n = tb ? bShape[0] : bShape[1];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) {
        const av = ta ? a[r * m + i] : a[i * k + r];
        const bv = tb ? b[j * k + r] : b[r * n + j];
        s += Math.abs(av * bv);
      }
      out[i * n + j] = s;
    }
  return out;
}

/** Elementwise bound for results a few float32 roundings from the reference. */
export function relBound(expected: ArrayLike<number>, ulps = 8, atol = 1e-6): Float64Array {
  return Float64Array.from(expected, (v) => atol + ulps * ULP * Math.abs(v));
}

/**
 * Bit-for-bit equality of two results, for determinism and replay checks. Unlike toEqual, NaN on both sides fails:
 * an output no kernel wrote is NaN under the poison in every run, and would otherwise compare equal.
 */
export function expectBitEqual(actual: ArrayLike<number>, expected: ArrayLike<number>, label = ''): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (Number.isNaN(actual[i]) || Number.isNaN(expected[i]) || actual[i] !== expected[i]) {
      expect.fail(`${label}: element ${i} is ${actual[i]}, expected exactly ${expected[i]}`);
    }
  }
}

export async function read(t: Tensor): Promise<Float64Array> {
  return t.dataF64();
}

/** The four transpose combinations [transposeA, transposeB]. */
export const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** The stored shape of a rows×cols operand: [cols, rows] when it is read transposed. */
export function stored(rows: number, cols: number, transposed: boolean): number[] {
  return transposed ? [cols, rows] : [rows, cols];
}
