import type {
  Backend,
  BackendInput,
  DebugOptions,
  DispatchRecord,
  LostInfo,
  SchedulerStats,
  Storage,
} from '../../core/backend.js';
import type { InPlaceKernelDef, KernelDef } from '../../core/kernel.js';
import { describeShapes, formatShape, sizeOf, type Shape } from '../../core/shape.js';
import { BufferPool, bufferBytes, MAP_READ } from './buffers.js';
import type { Bindings, DeviceLimits, Dispatcher, GpuOperand, Kernel } from '../../core/kernel.js';
import { PipelineCache } from './pipelines.js';
import type { GpuInfo, OpenDevice } from './device.js';
import { Scheduler, lostError, type Command } from './scheduler.js';
import { UniformCache } from './uniforms.js';
import { GpuRecorder } from './recorder.js';
import { GpuProfiler } from './profiler.js';
import { DebugKernels } from './debug.js';
import { WaitPacer, runsInNode } from './wait-pacer.js';

interface GpuStorage {
  buffer: GPUBuffer;
}

/**
 * The WebGPU backend. Ops record dispatches; the scheduler submits them in one command encoder when a result is
 * read, at `flush`/`sync`, or when a bound is reached. Buffers come from a size-bucketed pool; pipelines are
 * compiled asynchronously and cached by shader and constants.
 */
export class WebGpuBackend implements Backend, Dispatcher {
  readonly kind = 'webgpu';
  debug: DebugOptions = {};
  trace: DispatchRecord[] | null = null;
  dryRun = false;
  readonly limits: DeviceLimits;
  readonly features: ReadonlySet<string>;
  readonly software: boolean;
  readonly lost: Promise<LostInfo>;
  readonly pool: BufferPool;
  readonly uniforms: UniformCache;
  readonly scheduler: Scheduler;
  readonly recorder: GpuRecorder;
  readonly profiler: GpuProfiler;
  private readonly debugKernels: DebugKernels;
  private readonly pipelines: PipelineCache;
  private readonly families = new Map<string, unknown>();
  /** Scratch buffers of the op being run, returned to the pool when it has recorded its dispatches. */
  private scratchOfOp: GPUBuffer[] = [];
  private dispatches = 0;
  private currentOp = '';
  private currentShapes: Shape[] = [];
  private currentOutShape: Shape = [];

  readonly device: GPUDevice;
  readonly info: GpuInfo;
  private readonly keepAlive: OpenDevice['keepAlive'];

  constructor(
    { device, info, keepAlive }: OpenDevice,
    options: { timing?: 'auto' | 'wall'; pacedWaits?: boolean } = {},
  ) {
    this.device = device;
    this.info = info;
    this.keepAlive = keepAlive;
    this.limits = info.limits;
    this.features = new Set(info.features);
    this.software = info.software;
    this.lost = device.lost.then((l) => ({ reason: l.reason ?? 'unknown', message: l.message ?? '' }));
    this.pool = new BufferPool((descriptor) => this.createBuffer(descriptor));
    this.uniforms = new UniformCache(device);
    this.pipelines = new PipelineCache(device, this.uniforms);
    this.scheduler = new Scheduler(
      device,
      this.pool,
      this.lost,
      () => this.uniforms.destroyRetired(),
      new WaitPacer(options.pacedWaits ?? runsInNode()),
    );
    this.recorder = new GpuRecorder({
      pool: this.pool,
      uniforms: this.uniforms,
      allocate: (op, shape) => this.allocate(op, shape),
      enqueueCopy: (src, dst, bytes, op) => this.scheduler.push({ kind: 'copy', src, dst, bytes, op }),
      enqueueAll: (commands) => {
        this.dispatches += commands.length;
        this.scheduler.pushAll(commands);
      },
      checkAlive: (op) => this.checkAlive(op),
    });
    const stamps = this.features.has('timestamp-query') && options.timing !== 'wall';
    this.profiler = new GpuProfiler(device, this.scheduler, stamps);
    this.debugKernels = new DebugKernels({
      scheduler: this.scheduler,
      pool: this.pool,
      dispatchAs: (op, kernel, bindings, workgroups) =>
        this.asOp(op, () => this.dispatch(kernel, bindings, workgroups)),
    });
  }

  upload(data: ArrayLike<number>, shape: Shape): Storage {
    this.checkAlive('tensor');
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const buffer = this.allocate('tensor', shape);
    this.device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
    return { buffer } satisfies GpuStorage;
  }

