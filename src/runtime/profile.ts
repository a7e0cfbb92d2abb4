import type { Backend, KernelTime } from '../core/backend.js';

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
