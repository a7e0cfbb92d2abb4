import { describeShapes, type Shape } from '../../core/shape.js';
import type { LostInfo } from '../../core/backend.js';
import type { BufferPool } from './buffers.js';
import type { WaitPacer } from './wait-pacer.js';

export interface PipelineEntry {
  layout: GPUBindGroupLayout;
  pipeline?: GPUComputePipeline;
  ready: Promise<GPUComputePipeline>;
}

export interface DispatchCommand {
  kind: 'dispatch';
  pipeline: PipelineEntry;
  bindGroup: GPUBindGroup;
  workgroups: readonly number[];
  /** For error messages and profiles: the kernel, the op that dispatched it, and its shapes. */
  kernel: string;
  op: string;
  shapes: readonly Shape[];
  outShape: Shape;
}

export interface CopyCommand {
  kind: 'copy';
  src: GPUBuffer;
  dst: GPUBuffer;
  bytes: number;
  op: string;
}

export interface ClearCommand {
  kind: 'clear';
  buffer: GPUBuffer;
  op: string;
}

export type Command = DispatchCommand | CopyCommand | ClearCommand;

/** Work that rides on one submission: commands encoded at its end, and a check once it has been submitted. */
export interface BatchHook {
  encodeEnd?(encoder: GPUCommandEncoder): void;
  afterSubmit(): Promise<void>;
}

/** Stamps kernels in one submission (the profiler, on adapters with 'timestamp-query'). */
export interface StampedBatch extends BatchHook {
  passWrites(command: DispatchCommand): GPUComputePassTimestampWrites | undefined;
}

/** How the scheduler lends itself to profiling: stamping passes, or timing one submission per kernel by the wall clock. */
export type ProfileMode =
  | { kind: 'timestamp'; batch(commands: Command[]): StampedBatch }
  | { kind: 'wall'; record(command: DispatchCommand, ms: number): void };

/** Submit before a batch grows past this many commands, so that a long eager loop never holds everything back. */
const MAX_BATCH_COMMANDS = 4096;
/** … or before this many freed bytes wait for a submission to become reusable. */
const MAX_PENDING_BYTES = 256 * 1024 * 1024;

function describeCommand(command: Command): string {
  if (command.kind !== 'dispatch') return `${command.op} (${command.kind})`;
  return `${command.op} ${describeShapes(command.shapes, command.outShape)} (kernel ${command.kernel})`;
}

/**
 * Collects recorded commands and submits them in one command encoder: at a read, at `flush`, or when a bound is
 * reached. Each submission runs in error scopes; a failed one is replayed command by command to name the op.
 */
