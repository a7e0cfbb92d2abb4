import type {
  Backend,
  BackendInput,
  DebugOptions,
  DispatchRecord,
  KernelTime,
  LostInfo,
  Profiler,
  SchedulerStats,
  Storage,
} from '../core/backend.js';
import type { InPlaceKernelDef, KernelDef } from '../core/kernel.js';
import { describeShapes, formatShape, sizeOf, type Shape } from '../core/shape.js';

interface CpuStorage {
  data: Float64Array;
}

/**
 * The reference backend: every op as plain loops over float64, never optimised.
 * It is the executable specification the GPU is checked against.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu';
  debug: DebugOptions = {};
  trace: DispatchRecord[] | null = null;
  dryRun = false;
  /** The CPU is never lost. */
  readonly lost = new Promise<LostInfo>(() => {});
  readonly profiler = new CpuProfiler();
  private liveBytes = 0;
  private peakBytes = 0;
  private readonly counters: SchedulerStats = {
    submissions: 0,
    allocations: 0,
    dispatches: 0,
    recordings: 0,
    replays: 0,
    pipelines: 0,
  };

  upload(data: ArrayLike<number>, shape: Shape): Storage {
    return this.adopt(Float64Array.from(data as ArrayLike<number>), shape);
  }

  async read(storage: Storage): Promise<Float64Array> {
    return (storage as CpuStorage).data.slice();
  }

  free(storage: Storage): void {
    this.liveBytes -= (storage as CpuStorage).data.byteLength;
  }

  run<P>(op: KernelDef<P>, inputs: BackendInput[], params: P, outShape: Shape): Storage {
    if (this.dryRun) return this.adopt(new Float64Array(sizeOf(outShape)), outShape);
    const operands = inputs.map((i) => ({ data: (i.storage as CpuStorage).data, shape: i.shape }));
    const started = this.profiler.active ? performance.now() : 0;
    const data = op.cpu(operands, params, outShape);
    if (this.profiler.active)
      this.profiler.add(
        op.name,
        inputs.map((i) => i.shape),
        outShape,
        performance.now() - started,
      );
    this.counters.dispatches++;
    this.trace?.push({
      op: op.name,
      kernel: `cpu:${op.name}`,
      shapes: inputs.map((i) => i.shape),
      outShape,
      detail: {},
    });
    return this.adopt(data, outShape);
  }

  runInPlace<P>(op: InPlaceKernelDef<P>, inputs: BackendInput[], params: P): void {
    if (this.dryRun) return;
    this.counters.dispatches++;
    op.cpu(
      inputs.map((i) => ({ data: (i.storage as CpuStorage).data, shape: i.shape })),
      params,
    );
    this.trace?.push({
      op: op.name,
      kernel: `cpu:${op.name}`,
      shapes: inputs.map((i) => i.shape),
      outShape: inputs[0]?.shape ?? [],
      detail: {},
    });
  }

  copy(src: Storage, shape: Shape, into?: Storage): Storage {
    const data = (src as CpuStorage).data;
    if (into) {
      (into as CpuStorage).data.set(data);
      return into;
    }
    return this.adopt(data.slice(), shape);
  }

  async flush(): Promise<void> {}

  async sync(): Promise<void> {}

  async pipelinesReady(): Promise<void> {}

  memory() {
    return { liveBytes: this.liveBytes, pooledBytes: 0, peakBytes: this.peakBytes, stepBytes: 0 };
  }

  stats(): SchedulerStats {
    return { ...this.counters };
  }

  destroy(): void {}

  private adopt(data: Float64Array, shape: Shape): CpuStorage {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`cpu: produced ${data.length} values for shape ${formatShape(shape)}`);
    }
    this.liveBytes += data.byteLength;
    this.counters.allocations++;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return { data };
  }
}

/** Wall time of each op: on the CPU the op is the kernel. */
class CpuProfiler implements Profiler {
  readonly timing = 'wall';
  active = false;
  private times: KernelTime[] = [];

  begin(): void {
    this.active = true;
    this.times = [];
  }

  add(op: string, shapes: Shape[], outShape: Shape, ms: number): void {
    this.times.push({ name: `cpu:${op}`, op, shape: describeShapes(shapes, outShape, '·'), ms });
  }

  async end(): Promise<KernelTime[]> {
    this.active = false;
    return this.times;
  }
}
