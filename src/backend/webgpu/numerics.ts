import { bufferBytes, type BufferPool } from './buffers.js';
import type { GpuOperand } from '../../core/kernel.js';
import type { Scheduler } from './scheduler.js';

/** Ops checked per submission; a batch with more is submitted early. */
const SLOTS = 1024;

export interface NumericsHost {
  readonly scheduler: Scheduler;
  readonly pool: BufferPool;
  /** Records the check kernel: flags[slot] = 1 when `x` holds a non-finite value. */
  dispatchCheck(x: GpuOperand, flags: GpuOperand, slot: number): void;
}

/**
 * rt.debug.checkNumerics: after each op, a small kernel flags a non-finite output in that op's slot. The flags are
 * read back with the submission, and the first flagged op is named in the error that submission throws.
 */
export class NumericsChecker {
  private batch: { id: number; flags: GPUBuffer; ops: string[] } | null = null;

  constructor(private readonly host: NumericsHost) {}

  check(out: GpuOperand, op: string): void {
    const { scheduler } = this.host;
    if (this.batch && this.batch.id === scheduler.batchId && this.batch.ops.length >= SLOTS) void scheduler.flush().catch(() => undefined);
    if (!this.batch || this.batch.id !== scheduler.batchId) this.batch = this.startBatch();
    const slot = this.batch.ops.push(op) - 1;
    this.host.dispatchCheck(out, { buffer: this.batch.flags, shape: [SLOTS] }, slot);
  }

  private startBatch(): { id: number; flags: GPUBuffer; ops: string[] } {
    const { scheduler, pool } = this.host;
    const flags = pool.acquireStorage(bufferBytes(SLOTS), 'checkNumerics');
    const staging = pool.acquireStaging(bufferBytes(SLOTS));
    const ops: string[] = [];
    scheduler.attach({
      encodeEnd: (encoder) => encoder.copyBufferToBuffer(flags, 0, staging, 0, SLOTS * 4),
      afterSubmit: async () => {
        await scheduler.whileAlive(staging.mapAsync(1 /* GPUMapMode.READ */));
        const flagged = new Uint32Array(staging.getMappedRange().slice(0));
        staging.unmap();
        pool.releaseNow(staging);
        pool.release(flags);
        const first = ops.findIndex((_, i) => flagged[i] !== 0);
        if (first >= 0) throw new Error(`checkNumerics: ${ops[first]} is the first op whose output holds NaN or Inf`);
      },
    });
    scheduler.push({ kind: 'clear', buffer: flags, op: 'checkNumerics' });
    return { id: scheduler.batchId, flags, ops };
  }
}
