import type { Backend, BackendInput, DebugOptions, DispatchRecord, Storage } from './backend.js';
import type { InPlaceOpDef, OpDef } from '../ops/op.js';
import { formatShape, sizeOf, type Shape } from '../shape.js';

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
  private liveBytes = 0;
  private peakBytes = 0;

  upload(data: ArrayLike<number>, shape: Shape): Storage {
    return this.adopt(Float64Array.from(data as ArrayLike<number>), shape);
  }

  async read(storage: Storage): Promise<Float64Array> {
    return (storage as CpuStorage).data.slice();
  }

  free(storage: Storage): void {
    this.liveBytes -= (storage as CpuStorage).data.byteLength;
  }

  run<P>(op: OpDef<P>, inputs: BackendInput[], params: P, outShape: Shape): Storage {
    const operands = inputs.map((i) => ({ data: (i.storage as CpuStorage).data, shape: i.shape }));
    const data = op.cpu(operands, params, outShape);
    this.trace?.push({ op: op.name, kernel: `cpu:${op.name}`, shapes: inputs.map((i) => i.shape), outShape, detail: {} });
    return this.adopt(data, outShape);
  }

  runInPlace<P>(op: InPlaceOpDef<P>, inputs: BackendInput[], params: P): void {
    op.cpu(inputs.map((i) => ({ data: (i.storage as CpuStorage).data, shape: i.shape })), params);
    this.trace?.push({ op: op.name, kernel: `cpu:${op.name}`, shapes: inputs.map((i) => i.shape), outShape: inputs[0]?.shape ?? [], detail: {} });
  }

  async sync(): Promise<void> {}

  memory() {
    return { liveBytes: this.liveBytes, pooledBytes: 0, peakBytes: this.peakBytes };
  }

  destroy(): void {}

  private adopt(data: Float64Array, shape: Shape): CpuStorage {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`cpu: produced ${data.length} values for shape ${formatShape(shape)}`);
    }
    this.liveBytes += data.byteLength;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return { data };
  }
}
