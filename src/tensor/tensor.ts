import type { Backend, Storage } from '../core/backend.js';
import type { OpDef } from './op.js';
import { formatShape, sizeOf, type Shape } from '../core/shape.js';
import type { Runtime } from '../runtime/runtime.js';

/** How a tensor was made, kept only when some input needs a gradient. */
export interface TapeNode {
  op: OpDef<any>;
  inputs: Tensor[];
  params: unknown;
}

/** The part of the runtime a tensor needs; the runtime implements it. */
export interface TensorOwner {
  readonly backend: Backend;
  /** False while gradients are being computed, so that VJPs record no tape. */
  gradEnabled: boolean;
  adopt(t: Tensor): Tensor;
  release(t: Tensor): void;
}

export class Tensor {
  readonly size: number;
  /** @internal Null once freed: the handle is disposed and no tape node still needs the values. */
  storage: Storage | null;
  /** @internal */ readonly node: TapeNode | null;
  /** @internal How many live tape nodes read this tensor in their backward pass. */
  savedBy = 0;
  private handleDisposed = false;

  /** @internal Use `rt.tensor` or an op to make tensors. */
  constructor(
    /** @internal */ readonly owner: TensorOwner,
    readonly shape: Shape,
    storage: Storage,
    readonly requiresGrad: boolean,
    node: TapeNode | null = null,
  ) {
    this.size = sizeOf(shape);
    this.storage = storage;
    this.node = node;
    for (const input of node?.inputs ?? []) input.savedBy++;
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.handleDisposed;
  }

  /** Reads the values back as float32, in row-major order. */
  async data(): Promise<Float32Array> {
    const values = await this.owner.backend.read(this.live('data'), this.shape);
    return values instanceof Float32Array ? values : Float32Array.from(values);
  }

  /** Reads the values at the backend's full precision: float64 on the CPU reference, float32 widened on the GPU. */
  async dataF64(): Promise<Float64Array> {
    const values = await this.owner.backend.read(this.live('dataF64'), this.shape);
    return values instanceof Float64Array ? values : Float64Array.from(values);
  }

  /**
   * Disposes the tensor: it cannot be used afterwards. Its memory goes back at once, unless the tape of a live
   * tensor still needs its values for a backward pass; then it goes when that tensor is disposed. Safe to call twice.
   */
  dispose(): void {
    if (this.handleDisposed) return;
    this.handleDisposed = true;
    this.owner.release(this);
    freeUnneeded(this);
  }

  toString(): string {
    return `Tensor${formatShape(this.shape)}${this.disposed ? ' (disposed)' : ''}`;
  }

  /** @internal */
  live(op: string): Storage {
    if (this.handleDisposed || this.storage === null) throw new Error(`${op}: tensor ${formatShape(this.shape)} was disposed`);
    return this.storage;
  }

  // Method forms of the runtime's ops, for chaining: x.matmul(w).add(b).relu()
  matmul(b: Tensor, options?: { transposeA?: boolean; transposeB?: boolean }): Tensor {
    return this.rt.matmul(this, b, options);
  }
  add(b: Tensor | number): Tensor {
    return this.rt.add(this, b);
  }
  sub(b: Tensor | number): Tensor {
    return this.rt.sub(this, b);
  }
  mul(b: Tensor | number): Tensor {
    return this.rt.mul(this, b);
  }
  div(b: Tensor | number): Tensor {
    return this.rt.div(this, b);
  }
  relu(): Tensor {
    return this.rt.relu(this);
  }
  tanh(): Tensor {
    return this.rt.tanh(this);
  }
  exp(): Tensor {
    return this.rt.exp(this);
  }
  log(): Tensor {
    return this.rt.log(this);
  }
  neg(): Tensor {
    return this.rt.neg(this);
  }
  sum(axis?: number): Tensor {
    return this.rt.sum(this, axis);
  }
  mean(axis?: number): Tensor {
    return this.rt.mean(this, axis);
  }
  transpose(): Tensor {
    return this.rt.transpose(this);
  }
  get T(): Tensor {
    return this.rt.transpose(this);
  }

  private get rt(): Runtime {
    return this.owner as unknown as Runtime;
  }
}

/** Frees a disposed tensor's storage once nothing needs it, then releases what its own tape node held (iteratively: chains can be long). */
function freeUnneeded(start: Tensor): void {
  const pending = [start];
  while (pending.length > 0) {
    const t = pending.pop()!;
    if (!t.disposed || t.savedBy > 0 || t.storage === null) continue;
    t.owner.backend.free(t.storage, t.shape);
    t.storage = null;
    for (const input of t.node?.inputs ?? []) {
      input.savedBy--;
      pending.push(input);
    }
  }
}

/**
 * Runs `op` on its backend and, when an input needs a gradient, records it on the tape.
 * Every check that can fail happens before any work is recorded, so a bad call leaves the runtime as it was.
 */
export function apply<P>(owner: TensorOwner, op: OpDef<P>, inputs: Tensor[], params: P): Tensor {
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`${op.name}: input ${i} is not a Tensor (got ${describe(t)})`);
    if (t.owner !== owner) throw new Error(`${op.name}: input ${i} ${formatShape(t.shape)} belongs to another runtime`);
    // A disposed handle whose values a tape node saved is still readable here, by the backward pass.
    if (t.storage === null) throw new Error(`${op.name}: input ${i} ${formatShape(t.shape)} was disposed`);
  });
  const outShape = op.shape(
    inputs.map((t) => t.shape),
    params,
  );
  const storage = owner.backend.run(
    op,
    inputs.map((t) => ({ storage: t.storage!, shape: t.shape })),
    params,
    outShape,
  );
  const tracked = owner.gradEnabled && op.vjp !== undefined && inputs.some((t) => t.requiresGrad);
  return owner.adopt(new Tensor(owner, outShape, storage, tracked, tracked ? { op, inputs, params } : null));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
