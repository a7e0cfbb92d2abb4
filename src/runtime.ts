import type { Backend, DispatchRecord, LostInfo, MemoryStats, SchedulerStats } from './backend/backend.js';
import { compileStep, type CompiledStep } from './compile.js';
import { profileRun, warmCommon, warmMatmuls, type ProfileResult } from './scheduling.js';
import { CpuBackend } from './backend/cpu.js';
import { Tensor, type TensorOwner } from './tensor.js';
import { TensorScopes } from './scopes.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';
import { gradients } from './autodiff.js';
import { matmul, type MatmulOptions } from './ops/matmul.js';
import { transpose } from './ops/transpose.js';
import { linear, type Activation, type LinearOptions } from './ops/linear.js';
import { tuneMatmul, type TuneResult } from './ops/matmul-tune.js';
import type { MatmulShape } from './ops/matmul-plan.js';
import { binary, unary, type UnaryName } from './ops/elementwise.js';
import { mean, sum } from './ops/reduce.js';
import { mseLoss, softmaxCrossEntropy } from './ops/loss.js';
import { full } from './ops/fill.js';
import type { GpuInfo } from './backend/webgpu/device.js';
import { Nn } from './nn/index.js';
import { accuracy, valueAndGrad, type ValueAndGrad } from './nn/functional.js';
import { Adam, Sgd, type AdamOptions, type SgdOptions } from './optim/optimizer.js';
import { decodeSafetensors, saveSafetensors } from './safetensors.js';

export interface RuntimeOptions {
  backend: 'webgpu' | 'cpu';
  /** The WebGPU entry point; defaults to `navigator.gpu`. In Node, pass `create([])` from the `webgpu` package. */
  gpu?: GPU;
}

export interface CpuInfo {
  backend: 'cpu';
  adapter: { vendor: string; architecture: string; device: string; description: string };
  limits: Record<string, number>;
  features: string[];
}

export type RuntimeInfo = GpuInfo | CpuInfo;

export interface TensorOptions {
  requiresGrad?: boolean;
}

type Operand = Tensor | number;

let nextRuntimeId = 1;

/**
 * A webgrad runtime: one backend, its tensors, their tape and the ops on them.
 * Create one with `createRuntime`.
 */
export class Runtime implements TensorOwner {
  readonly id = nextRuntimeId++;
  gradEnabled = true;
  private readonly scopes = new TensorScopes();

  /** @internal */
  constructor(
    readonly backend: Backend,
    readonly info: RuntimeInfo,
  ) {}

  // ---- tensors ---------------------------------------------------------------------------------

  /** A tensor from row-major values. `shape` defaults to the data's length (1-D). */
  tensor(data: Float32Array | Float64Array | readonly number[], shape?: readonly number[], options: TensorOptions = {}): Tensor {
    const isArrayLike = Array.isArray(data) || data instanceof Float32Array || data instanceof Float64Array;
    if (!isArrayLike) throw new Error(`tensor: data must be a Float32Array or an array of numbers, got ${typeof data}`);
    const dims = checkShape('tensor', shape ?? [data.length]);
    if (data.length !== sizeOf(dims)) {
      throw new Error(`tensor: ${data.length} values do not fill shape ${formatShape(dims)} (${sizeOf(dims)} elements)`);
    }
    return this.adopt(new Tensor(this, dims, this.backend.upload(data, dims), options.requiresGrad ?? false));
  }

  zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return this.full(shape, 0, options);
  }

  ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return this.full(shape, 1, options);
  }

  full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
    const dims = checkShape('full', shape);
    if (!options.requiresGrad) return full(this, dims, value);
    return this.tensor(new Float32Array(sizeOf(dims)).fill(value), dims, options);
  }

  // ---- ops -------------------------------------------------------------------------------------

  /** op(A)·op(B) for 2-D operands; the flags read A as [K, M] or B as [N, K] without copying. */
  matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
    this.checkOwned('matmul', [a, b]);
    return matmul(a, b, options);
  }

  /**
   * act(x·w + bias) in one matmul kernel, the bias and activation applied in its epilogue. x [batch, in],
   * w [in, out] (or [out, in] with `transposeW`), bias [out] or null. Differentiable for every activation.
   */
  linear(x: Tensor, w: Tensor, bias?: Tensor | null, activation: Activation = 'identity', options: LinearOptions = {}): Tensor {
    this.checkOwned('linear', bias ? [x, w, bias] : [x, w]);
    return linear(x, w, bias, activation, options);
  }

  /**
   * Times the candidate matmul kernels on this adapter for `shapes` (by default the products of training an MLP
   * layer) and uses the fastest for every later matmul of the same shape class. Optional: without it the kernel is
   * chosen from the shape and the adapter.
   */
  async tune(shapes?: MatmulShape[], reps?: number): Promise<TuneResult[]> {
    return tuneMatmul(this, shapes, reps);
  }

  /** A materialised 2-D transpose. */
  transpose(a: Tensor): Tensor {
    this.checkOwned('transpose', [a]);
    return transpose(a);
  }

  /** Elementwise a + b, broadcasting NumPy-style (a row vector [n] over [m, n], a scalar over anything). */
  add(a: Operand, b: Operand): Tensor {
    this.checkOperands('add', a, b);
    return binary('add', a, b);
  }

  sub(a: Operand, b: Operand): Tensor {
    this.checkOperands('sub', a, b);
    return binary('sub', a, b);
  }

  mul(a: Operand, b: Operand): Tensor {
    this.checkOperands('mul', a, b);
    return binary('mul', a, b);
  }

  div(a: Operand, b: Operand): Tensor {
    this.checkOperands('div', a, b);
    return binary('div', a, b);
  }

  relu(a: Tensor): Tensor {
    return this.unary('relu', a);
  }

  tanh(a: Tensor): Tensor {
    return this.unary('tanh', a);
  }

  exp(a: Tensor): Tensor {
    return this.unary('exp', a);
  }

  log(a: Tensor): Tensor {
    return this.unary('log', a);
  }

  neg(a: Tensor): Tensor {
    return this.unary('neg', a);
  }

  square(a: Tensor): Tensor {
    return this.unary('square', a);
  }

  /** a · factor, for a constant factor. */
  scale(a: Tensor, factor: number): Tensor {
    this.checkOwned('scale', [a]);
    if (typeof factor !== 'number') throw new Error(`scale: the factor must be a number, got ${typeof factor}`);
    return unary('scale', a, factor);
  }

  /** The sum over `axis`, or over every element (a scalar) when it is omitted. Axis 0 sums the rows. */
  sum(a: Tensor, axis?: number): Tensor {
    this.checkOwned('sum', [a]);
    return sum(a, axis);
  }

  mean(a: Tensor, axis?: number): Tensor {
    this.checkOwned('mean', [a]);
    return mean(a, axis);
  }

  /** Mean squared error over all elements. */
  mseLoss(pred: Tensor, target: Tensor): Tensor {
    this.checkOwned('mseLoss', [pred, target]);
    return mseLoss(pred, target);
  }

  /**
   * Mean softmax cross-entropy of logits [m, n]. Labels are one-hot [m, n], or class indices
   * (a tensor [m], or an array of m integers).
   */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor | readonly number[] | Int32Array): Tensor {
    this.checkOwned('softmaxCrossEntropy', labels instanceof Tensor ? [logits, labels] : [logits]);
    return softmaxCrossEntropy(logits, labels);
  }

  // ---- gradients and memory --------------------------------------------------------------------

  /** Gradients of a scalar `loss` with respect to each of `params`, each of its parameter's shape. */
  async grad(loss: Tensor, params: Tensor[]): Promise<Tensor[]> {
    return gradients(this, loss, params);
  }

  /**
   * Runs `fn` and disposes every tensor it made, except those in its result (a tensor, or arrays and objects
   * holding tensors). `fn` may be async; tidies that overlap in time should not be interleaved.
   */
  tidy<T>(fn: () => T): T {
    return this.scopes.tidy(fn);
  }

  /** Runs `fn` without recording a tape: nothing it makes has a gradient. */
  noGrad<T>(fn: () => T): T {
    const before = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = before;
    }
  }

  memory(): MemoryStats {
    return { ...this.backend.memory(), liveTensors: this.scopes.liveCount };
  }

  /** Waits until the device has finished all recorded work. */
  async sync(): Promise<void> {
    await this.backend.sync();
  }

  // ---- scheduling: batched submission, compiled steps, warm-up, profiling, device loss ----------

  /** Submits the work recorded so far without waiting for it (reads and `sync` submit by themselves). */
  flush(): Promise<void> {
    return this.backend.flush();
  }

  /** Counters since the runtime was made: submissions, buffer allocations, dispatches, recordings, replays, pipelines. */
  stats(): SchedulerStats {
    return this.backend.stats();
  }

  /**
   * Resolves with the reason once the GPU device is lost (or destroyed). From then on every call on this runtime
   * rejects with an error saying so; make a new runtime with `createRuntime`.
   */
  get lost(): Promise<LostInfo> {
    return this.backend.lost;
  }

  /**
   * Compiles a training step: the first call (per set of input shapes) records every dispatch `fn` makes; later
   * calls copy the new inputs in and replay them with the same buffers, bind groups and pipelines, running no op
   * code, with results equal to the eager path's. See {@link CompiledStep} for the contract.
   */
  compile<A extends Tensor[], R>(fn: (...inputs: A) => R | Promise<R>): CompiledStep<A, R> {
    return compileStep(this, fn);
  }

  /**
   * Compiles pipelines ahead of use, so that the first real step does not wait for them. `work` is a function that
   * makes the ops to warm (one training step on tensors of the real shapes, say): it runs with dispatches turned
   * off, so it costs no GPU time. Matmul shapes [M, K, N] warm the four transposed variants. With no argument, a
   * small MLP step warms the common kernels.
   */
  async warmup(work?: (() => unknown) | [number, number, number][]): Promise<void> {
    const run = typeof work === 'function' ? work : Array.isArray(work) ? () => warmMatmuls(this, work) : () => warmCommon(this);
    this.backend.dryRun = true;
    try {
      await this.tidy(run);
    } finally {
      this.backend.dryRun = false;
    }
    await this.backend.pipelinesReady();
  }

  /**
   * Runs `fn` and times each kernel it dispatched: GPU time from timestamp queries where the adapter has
   * 'timestamp-query' (else the wall time of each kernel submitted alone; on the CPU, each op's time).
   * Work recorded before the call is submitted first and not counted.
   */
  async profile<T>(fn: () => T | Promise<T>): Promise<ProfileResult<T>> {
    return profileRun(this.backend, fn);
  }

  /** Writes `value` into `target` in place (same shape): `target` keeps its identity and, on the GPU, its buffer. */
  assign(target: Tensor, value: Tensor): Tensor {
    this.checkOwned('assign', [target, value]);
    if (formatShape(target.shape) !== formatShape(value.shape)) {
      throw new Error(`assign: value ${formatShape(value.shape)} does not match target ${formatShape(target.shape)}`);
    }
    this.backend.copy(value.live('assign'), value.shape, target.live('assign'));
    return target;
  }

  /**
   * Runs `fn` and returns what it returned together with every kernel dispatch it recorded
   * (kernel name, transpose flags, shapes).
   */
  async trace<T>(fn: () => T | Promise<T>): Promise<{ value: T; dispatches: DispatchRecord[] }> {
    const dispatches: DispatchRecord[] = [];
    const previous = this.backend.trace;
    this.backend.trace = dispatches;
    try {
      const value = await fn();
      return { value, dispatches };
    } finally {
      this.backend.trace = previous;
    }
  }

  /** Debug switches: `poisonOutputs` fills every output with NaN before its kernel runs. */
  get debug() {
    return this.backend.debug;
  }
  set debug(options) {
    this.backend.debug = { ...options };
  }

  /** Frees every tensor and the device. The runtime cannot be used afterwards. */
  destroy(): void {
    for (const t of this.scopes.liveTensors()) t.dispose();
    this.backend.destroy();
  }

  // ---- training: layers, optimizers, safetensors -----------------------------------------------

  /** Layers and models with seeded initial weights: `rt.nn.linear(in, out, { activation })`, `rt.nn.mlp(sizes)`. */
  get nn(): Nn {
    return (this.nnInstance ??= new Nn(this));
  }
  private nnInstance?: Nn;

  /** Optimizers whose `step(params, grads)` updates each parameter in place with one fused kernel. */
  readonly optim = {
    sgd: (options: SgdOptions): Sgd => new Sgd(this, options),
    adam: (options: AdamOptions = {}): Adam => new Adam(this, options),
  };

  /**
   * A function returning `{ value, grads }`: the scalar loss `fn(params, ...args)` and its gradient with respect to
   * each of `params`. The tensors made in between are freed.
   */
  valueAndGrad<A extends unknown[]>(
    fn: (params: Tensor[], ...args: A) => Tensor | Promise<Tensor>,
  ): (params: Tensor[], ...args: A) => Promise<ValueAndGrad> {
    return valueAndGrad(this, fn);
  }

  /** The fraction of rows whose largest logit is at the label (class indices, or one-hot rows). */
  accuracy(logits: Tensor, labels: Tensor | ArrayLike<number>): Promise<number> {
    return accuracy(this, logits, labels);
  }

  /** The tensors' values as a safetensors file (F32), which PyTorch, JAX and NumPy load. */
  async saveSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array<ArrayBuffer>> {
    if (tensors === null || typeof tensors !== 'object') throw new Error('saveSafetensors: expected an object of named tensors');
    this.checkOwned('saveSafetensors', Object.values(tensors));
    return saveSafetensors(tensors, metadata);
  }

  /** Tensors from a safetensors file (F32 only); a malformed file throws an Error that says what is wrong. */
  loadSafetensors(bytes: Uint8Array, options: TensorOptions = {}): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, { shape, data }] of Object.entries(decodeSafetensors(bytes).tensors)) out[name] = this.tensor(data, shape, options);
    return out;
  }

  /** Takes `t` out of every enclosing `tidy`, so that it lives until it is disposed (parameters, optimizer state). */
  keep<T extends Tensor>(t: T): T {
    this.checkOwned('keep', [t]);
    this.scopes.keep(t);
    return t;
  }

  // ---- TensorOwner -----------------------------------------------------------------------------

  /** @internal */
  adopt(t: Tensor): Tensor {
    this.scopes.add(t);
    return t;
  }

  /** @internal */
  release(t: Tensor): void {
    this.scopes.remove(t);
  }

  /** @internal */
  isInCurrentScope(t: Tensor): boolean {
    return this.scopes.inCurrent(t);
  }

  /** @internal Every argument must be a live tensor of this runtime. */
  checkOwned(op: string, tensors: unknown[]): void {
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new Error(`${op}: argument ${i} is not a Tensor (got ${t === null ? 'null' : typeof t})`);
      if (t.owner !== this) throw new Error(`${op}: tensor ${formatShape(t.shape)} belongs to another runtime`);
      if (t.disposed) throw new Error(`${op}: tensor ${formatShape(t.shape)} was disposed`);
    });
  }

  private checkOperands(op: string, a: Operand, b: Operand): void {
    const tensors = [a, b].filter((x) => typeof x !== 'number');
    if (tensors.length === 0) throw new Error(`${op}: at least one operand must be a Tensor`);
    this.checkOwned(op, tensors);
  }

  private unary(name: Exclude<UnaryName, 'scale'>, a: Tensor): Tensor {
    this.checkOwned(name, [a]);
    return unary(name, a);
  }
}

export function cpuRuntime(): Runtime {
  return new Runtime(new CpuBackend(), {
    backend: 'cpu',
    adapter: { vendor: 'webgrad', architecture: 'cpu', device: 'float64 reference', description: 'CPU reference backend' },
    limits: {},
    features: [],
  });
}

export type { Shape };
