// Normalisation, dropout and sequential containers, with PyTorch's parameter names and layouts, so that
// `namedParams()` saved as safetensors loads into the matching torch.nn modules.
import type { Tensor } from '../tensor/tensor.js';
import type { OpsContext } from '../ops/index.js';
import type { Module } from './layers.js';

/** train/eval for modules without children. */
abstract class Leaf implements Module {
  training = true;

  abstract forward(x: Tensor): Tensor;
  abstract params(): Tensor[];
  abstract namedParams(): Record<string, Tensor>;

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    this.params().forEach((p) => p.dispose());
  }
}

function checkDim(op: string, dim: number): void {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${op}: dim must be a positive integer, got ${String(dim)}`);
}

export interface LayerNormModuleOptions {
  /** Default 1e-5, as PyTorch. */
  eps?: number;
  /** Learn γ (`weight`, initialised to ones) and β (`bias`, zeros); default true. */
  elementwiseAffine?: boolean;
  /** Learn β when affine; default true. */
  bias?: boolean;
}

/** torch.nn.LayerNorm(dim) over the last axis: `weight` [dim] (γ, ones), `bias` [dim] (β, zeros). */
export class LayerNorm extends Leaf {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(
    private readonly rt: OpsContext,
    readonly dim: number,
    options: LayerNormModuleOptions = {},
  ) {
    super();
    checkDim('nn.layerNorm', dim);
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? rt.keep(rt.tensor(new Float32Array(dim).fill(1), [dim], { requiresGrad: true })) : null;
    this.bias =
      affine && options.bias !== false
        ? rt.keep(rt.tensor(new Float32Array(dim), [dim], { requiresGrad: true }))
        : null;
  }

  forward(x: Tensor): Tensor {
    return this.rt.layerNorm(x, this.weight, this.bias, { eps: this.eps });
  }

  params(): Tensor[] {
    return [this.weight, this.bias].filter((t): t is Tensor => t !== null);
  }

  namedParams(): Record<string, Tensor> {
    return { ...(this.weight ? { weight: this.weight } : {}), ...(this.bias ? { bias: this.bias } : {}) };
  }
}

export interface RmsNormModuleOptions {
  /** Default 1e-6. */
  eps?: number;
  /** Learn γ (`weight`, initialised to ones); default true. */
  elementwiseAffine?: boolean;
}

/** torch.nn.RMSNorm(dim) over the last axis: `weight` [dim] (γ, ones). */
export class RmsNorm extends Leaf {
  readonly weight: Tensor | null;
  readonly eps: number;

  constructor(
    private readonly rt: OpsContext,
    readonly dim: number,
    options: RmsNormModuleOptions = {},
  ) {
    super();
    checkDim('nn.rmsNorm', dim);
    this.eps = options.eps ?? 1e-6;
    this.weight =
      options.elementwiseAffine === false
        ? null
        : rt.keep(rt.tensor(new Float32Array(dim).fill(1), [dim], { requiresGrad: true }));
  }

  forward(x: Tensor): Tensor {
    return this.rt.rmsNorm(x, this.weight, { eps: this.eps });
  }

  params(): Tensor[] {
    return this.weight ? [this.weight] : [];
  }

  namedParams(): Record<string, Tensor> {
    return this.weight ? { weight: this.weight } : {};
  }
}

/** torch.nn.Dropout(p): drops in training mode, from the runtime's generator; the identity after `eval()`. */
export class Dropout extends Leaf {
  constructor(
    private readonly rt: OpsContext,
    readonly p: number,
  ) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p < 1))
      throw new Error(`nn.dropout: p must be in [0, 1), got ${String(p)}`);
  }

  forward(x: Tensor): Tensor {
    return this.rt.dropout(x, this.p, { training: this.training });
  }

  params(): Tensor[] {
    return [];
  }

  namedParams(): Record<string, Tensor> {
    return {};
  }
}

/** torch.nn.Sequential: each module's output feeds the next; parameters are named `i.name`, as PyTorch does. */
export class Sequential implements Module {
  training = true;
  readonly modules: readonly Module[];

  constructor(modules: readonly Module[]) {
    if (!Array.isArray(modules) || modules.some((m) => typeof (m as Partial<Module> | null)?.forward !== 'function')) {
      throw new Error('nn.sequential: expects an array of modules');
    }
    this.modules = [...modules];
  }

  forward(x: Tensor): Tensor {
    return this.modules.reduce((h, m) => m.forward(h), x);
  }

  params(): Tensor[] {
    return this.modules.flatMap((m) => m.params());
  }

  namedParams(): Record<string, Tensor> {
    const named: Record<string, Tensor> = {};
    this.modules.forEach((m, i) => {
      for (const [name, t] of Object.entries(m.namedParams())) named[`${i}.${name}`] = t;
    });
    return named;
  }

  namedBuffers(): Record<string, Tensor> {
    const named: Record<string, Tensor> = {};
    this.modules.forEach((m, i) => {
      for (const [name, t] of Object.entries(m.namedBuffers?.() ?? {})) named[`${i}.${name}`] = t;
    });
    return named;
  }

  train(mode = true): this {
    this.training = mode;
    this.modules.forEach((m) => m.train(mode));
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    this.modules.forEach((m) => m.dispose());
  }
}
