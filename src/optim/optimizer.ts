import { checkTensors, Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape, sizeOf } from '../core/shape.js';
import type { InPlaceKernelDef } from '../core/kernel.js';
import type { OpsContext } from '../ops/index.js';
import { adamUpdate, countStep, sgdMomentumUpdate, sgdUpdate } from './updates.js';

/** Runs an in-place update on live tensors of one runtime: the first operand is overwritten, and perhaps others. */
function updateInPlace<P>(rt: OpsContext, op: InPlaceKernelDef<P>, operands: Tensor[], params: P): void {
  checkTensors(op.name, rt, operands);
  op.check(
    operands.map((t) => t.shape),
    params,
  );
  rt.backend.runInPlace(
    op,
    operands.map((t) => ({ storage: t.live(op.name), shape: t.shape })),
    params,
  );
}

/**
 * The common part of the optimizers: argument checks, and per-parameter state that lives as long as the optimizer
 * (created on a parameter's first step, outside any `tidy`).
 */
export abstract class Optimizer {
  /** Steps taken so far (by eager calls: a compiled step's replays run no JavaScript). */
  steps = 0;
  private readonly state = new Map<Tensor, { tensors: Tensor[]; firstStep: number }>();

  constructor(protected readonly rt: OpsContext) {}

  /**
   * Updates each parameter in place from its gradient: one fused kernel per parameter. The parameters keep their
   * identity (and on the GPU their buffers); the gradients are only read.
   */
  step(params: readonly Tensor[], grads: readonly Tensor[]): void {
    const name = this.kind;
    if (!Array.isArray(params) || !Array.isArray(grads))
      throw new Error(`${name}.step: params and grads must be arrays of tensors`);
    if (params.length !== grads.length)
      throw new Error(`${name}.step: ${params.length} parameters but ${grads.length} gradients`);
    checkTensors(`${name}.step`, this.rt, [...params, ...grads]);
    params.forEach((p, i) => {
      if (!sameShape(p.shape, grads[i].shape)) {
        throw new Error(
          `${name}.step: parameter ${i} ${formatShape(p.shape)} has a gradient of shape ${formatShape(grads[i].shape)}`,
        );
      }
      if (p === grads[i]) throw new Error(`${name}.step: parameter ${i} was passed as its own gradient`);
    });
    this.steps++;
    params.forEach((p, i) => {
      let entry = this.state.get(p);
      if (!entry) {
        entry = { tensors: this.newState(p), firstStep: this.steps - 1 };
        this.state.set(p, entry);
      }
      this.update(p, grads[i], entry.tensors, entry.firstStep);
    });
    this.afterStep();
  }

  /** The state tensors of a parameter (velocity; or first and second moments), after its first step. */
  stateOf(param: Tensor): readonly Tensor[] {
    return this.state.get(param)?.tensors ?? [];
  }

  /** Frees the optimizer's state. */
  dispose(): void {
    for (const { tensors } of this.state.values()) tensors.forEach((t) => t.dispose());
    this.state.clear();
  }

  /** 'sgd' or 'adam', for error messages. */
  abstract readonly kind: string;
  protected abstract stateCount(): number;
  /** `firstStep`: how many steps the optimizer had taken before this parameter's first. */
  protected abstract update(param: Tensor, grad: Tensor, state: Tensor[], firstStep: number): void;
  protected afterStep(): void {}

  protected run<P>(op: InPlaceKernelDef<P>, operands: Tensor[], params: P): void {
    updateInPlace(this.rt, op, operands, params);
  }

  // Uploaded zeros, not a fill kernel: made while rt.compile records a step, a kernel would be replayed, and would
  // reset the state at every step.
  private newState(p: Tensor): Tensor[] {
    return Array.from({ length: this.stateCount() }, () => zerosKept(this.rt, p.shape));
  }
}

function zerosKept(rt: OpsContext, shape: readonly number[]): Tensor {
  return rt.keep(rt.tensor(new Float32Array(sizeOf(shape)), shape));
}

function checkHyper(op: string, name: string, value: number, ok: (v: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value))
    throw new Error(`${op}: ${name} must be ${rule}, got ${value}`);
  return value;
}

export interface SgdOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum μ (PyTorch's convention); 0, the default, is plain SGD and keeps no state. */
  momentum?: number;
  /** L2 penalty λ added to the gradient; default 0. */
  weightDecay?: number;
}

/** Stochastic gradient descent, with optional momentum and weight decay. */
export class Sgd extends Optimizer {
  readonly kind = 'sgd';
  lr: number;
  momentum: number;
  weightDecay: number;

  constructor(rt: OpsContext, options: SgdOptions) {
    super(rt);
    this.lr = checkHyper('sgd', 'lr', options?.lr, (v) => v > 0, 'a positive number');
    this.momentum = checkHyper('sgd', 'momentum', options.momentum ?? 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.weightDecay = checkHyper('sgd', 'weightDecay', options.weightDecay ?? 0, (v) => v >= 0, 'non-negative');
  }

  protected stateCount(): number {
    return this.momentum > 0 ? 1 : 0;
  }

  protected update(param: Tensor, grad: Tensor, state: Tensor[]): void {
    const hyper = { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
    if (state.length > 0) this.run(sgdMomentumUpdate, [param, state[0], grad], hyper);
    else this.run(sgdUpdate, [param, grad], hyper);
  }
}

export interface AdamOptions {
  /** Learning rate; default 1e-3. */
  lr?: number;
  /** (β₁, β₂); default (0.9, 0.999). */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay λ (AdamW when above 0); default 0. */
  weightDecay?: number;
}

/** Adam (Kingma & Ba), and AdamW (Loshchilov & Hutter) when `weightDecay` is set. */
export class Adam extends Optimizer {
  readonly kind = 'adam';
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;

  constructor(rt: OpsContext, options: AdamOptions = {}) {
    super(rt);
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    this.lr = checkHyper('adam', 'lr', options.lr ?? 1e-3, (v) => v > 0, 'a positive number');
    this.beta1 = checkHyper('adam', 'betas[0]', beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.beta2 = checkHyper('adam', 'betas[1]', beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.eps = checkHyper('adam', 'eps', options.eps ?? 1e-8, (v) => v > 0, 'positive');
    this.weightDecay = checkHyper('adam', 'weightDecay', options.weightDecay ?? 0, (v) => v >= 0, 'non-negative');
  }

  protected stateCount(): number {
    return 2;
  }

  /** Steps taken, on the device: the kernels read it for the bias correction, so that replayed steps count too. */
  private stepCount: Tensor | null = null;

  protected update(param: Tensor, grad: Tensor, [m, v]: Tensor[], firstStep: number): void {
    const { lr, beta1, beta2, eps, weightDecay } = this;
    this.stepCount ??= zerosKept(this.rt, [1]);
    this.run(adamUpdate, [param, m, v, grad, this.stepCount], { lr, beta1, beta2, eps, weightDecay, firstStep });
  }

  protected override afterStep(): void {
    if (this.stepCount) this.run(countStep, [this.stepCount], undefined);
  }

  override dispose(): void {
    super.dispose();
    this.stepCount?.dispose();
    this.stepCount = null;
  }
}
