import type { Shape } from './shape.js';
import type { Dispatcher, InPlaceKernelDef, KernelDef } from './kernel.js';

/** A backend's handle on the storage of one tensor. */
export type Storage = object;

export interface MemoryStats {
  /** Bytes held by live tensors. */
  liveBytes: number;
  liveTensors: number;
  /** Bytes kept in the buffer pool for reuse. */
  pooledBytes: number;
  /** The most bytes ever held at once, live and pooled together. */
  peakBytes: number;
  /** Bytes that compiled steps hold for their intermediates and inputs (see `rt.compile`). */
  stepBytes: number;
}

/** Counters since the backend was created; tests and benchmarks take differences. */
export interface SchedulerStats {
  /** Queue submissions (command buffers handed to the GPU). */
  submissions: number;
  /** Device buffers created; a pool hit is not an allocation. */
  allocations: number;
  /** Kernel dispatches recorded or replayed. */
  dispatches: number;
  /** Compiled steps recorded, and replayed. */
  recordings: number;
  replays: number;
  /** Pipelines created (each shader + constants once). */
  pipelines: number;
}

/** One kernel's time in a profile. */
export interface KernelTime {
  /** The kernel, e.g. `matmul_nt`. */
  name: string;
  /** The op that dispatched it, e.g. `matmul`. */
  op: string;
  /** Input shapes → output shape, e.g. `[128,784]·[784,256] → [128,256]`. */
  shape: string;
  ms: number;
}

/** Times each kernel run between `begin` and `end`. */
export interface Profiler {
  /** 'timestamp-query' where the GPU stamps each kernel, 'wall' otherwise. */
  readonly timing: 'timestamp-query' | 'wall';
  begin(): void;
  end(): Promise<KernelTime[]>;
}

/** A compiled step's recorded work: replayable while `valid`. */
export interface Recording {
  /** False once a buffer it binds but does not own (a parameter's) was freed: it must be recorded again. */
  readonly valid: boolean;
  readonly dispatches: number;
  /** Whether the storage belongs to the recording (made while recording), rather than to a caller's tensor. */
  owns(storage: Storage): boolean;
  dispose(): void;
}

/** Records the work of one call so that it can be replayed with the same buffers and bind groups. */
export interface Recorder {
  /** Starts recording. Each input is copied into storage the recording owns; those copies are returned for the step to use. */
  begin(inputs: BackendInput[]): Storage[];
  end(): Recording;
  /** Copies new inputs in and queues the recorded work again. */
  replay(recording: Recording, inputs: BackendInput[]): void;
}

export interface DebugOptions {
  /** Fill every output with NaN before its kernel runs, so that an element nothing wrote shows up. */
  poisonOutputs?: boolean;
  /**
   * Fill the unused tail of every buffer the pool hands out (it is rounded up to a size class) with NaN, so that a
   * kernel reading past its tensor gets NaN instead of stale data that happens to look right.
   */
  poisonTails?: boolean;
  /** Check every op's output for NaN/Inf; the read or sync that follows throws, naming the first such op. */
  checkNumerics?: boolean;
}

/** Why a device went away. */
export interface LostInfo {
  reason: string;
  message: string;
}

/** A record of one kernel dispatch, for tests and the demo's walk-through. */
export interface DispatchRecord {
  op: string;
  kernel: string;
  shapes: Shape[];
  outShape: Shape;
  detail: Record<string, number | boolean | string>;
}

export interface BackendInput {
  storage: Storage;
  shape: Shape;
}

/**
 * What every backend implements: storage in and out, running an op, and synchronisation. The mode fields
 * (`debug`, `trace`, `dryRun`) are the runtime's switches for debugging, tracing and warm-up.
 */
export interface Backend {
  readonly kind: 'cpu' | 'webgpu';
  debug: DebugOptions;
  /** When set, every dispatch is appended here. */
  trace: DispatchRecord[] | null;
  upload(data: ArrayLike<number>, shape: Shape): Storage;
  read(storage: Storage, shape: Shape): Promise<Float32Array | Float64Array>;
  free(storage: Storage, shape: Shape): void;
  run<P>(op: KernelDef<P>, inputs: BackendInput[], params: P, outShape: Shape): Storage;
  /** Runs an op that overwrites some of its inputs' storage; nothing is allocated. */
  runInPlace<P>(op: InPlaceKernelDef<P>, inputs: BackendInput[], params: P): void;
  /** A copy of `src` in new storage, or written into `into` (same size) when given. */
  copy(src: Storage, shape: Shape, into?: Storage): Storage;
  /** Submits recorded work without waiting for it to finish. */
  flush(): Promise<void>;
  /** Submits recorded work and waits for it to finish. */
  sync(): Promise<void>;
  memory(): Omit<MemoryStats, 'liveTensors'>;
  stats(): SchedulerStats;
  /** Resolves when the device is lost; never, on the CPU. */
  readonly lost: Promise<LostInfo>;
  /** Absent where steps simply run eagerly (the CPU reference). */
  readonly recorder?: Recorder;
  /** The kernel-dispatch side of a GPU backend, where ops record their kernels; absent on the CPU. */
  readonly dispatcher?: Dispatcher;
  readonly profiler: Profiler;
  /** While true, ops make their pipelines but record no work (for warm-up). */
  dryRun: boolean;
  /** Waits for every pipeline made so far to be compiled. */
  pipelinesReady(): Promise<void>;
  destroy(): void;
}
