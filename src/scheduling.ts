import type { Backend, KernelTime } from './backend/backend.js';
import type { Runtime } from './runtime.js';
import { BINARY_NAMES, UNARY_NAMES, binary, unary } from './ops/elementwise.js';

/** What `rt.profile` returns. */
export interface ProfileResult<T> {
  value: T;
  /** Each kernel in dispatch order: its name, its op, its shapes and its time. */
  kernels: KernelTime[];
  /** The kernels' times summed. */
  totalMs: number;
  /** Time spent in JavaScript running `fn` (recording or replaying its work). */
  cpuMs: number;
  /** From the call until the GPU finished. */
  wallMs: number;
  timing: 'timestamp-query' | 'wall';
}

/** The four transposed variants of each [M, K, N] product (called with dispatches off, by `rt.warmup`). */
export function warmMatmuls(rt: Runtime, shapes: [number, number, number][]): void {
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
export async function warmCommon(rt: Runtime): Promise<void> {
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

/** Runs `fn` between the profiler's marks; work recorded before the call is submitted first and not counted. */
export async function profileRun<T>(backend: Backend, fn: () => T | Promise<T>): Promise<ProfileResult<T>> {
  await backend.sync();
  const { profiler } = backend;
  const started = performance.now();
  profiler.begin();
  let value: T;
  try {
    value = await fn();
  } catch (e) {
    await profiler.end().catch(() => undefined);
    throw e;
  }
  const cpuMs = performance.now() - started;
  const kernels = await profiler.end();
  await backend.sync();
  const wallMs = performance.now() - started;
  const totalMs = kernels.reduce((sum, k) => sum + k.ms, 0);
  return { value, kernels, totalMs, cpuMs, wallMs, timing: profiler.timing };
}
