import type { Backend, Storage } from '../core/backend.js';
import type { KernelDef } from '../core/kernel.js';
import { formatShape, sizeOf, type Shape } from '../core/shape.js';
import type { TensorData } from '../core/tensor-data.js';

/** One op, defined once: its shape rule, its CPU reference, its GPU dispatch and its VJP. */
export interface OpDef<P> extends KernelDef<P> {
  /**
   * Gradients of the inputs given the gradient of the output, written with ops so that they run on either backend.
   * Returns null for an input that has no gradient. Omitted for ops that are not differentiable.
   */
  vjp?(grad: Tensor, inputs: Tensor[], params: P, output: Tensor): (Tensor | null)[];
}

export function defineOp<P = undefined>(def: OpDef<P>): OpDef<P> {
  return def;
}

/**
 * An op whose output is a view: the input's storage under another shape (reshape, squeeze...). It runs no kernel
 * on any backend, so it has only a shape rule and a VJP.
 */
export interface ViewDef<P> {
  name: string;
  /** Validates the input shape and returns the view's; its size must be the input's. */
  shape(input: Shape, params: P): Shape;
  vjp(grad: Tensor, inputs: Tensor[], params: P, output: Tensor): (Tensor | null)[];
}

export function defineView<P>(def: ViewDef<P>): ViewDef<P> {
  return def;
}

/**
 * What tensors, the tape, compiled steps and the library layers (nn, optim) need of a runtime. `Runtime`
 * implements it; nothing below the runtime layer sees the Runtime class.
 */
export interface Context {
  readonly backend: Backend;
  /** False inside `noGrad` and while gradients are computed, so that nothing records a tape. */
  gradEnabled: boolean;
  /**
   * True while VJPs run: they may read tensors whose handles a `tidy` disposed but whose values a tape node saved.
   * Everywhere else a disposed handle is an error.
   */
  inBackward: boolean;
  /** Seeds the runtime's generator state (random ops called without a seed of their own). */
  readonly seed?: number;
  adopt(t: Tensor): Tensor;
  release(t: Tensor): void;
  isInCurrentScope(t: Tensor): boolean;
  /** Takes `t` out of every enclosing `tidy`. */
  keep<T extends Tensor>(t: T): T;
  tidy<T>(fn: () => T): T;
  noGrad<T>(fn: () => T): T;
  /** A tensor of row-major values (uploaded: a compiled step replays no kernel for it). */
  tensor(data: TensorData, shape?: readonly number[], options?: { requiresGrad?: boolean }): Tensor;
  /** State an op family keeps per runtime (the dropout generator, say), made by `init` on first use. */
  familyState<T>(family: string, init: () => T): T;
}

/** How a tensor was made, kept only when some input needs a gradient. */
export interface TapeNode {
  // The tape holds ops of every parameter type; `params` is always that op's own.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  op: OpDef<any> | ViewDef<any>;
  inputs: Tensor[];
  params: unknown;
}

export class Tensor {
  /** @internal How many tensors have been made so far. */
  static created = 0;
  readonly size: number;
  /** @internal Null once freed: the handle is disposed and no tape node still needs the values. */
  storage: Storage | null;
  /** @internal */ readonly node: TapeNode | null;
  /** @internal How many live tape nodes read this tensor in their backward pass, and how many views share its storage. */
  savedBy = 0;
  /**
   * @internal The tensor whose storage this one shares (a view), or null when it owns its storage. A view holds its
   * base as a tape node holds its inputs (`savedBy`), so the storage stays until the last of them is freed, and
   * only the owner ever frees it.
   */
  readonly base: Tensor | null;
  /** @internal Creation order: which tensors a compiled step made, and which it was given. */
  readonly serial = Tensor.created++;
  private handleDisposed = false;

  /** @internal Use `rt.tensor` or an op to make tensors. */
  constructor(
    /** @internal */ readonly owner: Context,
    readonly shape: Shape,
    storage: Storage,
    readonly requiresGrad: boolean,
    node: TapeNode | null = null,
    base: Tensor | null = null,
  ) {
    this.size = sizeOf(shape);
    this.storage = storage;
    this.node = node;
    this.base = base;
    for (const input of node?.inputs ?? []) input.savedBy++;
    if (base) base.savedBy++;
  }

  /** @internal A new tensor on `storage`, owned by `owner` and in its current scope. */
  static from(
    owner: Context,
    shape: Shape,
    storage: Storage,
    requiresGrad = false,
    node: TapeNode | null = null,
  ): Tensor {
    return owner.adopt(new Tensor(owner, shape, storage, requiresGrad, node));
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
    if (this.handleDisposed || this.storage === null)
      throw new Error(`${op}: tensor ${formatShape(this.shape)} was disposed`);
    return this.storage;
  }
}

/** Frees a disposed tensor's storage once nothing needs it, then releases what its own tape node held (iteratively: chains can be long). */
function freeUnneeded(start: Tensor): void {
  const pending = [start];
  while (pending.length > 0) {
    const t = pending.pop()!;
    if (!t.disposed || t.savedBy > 0 || t.storage === null) continue;
    if (t.base) {
      t.base.savedBy--;
      pending.push(t.base);
    } else {
      t.owner.backend.free(t.storage, t.shape);
    }
    t.storage = null;
    for (const input of t.node?.inputs ?? []) {
      input.savedBy--;
      pending.push(input);
    }
  }
}

/**
 * Every value must be a live tensor of `owner`: the one check behind every op, public or internal. While VJPs run,
 * a handle that a `tidy` disposed is still readable when a tape node saved its values.
 */
export function checkTensors(op: string, owner: Context, values: readonly unknown[]): void {
  values.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`${op}: argument ${i} is not a Tensor (got ${describe(t)})`);
    if (t.owner !== owner) throw new Error(`${op}: tensor ${formatShape(t.shape)} belongs to another runtime`);
    if (t.storage === null || (t.disposed && !owner.inBackward))
      throw new Error(`${op}: tensor ${formatShape(t.shape)} was disposed`);
  });
}

/**
 * Runs `op` on its backend and, when an input needs a gradient, records it on the tape.
 * Every check that can fail happens before any work is recorded, so a bad call leaves the runtime as it was.
 */
export function apply<P>(owner: Context, op: OpDef<P>, inputs: Tensor[], params: P): Tensor {
  checkTensors(op.name, owner, inputs);
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
  return Tensor.from(owner, outShape, storage, tracked, tracked ? { op, inputs, params } : null);
}

/**
 * Applies a view op: the output shares `input`'s storage under the new shape, so no kernel runs and nothing is
 * copied; in-place updates of either are seen through the other. Recorded on the tape like any op.
 */
export function applyView<P>(view: ViewDef<P>, input: Tensor, params: P): Tensor {
  checkTensors(view.name, input.owner, [input]);
  const owner = input.owner;
  const shape = view.shape(input.shape, params);
  if (sizeOf(shape) !== input.size) {
    throw new Error(`${view.name}: a view of ${formatShape(input.shape)} cannot have shape ${formatShape(shape)}`);
  }
  const tracked = owner.gradEnabled && input.requiresGrad;
  const node = tracked ? { op: view, inputs: [input], params } : null;
  return owner.adopt(new Tensor(owner, shape, input.storage!, tracked, node, input));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
