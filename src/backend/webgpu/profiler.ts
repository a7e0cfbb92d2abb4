import type { KernelTime, Profiler } from '../../core/backend.js';
import { describeShapes } from '../../core/shape.js';
import { MAP_READ, Usage } from './buffers.js';
import type { Command, DispatchCommand, Scheduler, StampedBatch } from './scheduler.js';

/** A query set holds at most 4096 timestamps: two per kernel. */
const MAX_STAMPED_KERNELS = 2048;

/**
 * Per-kernel GPU times. With 'timestamp-query', each kernel gets its own compute pass whose start and end the GPU
 * stamps; without it, each kernel is submitted alone and timed by the wall clock until the queue is idle.
 */
export class GpuProfiler implements Profiler {
  readonly timing: 'timestamp-query' | 'wall';
  private times: KernelTime[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly scheduler: Scheduler,
    hasTimestamps: boolean,
  ) {
    this.timing = hasTimestamps ? 'timestamp-query' : 'wall';
  }

  begin(): void {
    this.times = [];
    this.scheduler.profile =
      this.timing === 'wall'
        ? { kind: 'wall', record: (command, ms) => this.add(command, ms) }
        : { kind: 'timestamp', batch: (commands) => this.stamp(commands) };
  }

  async end(): Promise<KernelTime[]> {
    try {
      await this.scheduler.flush();
    } finally {
      this.scheduler.profile = null;
    }
    return this.times;
  }

  private add(command: DispatchCommand, ms: number): void {
    const shape = describeShapes(command.shapes, command.outShape, '·');
    this.times.push({ name: command.kernel, op: command.op, shape, ms });
  }

  private stamp(commands: Command[]): StampedBatch {
    const kernels = Math.min(MAX_STAMPED_KERNELS, commands.filter((c) => c.kind === 'dispatch').length);
    if (kernels === 0) return { passWrites: () => undefined, afterSubmit: async () => {} };
    const count = kernels * 2;
    const querySet = this.device.createQuerySet({ type: 'timestamp', count });
    const resolved = this.device.createBuffer({
      size: count * 8,
      usage: Usage.QUERY_RESOLVE | Usage.COPY_SRC,
      label: 'profile',
    });
    const readback = this.device.createBuffer({
      size: count * 8,
      usage: Usage.MAP_READ | Usage.COPY_DST,
      label: 'profile',
    });
    const stamped: DispatchCommand[] = [];
    return {
      passWrites: (command) => {
        if (stamped.length >= kernels) return undefined;
        const i = stamped.push(command) - 1;
        return { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
      },
      encodeEnd: (encoder) => {
        encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, readback, 0, count * 8);
      },
      afterSubmit: async () => {
        try {
          await this.scheduler.untilRun(() => readback.mapAsync(MAP_READ));
          const ns = new BigUint64Array(readback.getMappedRange());
          stamped.forEach((command, i) => {
            const elapsed = ns[2 * i + 1] > ns[2 * i] ? Number(ns[2 * i + 1] - ns[2 * i]) : 0;
            this.add(command, elapsed / 1e6);
          });
          readback.unmap();
        } finally {
          querySet.destroy();
          resolved.destroy();
          readback.destroy();
        }
      },
    };
  }
}