  /** Copies into a pooled staging buffer and maps it; reads started together share one submission. */
  async read(storage: Storage, shape: Shape): Promise<Float32Array> {
    this.checkAlive('data');
    if (this.recorder.recording) {
      throw new Error(
        'data: a compiled step cannot read tensors while it records; return the tensor from the step and read it afterwards',
      );
    }
    const { buffer } = storage as GpuStorage;
    const bytes = sizeOf(shape) * 4;
    const staging = this.pool.acquireStaging(bufferBytes(sizeOf(shape)));
    this.scheduler.push({ kind: 'copy', src: buffer, dst: staging, bytes, op: 'data' });
    try {
      await this.scheduler.flushSoon();
      await this.scheduler.untilRun(() => staging.mapAsync(MAP_READ, 0, bytes));
    } catch (e) {
      if (!this.scheduler.lost) this.pool.release(staging);
      throw e;
    }
    const result = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.pool.releaseNow(staging);
    return result;
  }

  free(storage: Storage): void {
    const { buffer } = storage as GpuStorage;
    if (this.recorder.freed(buffer)) return;
    this.pool.release(buffer);
  }

  run<P>(op: KernelDef<P>, inputs: BackendInput[], params: P, outShape: Shape): Storage {
    this.checkAlive(op.name);
    this.setCurrent(
      op.name,
      inputs.map((i) => i.shape),
      outShape,
    );
    const out: GpuOperand = { buffer: this.allocate(op.name, outShape), shape: outShape };
    if (this.debug.poisonOutputs) this.debugKernels.poison(out);
    try {
      op.gpu(this, inputs.map(operand), params, out);
    } finally {
      this.releaseScratch();
    }
    if (this.debug.checkNumerics && !this.dryRun && !this.recorder.recording)
      this.debugKernels.checkNumerics(out, this.describeCurrent());
    return { buffer: out.buffer } satisfies GpuStorage;
  }

  runInPlace<P>(op: InPlaceKernelDef<P>, inputs: BackendInput[], params: P): void {
    this.checkAlive(op.name);
    this.setCurrent(
      op.name,
      inputs.map((i) => i.shape),
      inputs[0]?.shape ?? [],
    );
    const operands = inputs.map(operand);
    try {
      op.gpu(this, operands, params);
    } finally {
      this.releaseScratch();
    }
    if (this.debug.checkNumerics && !this.dryRun && !this.recorder.recording && operands[0]) {
      this.debugKernels.checkNumerics(operands[0], this.describeCurrent());
    }
  }

  copy(src: Storage, shape: Shape, into?: Storage): Storage {
    this.checkAlive('copy');
    const from = (src as GpuStorage).buffer;
    const to = into ? (into as GpuStorage).buffer : this.allocate('copy', shape);
    if (to !== from && !this.dryRun)
      this.queue({ kind: 'copy', src: from, dst: to, bytes: sizeOf(shape) * 4, op: 'copy' }, [from, to], []);
    return { buffer: to } satisfies GpuStorage;
  }

  dispatch(
    kernel: Kernel,
    bindings: Bindings,
    workgroups: readonly number[],
    detail: DispatchRecord['detail'] = {},
  ): void {
    const info = kernel.shader.entry(kernel.entry ?? 'main');
    const pipeline = this.pipelines.get(kernel, info.bindings);
    for (const name of Object.keys(bindings)) {
      if (!info.bindings.some((b) => b.name === name)) {
        throw new Error(`kernel ${kernel.name}: shader ${kernel.shader.name} has no binding '${name}'`);
      }
    }
    for (const count of workgroups) {
      if (count > this.limits.maxComputeWorkgroupsPerDimension) {
        throw new Error(
          `${this.currentOp}: ${formatShape(this.currentOutShape)} needs ${count} workgroups in one dimension; the device allows ${this.limits.maxComputeWorkgroupsPerDimension}`,
        );
      }
    }
    if (this.dryRun) return;
    const storage: GPUBuffer[] = [];
    const uniforms: GPUBuffer[] = [];
    const entries = info.bindings.map((b) => {
      const buffer = this.pipelines.bindingBuffer(kernel, b, bindings);
      (b.kind === 'uniform' ? uniforms : storage).push(buffer);
      return { binding: b.binding, resource: { buffer } };
    });
    const bindGroup = this.device.createBindGroup({ label: kernel.name, layout: pipeline.layout, entries });
    const command: Command = {
      kind: 'dispatch',
      pipeline,
      bindGroup,
      workgroups,
      kernel: kernel.name,
      op: this.currentOp,
      shapes: this.currentShapes,
      outShape: this.currentOutShape,
    };
    this.queue(command, storage, uniforms);
    this.trace?.push({
      op: this.currentOp,
      kernel: kernel.name,
      shapes: this.currentShapes,
      outShape: this.currentOutShape,
      detail,
    });
  }

