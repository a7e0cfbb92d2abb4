import type { Backend, DispatchRecord, LostInfo, MemoryStats, SchedulerStats } from '../core/backend.js';
import { checkShape, formatShape, sameShape, sizeOf, type Shape } from '../core/shape.js';
import { readTensorData, type TensorData } from '../core/tensor-data.js';
import { checkTensors, Tensor } from '../tensor/tensor.js';
import type { Context } from '../tensor/tensor.js';
import { TensorScopes } from '../tensor/scopes.js';
import { gradients } from '../tensor/autodiff.js';
import { installTensorMethods, TENSOR_OPS, type TensorOps } from '../ops/index.js';
import { binary } from '../ops/elementwise.js';
import { full } from '../ops/fill.js';
import { kernelName, matmulState, planFor } from '../ops/matmul-kernels.js';
import type { MatmulPlan, MatmulShape } from '../ops/matmul-plan.js';
import { CpuBackend } from '../backend/cpu.js';
import type { GpuInfo } from '../backend/webgpu/device.js';
import { Nn } from '../nn/index.js';
import { accuracy, valueAndGrad, type ValueAndGrad } from '../nn/functional.js';
import { Adam, Sgd, type AdamOptions, type SgdOptions } from '../optim/optimizer.js';
import { decodeSafetensors, saveSafetensors } from '../io/safetensors.js';
import { compileStep, type CompiledStep, type CompileOptions } from './compile.js';
import { profileRun, type ProfileResult } from './profile.js';
import { warmCommon, warmMatmuls } from './warmup.js';
import { tuneMatmul, type TuneResult } from './tune.js';

export interface RuntimeOptions {
  backend: 'webgpu' | 'cpu';
  /** The WebGPU entry point; defaults to `navigator.gpu`. In Node, pass `create([])` from the `webgpu` package. */
  gpu?: GPU;
  /** Forces every matmul of this runtime to one kernel plan (see `rt.matmulPlan`). */
  matmulPlan?: MatmulPlan | null;
  /**
   * How `rt.profile` times kernels: 'auto' (the default) uses GPU timestamps where the adapter has
   * 'timestamp-query'; 'wall' always times each kernel submitted alone by the clock.
   */
  timing?: 'auto' | 'wall';
  /**
   * Whether a read first sleeps through most of the time the same submission took last time, before it starts
   * Dawn's wait, which in Node keeps a CPU core polling (see src/backend/webgpu/wait-pacer.ts). Default: on in
   * Node, off in browsers (their wait sleeps in another process).
   */
  pacedWaits?: boolean;
  /** Seeds the runtime's generator (dropout without an explicit seed); default 0. Integers in [0, 2³²). */
  seed?: number;
}

export interface CpuInfo {
  backend: 'cpu';
  adapter: { vendor: string; architecture: string; device: string; description: string };
  limits: Record<string, number>;
  features: string[];
  /** The CPU reference runs on the CPU, as a software adapter does. */
  software: true;
}

export type RuntimeInfo = GpuInfo | CpuInfo;

export interface TensorOptions {
  requiresGrad?: boolean;
}

