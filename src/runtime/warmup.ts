import type { Tensor } from '../tensor/tensor.js';
import type { Context } from '../tensor/tensor.js';
import type { TensorOps } from '../ops/index.js';
import { BINARY_NAMES, UNARY_NAMES, binary, unary } from '../ops/elementwise.js';

/** What warming up needs of a runtime: its ops, fills and gradients. */
export interface WarmupHost extends Context, TensorOps {
  zeros(shape: readonly number[], options?: { requiresGrad?: boolean }): Tensor;
  full(shape: readonly number[], value: number, options?: { requiresGrad?: boolean }): Tensor;
  grad(loss: Tensor, params: Tensor[]): Promise<Tensor[]>;
}

/** The four transposed variants of each [M, K, N] product (called with dispatches off, by `rt.warmup`). */
export function warmMatmuls(rt: WarmupHost, shapes: [number, number, number][]): void {
  for (const [m, k, n] of shapes) {
    const a = rt.zeros([m, k]);
    const b = rt.zeros([k, n]);
    const at = rt.zeros([k, m]);
    const bt = rt.zeros([n, k]);
    rt.matmul(a, b);
    rt.matmul(at, b, { transposeA: true });
    rt.matmul(a, bt, { transposeB: true });
    rt.matmul(at, bt, { transposeA: true, transposeB: true });
  }
}

/** A small MLP's training step and the elementwise ops: the kernels most programs use first. */
export async function warmCommon(rt: WarmupHost): Promise<void> {
  const x = rt.full([4, 8], 0.5);
  const w1 = rt.full([8, 16], 0.1, { requiresGrad: true });
  const b1 = rt.zeros([16], { requiresGrad: true });
  const w2 = rt.full([16, 3], 0.1, { requiresGrad: true });
  const h = rt.relu(rt.add(rt.matmul(x, w1), b1));
  const logits = rt.matmul(h, w2);
  const labels = rt.full([4, 3], 1 / 3);
  const loss = rt.add(rt.softmaxCrossEntropy(logits, labels), rt.mseLoss(rt.tanh(logits), labels));
  await rt.grad(loss, [w1, b1, w2]);
  // Every elementwise op, from the op tables, so that a new op is warmed without being listed here.
  for (const name of UNARY_NAMES) unary(name, x, 2).dispose();
  for (const name of BINARY_NAMES) binary(name, x, 2).dispose();
  rt.mean(x, 0).dispose();
  rt.transpose(x);
}