export class Scheduler {
  submissions = 0;
  /** Increases at every flush: lets per-batch helpers notice that their batch has gone. */
  batchId = 0;
  profile: ProfileMode | null = null;
  private commands: Command[] = [];
  private hooks: BatchHook[] = [];
  private allocationChecks: Promise<Error | null>[] = [];
  private chain: Promise<void> = Promise.resolve();
  private soon: Promise<void> | null = null;
  /** An error from a submission nobody awaited (one made because a bound was reached); the next flush throws it. */
  private deferredError: unknown = null;
  private lostInfo: LostInfo | null = null;
  private readonly lostSignal: Promise<never>;

  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    lost: Promise<LostInfo>,
    private readonly afterEachSubmit: () => void,
    private readonly pacer: WaitPacer,
  ) {
    this.lostSignal = lost.then((info) => {
      this.lostInfo = info;
      throw lostError('a pending operation', info);
    });
    this.lostSignal.catch(() => undefined);
  }

  get lost(): LostInfo | null {
    return this.lostInfo;
  }

  push(command: Command): void {
    this.commands.push(command);
    this.flushIfFull();
  }

  pushAll(commands: readonly Command[]): void {
    for (const c of commands) this.commands.push(c);
    this.flushIfFull();
  }

  /** Adds work to the batch being recorded. */
  attach(hook: BatchHook): void {
    this.hooks.push(hook);
  }

  /** An allocation's error scope: its error, if any, is thrown with the submission that follows. */
  checkAllocation(scope: Promise<GPUError | null>, what: string): void {
    this.allocationChecks.push(
      scope.then(
        (e) => (e ? new Error(`${what} failed: ${e.message || 'out of memory'}`) : null),
        () => null,
      ),
    );
  }

  /** Rejects with a clear error if the device is lost first, so that nothing waits forever on a dead device. */
  whileAlive<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.lostSignal]);
  }

  /** Waits for work already submitted (`wait` is a map or onSubmittedWorkDone), started when the pacer says. */
  async untilRun<T>(wait: () => Promise<T>): Promise<T> {
    await this.whileAlive(this.pacer.beforeWait());
    const result = await this.whileAlive(wait());
    this.pacer.waited();
    return result;
  }

  /** Submits everything recorded so far, after (and in order with) earlier submissions. */
  flush(): Promise<void> {
    const earlier = this.deferredError;
    this.deferredError = null;
    if (this.commands.length === 0 && this.hooks.length === 0 && this.allocationChecks.length === 0) {
      return earlier ? Promise.reject(earlier) : this.chain;
    }
    const batch = this.commands;
    const hooks = this.hooks;
    const allocationChecks = this.allocationChecks;
    this.commands = [];
    this.hooks = [];
    this.allocationChecks = [];
    this.batchId++;
    const freedBefore = this.pool.pendingCount;
    const submitted = this.chain.then(() => this.submit(batch, hooks, allocationChecks, freedBefore));
    this.chain = submitted.catch(() => undefined);
    return earlier ? submitted.then(() => Promise.reject(earlier)) : submitted;
  }

  /** Flushes once the current task's synchronous work is done, so that several reads started together share a submission. */
  flushSoon(): Promise<void> {
    this.soon ??= Promise.resolve().then(() => {
      this.soon = null;
      return this.flush();
    });
    return this.soon;
  }

  private flushIfFull(): void {
    if (this.commands.length < MAX_BATCH_COMMANDS && this.pool.pendingBytes < MAX_PENDING_BYTES) return;
    this.flush().catch((e: unknown) => (this.deferredError ??= e));
  }

  private async submit(
    batch: Command[],
    hooks: BatchHook[],
    allocationChecks: Promise<Error | null>[],
    freedBefore: number,
  ): Promise<void> {
    let handedOver = false;
    const release = () => {
      if (handedOver) return;
      handedOver = true;
      this.pool.submitted(freedBefore);
      this.afterEachSubmit();
    };
    try {
      if (this.lostInfo) throw lostError('submit', this.lostInfo);
      await this.whileAlive(
        Promise.all(batch.map((c) => (c.kind === 'dispatch' && !c.pipeline.pipeline ? c.pipeline.ready : null))),
      );
      const allocationError = (await this.whileAlive(Promise.all(allocationChecks))).find((e) => e !== null);
      if (allocationError) throw allocationError;
      if (this.profile?.kind === 'wall') {
        await this.submitEachTimed(batch, this.profile);
        release();
      } else {
        const stamped = this.profile?.kind === 'timestamp' ? this.profile.batch(batch) : null;
        this.device.pushErrorScope('out-of-memory');
        this.device.pushErrorScope('validation');
        const encoder = this.device.createCommandEncoder();
        encode(encoder, batch, stamped);
        stamped?.encodeEnd?.(encoder);
        for (const hook of hooks) hook.encodeEnd?.(encoder);
        this.device.queue.submit([encoder.finish()]);
        this.pacer.submitted(batch);
        this.submissions++;
        release();
        const [validation, oom] = await this.whileAlive(
          Promise.all([this.device.popErrorScope(), this.device.popErrorScope()]),
        );
        if (validation) throw await this.diagnose(batch, 'validation', validation);
        if (oom) throw await this.diagnose(batch, 'out-of-memory', oom);
        await stamped?.afterSubmit();
      }
      for (const hook of hooks) await this.whileAlive(hook.afterSubmit());
    } finally {
      release();
    }
  }

  /** Profiling without timestamps: one submission per kernel, timed from submit until the queue is idle. */
  private async submitEachTimed(batch: Command[], mode: Extract<ProfileMode, { kind: 'wall' }>): Promise<void> {
    for (const command of batch) {
      const encoder = this.device.createCommandEncoder();
      encode(encoder, [command], null);
      const started = performance.now();
      this.device.queue.submit([encoder.finish()]);
      this.submissions++;
      await this.whileAlive(this.device.queue.onSubmittedWorkDone());
      if (command.kind === 'dispatch') mode.record(command, performance.now() - started);
    }
  }

  /**
   * A failed command buffer runs nothing, so the batch is submitted again one command at a time, each in its own
   * error scope: the commands that are fine run (once, as they should have), and the first that fails is named.
   */
  private async diagnose(batch: Command[], kind: GPUErrorFilter, error: GPUError): Promise<Error> {
    const scopes: Promise<GPUError | null>[] = [];
    for (const command of batch) {
      this.device.pushErrorScope(kind);
      const encoder = this.device.createCommandEncoder();
      encode(encoder, [command], null);
      this.device.queue.submit([encoder.finish()]);
      scopes.push(this.device.popErrorScope());
    }
    this.submissions += batch.length;
    const errors = await this.whileAlive(Promise.all(scopes));
    const index = errors.findIndex((e) => e !== null);
    if (index < 0)
      return new Error(
        `webgpu: a submission of ${batch.length} commands failed with a ${kind} error: ${error.message}`,
      );
    return new Error(`${describeCommand(batch[index])}: WebGPU ${kind} error: ${errors[index]!.message}`);
  }
}

function encode(encoder: GPUCommandEncoder, commands: readonly Command[], stamped: StampedBatch | null): void {
  let pass: GPUComputePassEncoder | null = null;
  for (const command of commands) {
    if (command.kind === 'dispatch') {
      const timestampWrites = stamped?.passWrites(command);
      if (timestampWrites) {
        pass?.end();
        pass = encoder.beginComputePass({ timestampWrites });
      } else {
        pass ??= encoder.beginComputePass();
      }
      pass.setPipeline(command.pipeline.pipeline!);
      pass.setBindGroup(0, command.bindGroup);
      pass.dispatchWorkgroups(command.workgroups[0], command.workgroups[1] ?? 1, command.workgroups[2] ?? 1);
      if (timestampWrites) {
        pass.end();
        pass = null;
      }
    } else {
      pass?.end();
      pass = null;
      if (command.kind === 'copy') encoder.copyBufferToBuffer(command.src, 0, command.dst, 0, command.bytes);
      else encoder.clearBuffer(command.buffer);
    }
  }
  pass?.end();
}

export function lostError(op: string, info: LostInfo): Error {
  const why = info.message ? `${info.reason}: ${info.message}` : info.reason;
  return new Error(
    `${op}: the GPU device was lost (${why}). This runtime cannot be used any more; create a new one with createRuntime().`,
  );
}
