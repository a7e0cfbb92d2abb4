import type { DispatchRecord } from '../core/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { Runtime, cpuRuntime } from './runtime.js';

/** The parameters as the caller gave them: a list, or names to tensors (`model.namedParams()`). */
export type GradientCheckParams = Tensor[] | Record<string, Tensor>;

/**
 * Builds the scalar loss on `rt` from `params`, which are that runtime's tensors, in the structure the caller gave
 * (a list, or the same names). It runs once on the parameters' own runtime and once on the CPU reference.
 *
 * A functional model returns the loss, and the gradients are taken of `params`. A model made of modules, whose
 * layers own their weights, can instead build the model on `rt`, load `params` into it and return
 * `{ loss, params: model.namedParams() }`: the gradients are then taken of those tensors, matched to the given
 * parameters by name (or by position for a list).
 */
export type GradientCheckLoss<P extends GradientCheckParams> = (
  rt: Runtime,
  params: P,
) => GradientCheckLossResult | Promise<GradientCheckLossResult>;

export type GradientCheckLossResult = Tensor | { loss: Tensor; params: GradientCheckParams };

export interface GradientCheckOptions {
  /**
   * K, the longest reduction (the most terms summed into one value) anywhere in the forward and backward pass.
   * Give it when you know it (the batch·positions of a weight gradient, the inner size of a product); by default
   * it is estimated from the reference's dispatches (see `estimateReduction`).
   */
  reduction?: number;
  /** The constant c of the bound; 8, the margin the model tests use for float32 errors that compound over layers. */
  c?: number;
  /** The absolute part of the bound, for gradients near zero; 1e-7. */
  atol?: number;
  /** A reference runtime to use instead of a fresh CPU one (it is left open). */
  reference?: Runtime;
}

export interface ParameterGradientCheck {
  /** The parameter's name, or its index in the list. */
  name: string;
  shape: number[];
  /** max |g − g_ref| over the elements. */
  maxDiff: number;
  /** max |g_ref|, the scale of the bound. */
  maxRef: number;
  /** maxDiff / maxRef (0 when both are 0): the figure to show beside the bound. */
  relativeDiff: number;
  /** atol + c·K·2⁻²⁴·max|g_ref|. */
  bound: number;
  /** maxDiff ≤ bound, and every value finite. */
  ok: boolean;
}

export interface GradientCheck {
  ok: boolean;
  /** The K the bounds used. */
  reduction: number;
  loss: number;
  referenceLoss: number;
  parameters: ParameterGradientCheck[];
}

const ULP = 2 ** -24;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** True when `shape` broadcasts to `out` (right-aligned, each extent equal or 1): an elementwise operand. */
function broadcastsTo(shape: readonly number[], out: readonly number[]): boolean {
  if (shape.length > out.length) return false;
  const lead = out.length - shape.length;
  return shape.every((d, i) => d === 1 || d === out[lead + i]);
}

/**
 * An estimate of K for one dispatch, from its shapes alone, so that it works for any op on any backend. It takes the
 * largest of:
 * - the last extent of each input (softmax, layerNorm and logSumExp reduce along it, keeping the shape);
 * - size(input) / size(output) (a sum or mean over axes: the number of terms per output);
 * - for two inputs that are not elementwise operands of the output, √(size(a)·size(b) / size(out)): for a product
 *   [M,K]·[K,N] → [M,N] this is exactly K, for a weight gradient [B·T,C]ᵀ·[B·T,D] → [C,D] it is B·T, for a
 *   convolution it is C·kh·kw forward and ≥ N·Ho·Wo for the weight gradient; for a batched product it errs large
 *   (K·√batch).
 * It errs on the large side for products, which loosens the bound rather than making it fail spuriously.
 */
export function estimateReduction(dispatch: Pick<DispatchRecord, 'shapes' | 'outShape'>): number {
  const out = size(dispatch.outShape);
  let k = 1;
  for (const s of dispatch.shapes) {
    if (s.length > 0) k = Math.max(k, s[s.length - 1]);
    if (out > 0) k = Math.max(k, Math.ceil(size(s) / out));
  }
  const [a, b] = dispatch.shapes;
  if (a && b && out > 0 && !(broadcastsTo(a, dispatch.outShape) && broadcastsTo(b, dispatch.outShape)))
    k = Math.max(k, Math.ceil(Math.sqrt((size(a) * size(b)) / out)));
  return k;
}

function listOf(params: GradientCheckParams): { names: string[]; tensors: Tensor[] } {
  if (Array.isArray(params)) return { names: params.map((_, i) => String(i)), tensors: params };
  return { names: Object.keys(params), tensors: Object.values(params) };
}

/** The tensors a loss function returned as its parameters, in the order of the given ones. */
function matchParams(names: string[], returned: GradientCheckParams, given: GradientCheckParams): Tensor[] {
  if (Array.isArray(given) !== Array.isArray(returned))
    throw new Error(
      'checkGradients: the loss function returned its params as a list where a record was given, or the reverse',
    );
  const out = listOf(returned);
  if (Array.isArray(returned)) {
    if (returned.length !== names.length)
      throw new Error(
        `checkGradients: ${names.length} parameters were given, the loss function returned ${returned.length}`,
      );
    return returned;
  }
  return names.map((n) => {
    const i = out.names.indexOf(n);
    if (i < 0)
      throw new Error(`checkGradients: the loss function's params have no "${n}" (they have ${out.names.join(', ')})`);
    return out.tensors[i];
  });
}

