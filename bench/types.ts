// The contract between the benchmark harness (bench/run.ts) and the files that define cases.
// Case files must run both in Node (Dawn) and in a browser page, so they import nothing Node-only.

export interface BenchContext {
  /** navigator.gpu in a page, `create([])` from the 'webgpu' package in Node. */
  gpu: GPU;
  /** A software adapter (SwiftShader): run the scaled-down sizes. */
  small: boolean;
  /** Timed repetitions after warm-up. */
  reps: number;
  /** TF.js (tfjs-core with the WebGPU backend registered and set), when it could be loaded. */
  tf?: unknown;
  /** jax-js (@jax-js/jax) on the WebGPU device, when it could be loaded. */
  jax?: unknown;
  log(line: string): void;
}

export interface BenchRow {
  /** 'matmul', 'step', … */
  group: string;
  /** e.g. '1024×784 · 784×2048 (X·W1)' */
  name: string;
  adapter: string;
  /** The kernel or path webgrad chose. */
  kernel: string;
  /** Median over reps. */
  ms: number;
  gflops?: number;
  tfjsMs?: number;
  tfjsGflops?: number;
  /** tfjsMs / ms: above 1 means webgrad is faster. */
  speedup?: number;
  /** How the time was taken: 'timestamp-query' or 'wall'. */
  timing: string;
  extra?: Record<string, number | string>;
}