/**
 * A webgrad runtime: one backend, its tensors, their tape and the ops on them.
 * Create one with `createRuntime`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the op methods, below the class
export class Runtime implements Context {
  gradEnabled = true;
  /** @internal */
  inBackward = false;
  /** The seed of the runtime's generator, from `createRuntime({ seed })`: dropout masks drawn without a seed follow it. */
  seed = 0;
  /** @internal */
  recordingInProgress: Promise<unknown> | null = null;
  private readonly scopes = new TensorScopes();
  private readonly families = new Map<string, unknown>();

  /** @internal */
  constructor(
    readonly backend: Backend,
    readonly info: RuntimeInfo,
  ) {
    installTensorMethods();
  }

  // ---- tensors ---------------------------------------------------------------------------------

  /**
   * A tensor from a number (shape []), nested arrays of numbers (their shape), or flat row-major values (a
   * `number[]` or any numeric TypedArray) with `shape` defaulting to `[data.length]`.
   */
  tensor(data: TensorData, shape?: readonly number[], options: TensorOptions = {}): Tensor {
    const { values, shape: given } = readTensorData(data, shape);
    const dims = checkShape('tensor', given);
    if (values.length !== sizeOf(dims)) {
      throw new Error(
        `tensor: ${values.length} values do not fill shape ${formatShape(dims)} (${sizeOf(dims)} elements)`,
      );
    }
    return Tensor.from(this, dims, this.backend.upload(values, dims), options.requiresGrad ?? false);
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

  // ---- ops: every op of the op list (ops/index.ts) is a method, installed below the class -------------

  /**
   * The kernel plan every matmul of this runtime is forced to (tests, `rt.tune`), or null for the automatic choice
   * (from the shape and the adapter, or what `rt.tune()` measured). Other runtimes are not affected.
   */
  get matmulPlan(): MatmulPlan | null {
    return this.backend.dispatcher ? matmulState(this.backend.dispatcher).forced : null;
  }
  set matmulPlan(plan: MatmulPlan | null) {
    if (this.backend.dispatcher) matmulState(this.backend.dispatcher).forced = plan;
  }

  /** The kernel this runtime uses now for a product of this shape, and its plan (`cpu:matmul` on the CPU). */
  matmulKernel(shape: MatmulShape): { kernel: string; plan: MatmulPlan | null } {
    const gpu = this.backend.dispatcher;
    if (!gpu) return { kernel: 'cpu:matmul', plan: null };
    const plan = planFor(gpu, shape);
    return { kernel: kernelName(shape, plan), plan };
  }

  /**
   * Times the candidate matmul kernels on this adapter for `shapes` (by default the products of training an MLP
   * layer) and uses the fastest for every later matmul of the same shape class on this runtime. Optional: without
   * it the kernel is chosen from the shape and the adapter.
   */
  async tune(shapes?: MatmulShape[], reps?: number): Promise<TuneResult[]> {
    return tuneMatmul(this, shapes, reps);
  }

  // ---- gradients and memory --------------------------------------------------------------------

  /** Gradients of a scalar `loss` with respect to each of `params`, each of its parameter's shape. */
  async grad(loss: Tensor, params: Tensor[]): Promise<Tensor[]> {
    return gradients(this, { add: (a, b) => binary('add', a, b), full }, loss, params);
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
   * code, with results equal to the eager path's. The contract is {@link CompiledStep}'s.
   */
  compile<A extends Tensor[], R>(
    fn: (...inputs: A) => R | Promise<R>,
    options: CompileOptions = {},
  ): CompiledStep<A, R> {
    return compileStep(this, fn, options);
  }

  /**
   * Compiles pipelines ahead of use, so that the first real step does not wait for them. `work` is a function that
   * makes the ops to warm (one training step on tensors of the real shapes, say): it runs with dispatches turned
   * off, so it costs no GPU time. Matmul shapes [M, K, N] warm the four transposed variants. With no argument, a
   * small MLP step warms the common kernels.
   */
  async warmup(work?: (() => unknown) | [number, number, number][]): Promise<void> {
    const run =
      typeof work === 'function' ? work : Array.isArray(work) ? () => warmMatmuls(this, work) : () => warmCommon(this);
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
    checkTensors('assign', this, [target, value]);
    if (!sameShape(target.shape, value.shape)) {
      throw new Error(`assign: value ${formatShape(value.shape)} does not match target ${formatShape(target.shape)}`);
    }
    // A view of the target (or the target itself) already holds the value: the same storage, the same shape.
    if (value.live('assign') !== target.live('assign'))
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

  /**
   * Debug switches: `poisonOutputs` fills every output with NaN before its kernel runs; `poisonTails` fills the
   * unused tail of every pooled buffer with NaN, so that a read past a tensor's end shows up.
   */
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
  async saveSafetensors(
    tensors: Record<string, Tensor>,
    metadata?: Record<string, string>,
  ): Promise<Uint8Array<ArrayBuffer>> {
    if (tensors === null || typeof tensors !== 'object')
      throw new Error('saveSafetensors: expected an object of named tensors');
    checkTensors('saveSafetensors', this, Object.values(tensors));
    return saveSafetensors(tensors, metadata);
  }

  /** Tensors from a safetensors file (F32 only); a malformed file throws an Error that says what is wrong. */
  loadSafetensors(bytes: Uint8Array, options: TensorOptions = {}): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, { shape, data }] of Object.entries(decodeSafetensors(bytes).tensors))
      out[name] = this.tensor(data, shape, options);
    return out;
  }

  /** Takes `t` out of every enclosing `tidy`, so that it lives until it is disposed (parameters, optimizer state). */
  keep<T extends Tensor>(t: T): T {
    checkTensors('keep', this, [t]);
    this.scopes.keep(t);
    return t;
  }

  // ---- Context -----------------------------------------------------------------------------

  /** @internal */
  familyState<T>(family: string, init: () => T): T {
    if (!this.families.has(family)) this.families.set(family, init());
    return this.families.get(family) as T;
  }

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
}

// The op methods, one per row of the op list: declared by merging, installed on the prototype.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface Runtime extends TensorOps {}
Object.assign(Runtime.prototype, TENSOR_OPS);

export function cpuRuntime(): Runtime {
  return new Runtime(new CpuBackend(), {
    backend: 'cpu',
    adapter: {
      vendor: 'webgrad',
      architecture: 'cpu',
      device: 'float64 reference',
      description: 'CPU reference backend',
    },
    limits: {},
    features: [],
    software: true,
  });
}

export type { Shape };