/** Runs the loss and its gradients on `rt`, returns the loss and gradients read back in float64; frees the rest. */
async function lossAndGrads<P extends GradientCheckParams>(
  rt: Runtime,
  lossFn: GradientCheckLoss<P>,
  params: P,
): Promise<{ loss: number; grads: Float64Array[] }> {
  const given = listOf(params);
  const results = await rt.tidy(async () => {
    const result = await lossFn(rt, params);
    const loss = result instanceof Tensor ? result : result.loss;
    const tensors = result instanceof Tensor ? given.tensors : matchParams(given.names, result.params, params);
    if (loss.shape.length !== 0 && loss.size !== 1)
      throw new Error(`checkGradients: the loss must be a scalar, got shape [${loss.shape.join(',')}]`);
    const grads = await rt.grad(loss, tensors);
    return [loss, ...grads];
  });
  try {
    const values = await Promise.all(results.map((t) => t.dataF64()));
    return { loss: values[0][0], grads: values.slice(1) };
  } finally {
    results.forEach((t) => t.dispose());
  }
}

/**
 * Checks a model's gradients on its runtime against the float64 CPU reference:
 * `const report = await checkGradients((rt, [w, b]) => rt.mseLoss(rt.add(rt.matmul(x(rt), w), b), y(rt)), [w, b])`.
 *
 * The parameters' values are read back and uploaded to the reference, so both runs start from the same float32
 * numbers; `lossFn` must build everything else (inputs, labels) on the runtime it is given. Each parameter passes
 * when max|g − g_ref| ≤ atol + c·K·2⁻²⁴·max|g_ref|, K the longest reduction (`options.reduction`, or estimated from
 * the reference's dispatches). The parameters need `requiresGrad`.
 */
export async function checkGradients<P extends GradientCheckParams>(
  lossFn: GradientCheckLoss<P>,
  params: P,
  options: GradientCheckOptions = {},
): Promise<GradientCheck> {
  const { names, tensors } = listOf(params);
  if (tensors.length === 0) throw new Error('checkGradients: no parameters to check');
  const rt = tensors[0].owner;
  if (!(rt instanceof Runtime)) throw new Error('checkGradients: the parameters do not belong to a runtime');
  tensors.forEach((t, i) => {
    if (t.owner !== rt) throw new Error(`checkGradients: parameter ${names[i]} belongs to another runtime`);
    if (!t.requiresGrad)
      throw new Error(`checkGradients: parameter ${names[i]} was made without requiresGrad: no gradient to check`);
  });
  const c = options.c ?? 8;
  const atol = options.atol ?? 1e-7;

  const ref = options.reference ?? cpuRuntime();
  // The same seed, so that random ops drawing from the runtime's generator (dropout) draw the same masks.
  if (!options.reference) ref.seed = rt.seed;
  try {
    const values = await Promise.all(tensors.map((t) => t.dataF64()));
    const copies = values.map((v, i) => ref.tensor(v, tensors[i].shape, { requiresGrad: true }));
    const refParams = (Array.isArray(params) ? copies : Object.fromEntries(names.map((n, i) => [n, copies[i]]))) as P;
    const traced = await ref.trace(() => lossAndGrads(ref, lossFn, refParams));
    copies.forEach((t) => t.dispose());
    const reduction = options.reduction ?? Math.max(1, ...traced.dispatches.map(estimateReduction));
    if (!(Number.isFinite(reduction) && reduction >= 1))
      throw new Error(`checkGradients: reduction must be a number ≥ 1, got ${reduction}`);
    const expected = traced.value;
    const actual = await lossAndGrads(rt, lossFn, params);

    const parameters = expected.grads.map((g, i): ParameterGradientCheck => {
      let maxDiff = 0;
      let maxRef = 0;
      let finite = true;
      for (let j = 0; j < g.length; j++) {
        const d = Math.abs(actual.grads[i][j] - g[j]);
        if (!Number.isFinite(d)) finite = false;
        else maxDiff = Math.max(maxDiff, d);
        maxRef = Math.max(maxRef, Math.abs(g[j]));
      }
      const bound = atol + c * reduction * ULP * maxRef;
      return {
        name: names[i],
        shape: [...tensors[i].shape],
        maxDiff: finite ? maxDiff : Infinity,
        maxRef,
        relativeDiff: !finite ? Infinity : maxRef > 0 ? maxDiff / maxRef : maxDiff > 0 ? Infinity : 0,
        bound,
        ok: finite && maxDiff <= bound,
      };
    });
    return {
      ok: parameters.every((p) => p.ok),
      reduction,
      loss: actual.loss,
      referenceLoss: expected.loss,
      parameters,
    };
  } finally {
    if (!options.reference) ref.destroy();
  }
}
