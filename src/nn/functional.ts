import { checkTensors, Tensor } from '../tensor/tensor.js';
import { formatShape } from '../core/shape.js';
import type { OpsContext } from '../ops/index.js';

export interface ValueAndGrad {
  /** The loss, detached from the tape (its graph is already freed). */
  value: Tensor;
  /** One gradient per parameter, in the order the parameters were given. */
  grads: Tensor[];
}

/**
 * `rt.valueAndGrad(fn)`: a function that evaluates the scalar loss `fn(params, ...args)` and its gradients with
 * respect to `params`. Everything `fn` makes in between is freed before it returns.
 */
export function valueAndGrad<A extends unknown[]>(
  rt: OpsContext,
  fn: (params: Tensor[], ...args: A) => Tensor | Promise<Tensor>,
): (params: Tensor[], ...args: A) => Promise<ValueAndGrad> {
  if (typeof fn !== 'function') throw new Error('valueAndGrad: expected a function (params, ...args) => scalar loss');
  return (params, ...args) =>
    rt.tidy(async () => {
      const loss = await fn(params, ...args);
      if (!(loss instanceof Tensor))
        throw new Error(`valueAndGrad: the function must return a scalar Tensor, got ${typeof loss}`);
      if (loss.size !== 1)
        throw new Error(`valueAndGrad: the loss must be a scalar, got shape ${formatShape(loss.shape)}`);
      const grads = await rt.grad(loss, params);
      // A copy without a tape node, so that the graph behind the loss can be freed now.
      const value = rt.noGrad(() => rt.scale(loss, 1));
      return { value, grads };
    });
}

/**
 * The fraction of rows whose largest logit is at the label. Labels are class indices (an array, or a tensor [m])
 * or one-hot rows [m, n]. Reads the logits back, so it waits for the device.
 */
export async function accuracy(rt: OpsContext, logits: Tensor, labels: Tensor | ArrayLike<number>): Promise<number> {
  checkTensors('accuracy', rt, [logits]);
  if (logits.rank !== 2)
    throw new Error(`accuracy: logits must be 2-D [batch, classes], got ${formatShape(logits.shape)}`);
  const [m, n] = logits.shape;
  let classes: ArrayLike<number>;
  if (labels instanceof Tensor) {
    checkTensors('accuracy', rt, [labels]);
    const values = await labels.data();
    if (labels.rank === 2 && labels.shape[0] === m && labels.shape[1] === n) classes = argmaxRows(values, m, n);
    else if (labels.rank === 1 && labels.shape[0] === m) classes = values;
    else
      throw new Error(
        `accuracy: labels ${formatShape(labels.shape)} match neither [${m}] nor logits ${formatShape(logits.shape)}`,
      );
  } else {
    if (labels.length !== m)
      throw new Error(`accuracy: ${labels.length} labels for ${m} rows of logits ${formatShape(logits.shape)}`);
    classes = labels;
  }
  const predicted = argmaxRows(await logits.data(), m, n);
  let correct = 0;
  for (let i = 0; i < m; i++) if (predicted[i] === classes[i]) correct++;
  return m === 0 ? 0 : correct / m;
}

/** The index of each row's largest value (the first, on ties). */
export function argmaxRows(values: ArrayLike<number>, m: number, n: number): Int32Array {
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (values[i * n + j] > values[i * n + best]) best = j;
    out[i] = best;
  }
  return out;
}
