import type { Shape } from '../shape.js';
import type { InPlaceOpDef, OpDef } from '../ops/op.js';

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
}

export interface DebugOptions {
  /** Fill every output with NaN before its kernel runs, so that an element nothing wrote shows up. */
  poisonOutputs?: boolean;
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

/** The small surface every backend implements: storage in and out, and running an op. */
export interface Backend {
  readonly kind: 'cpu' | 'webgpu';
  debug: DebugOptions;
  /** When set, every dispatch is appended here. */
  trace: DispatchRecord[] | null;
  upload(data: ArrayLike<number>, shape: Shape): Storage;
  read(storage: Storage, shape: Shape): Promise<Float32Array | Float64Array>;
  free(storage: Storage, shape: Shape): void;
  run<P>(op: OpDef<P>, inputs: BackendInput[], params: P, outShape: Shape): Storage;
  /** Runs an op that overwrites some of its inputs' storage; nothing is allocated. */
  runInPlace<P>(op: InPlaceOpDef<P>, inputs: BackendInput[], params: P): void;
  /** Submits recorded work and waits for it to finish. */
  sync(): Promise<void>;
  memory(): Omit<MemoryStats, 'liveTensors'>;
  destroy(): void;
}