  flush(): Promise<void> {
    return this.scheduler.flush();
  }

  async sync(): Promise<void> {
    await this.flush();
    await this.scheduler.untilRun(() => this.device.queue.onSubmittedWorkDone());
  }

  async pipelinesReady(): Promise<void> {
    await this.pipelines.ready();
  }

  get dispatcher(): Dispatcher {
    return this;
  }

  scratch(elements: number): GpuOperand {
    const shape = [elements];
    const buffer = this.allocate(`${this.currentOp} scratch`, shape);
    this.scratchOfOp.push(buffer);
    return { buffer, shape };
  }

  familyState<T>(family: string, init: () => T): T {
    if (!this.families.has(family)) this.families.set(family, init());
    return this.families.get(family) as T;
  }

  memory() {
    const { liveBytes, pooledBytes, peakBytes, heldBytes } = this.pool;
    return { liveBytes, pooledBytes, peakBytes, stepBytes: heldBytes };
  }

  stats(): SchedulerStats {
    return {
      submissions: this.scheduler.submissions,
      allocations: this.pool.allocations + this.uniforms.created,
      dispatches: this.dispatches,
      recordings: this.recorder.recordings,
      replays: this.recorder.replays,
      pipelines: this.pipelines.size,
    };
  }

  destroy(): void {
    this.pool.destroy();
    this.uniforms.destroy();
    this.device.destroy();
  }

  // ---- internals -------------------------------------------------------------------------------

  private queue(command: Command, storage: GPUBuffer[], uniforms: GPUBuffer[]): void {
    if (command.kind === 'dispatch') this.dispatches++;
    this.recorder.queued(command, storage, uniforms);
    this.scheduler.push(command);
  }

  private releaseScratch(): void {
    for (const buffer of this.scratchOfOp) this.free({ buffer } satisfies GpuStorage);
    this.scratchOfOp = [];
  }

  private checkAlive(op: string): void {
    const lost = this.scheduler.lost;
    if (lost) throw lostError(op, lost);
  }

  private setCurrent(op: string, shapes: Shape[], outShape: Shape): void {
    this.currentOp = op;
    this.currentShapes = shapes;
    this.currentOutShape = outShape;
  }

  private describeCurrent(): string {
    return `${this.currentOp} ${describeShapes(this.currentShapes, this.currentOutShape)}`;
  }

  private allocate(op: string, shape: Shape): GPUBuffer {
    const bytes = sizeOf(shape) * 4;
    const limit = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > limit) {
      throw new Error(
        `${op}: a result of shape ${formatShape(shape)} needs ${bytes} bytes; this device binds at most ${limit}`,
      );
    }
    // The size class may not pass the limit that the exact size fits.
    const size = Math.min(bufferBytes(sizeOf(shape)), Math.max(16, Math.ceil(bytes / 16) * 16, limit - (limit % 16)));
    const buffer = this.pool.acquireStorage(size, `${op} ${formatShape(shape)}`);
    this.recorder.allocated(buffer);
    // The queue runs this after every submitted use of the buffer: the pool lends it again only after a submission.
    if (this.debug.poisonTails && !this.dryRun && buffer.size > bytes) {
      const tail = new Float32Array((buffer.size - bytes) / 4).fill(NaN);
      this.device.queue.writeBuffer(buffer, bytes, tail);
    }
    return buffer;
  }

  /** Every new device buffer in an out-of-memory scope, checked with the next submission. */
  private createBuffer(descriptor: GPUBufferDescriptor): GPUBuffer {
    this.device.pushErrorScope('out-of-memory');
    const buffer = this.device.createBuffer(descriptor);
    this.scheduler.checkAllocation(
      this.device.popErrorScope(),
      `${descriptor.label}: allocating ${descriptor.size} bytes`,
    );
    return buffer;
  }

  /** Debug kernels are traced under their own name, not the op's. */
  private asOp(op: string, fn: () => void): void {
    const before = this.currentOp;
    this.currentOp = op;
    try {
      fn();
    } finally {
      this.currentOp = before;
    }
  }
}

function operand(input: BackendInput): GpuOperand {
  return { buffer: (input.storage as GpuStorage).buffer, shape: input.shape };
}
