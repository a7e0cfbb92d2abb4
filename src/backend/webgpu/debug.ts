// The debug instrumentation of the WebGPU backend: poisoned outputs and numerics checks (`rt.debug`).
import { elementwiseGrid, type Bindings, type GpuOperand, type Kernel } from '../../core/kernel.js';
import { sizeOf } from '../../core/shape.js';
import { Shader } from '../../core/shader.js';
import { bufferBytes, MAP_READ, type BufferPool } from './buffers.js';
import type { Scheduler } from './scheduler.js';
import fillSource from '../../../shaders/fill.wgsl?raw';
import checkNumericsSource from '../../../shaders/check_numerics.wgsl?raw';

const fillShader = new Shader('fill', fillSource);
const checkNumericsShader = new Shader('check_numerics', checkNumericsSource);
const NAN_BITS = 0x7fc00000;

/** What the debug kernels need of the backend. */
export interface DebugHost {
  readonly scheduler: Scheduler;
  readonly pool: BufferPool;
  /** Records a kernel traced under `op` (its own name, not the op being run). */
  dispatchAs(op: string, kernel: Kernel, bindings: Bindings, workgroups: readonly number[]): void;
}

export class DebugKernels {
  private readonly numerics: NumericsChecker;

  constructor(private readonly host: DebugHost) {
    this.numerics = new NumericsChecker({
      scheduler: host.scheduler,
      pool: host.pool,
      dispatchCheck: (x, flags, slot) => {
        const size = sizeOf(x.shape);
        host.dispatchAs(
          'checkNumerics',
          { name: 'check_numerics', shader: checkNumericsShader },
          { x, flags, params: { size, slot } },
          elementwiseGrid(size),
        );
      },
    });
  }

  /** Fills `out` with NaN, so that an element its kernel does not write shows up. */
  poison(out: GpuOperand): void {
    const size = sizeOf(out.shape);
    this.host.dispatchAs(
      'poison',
      { name: 'poison', shader: fillShader },
      { out, params: { size, value: NAN_BITS } },
      elementwiseGrid(size),
    );
  }

  /** Flags `out` if it holds NaN or Inf; the submission's read names the first flagged op, `description`. */
  checkNumerics(out: GpuOperand, description: string): void {
    this.numerics.check(out, description);
  }
}

/** Ops checked per submission; a batch with more is submitted early. */
const SLOTS = 1024;

interface NumericsHost {
  readonly scheduler: Scheduler;
  readonly pool: BufferPool;
  /** Records the check kernel: flags[slot] = 1 when `x` holds a non-finite value. */
  dispatchCheck(x: GpuOperand, flags: GpuOperand, slot: number): void;
}

/**
 * rt.debug.checkNumerics: after each op, a small kernel flags a non-finite output in that op's slot. The flags are
 * read back with the submission, and the first flagged op is named in the error that submission throws.
 */
class NumericsChecker {
  private batch: { id: number; flags: GPUBuffer; ops: string[] } | null = null;

  constructor(private readonly host: NumericsHost) {}

  check(out: GpuOperand, op: string): void {
    const { scheduler } = this.host;
    if (this.batch && this.batch.id === scheduler.batchId && this.batch.ops.length >= SLOTS)
      void scheduler.flush().catch(() => undefined);
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
        await scheduler.whileAlive(staging.mapAsync(MAP_READ));
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
