import type { Tensor } from '../tensor/tensor.js';
import type { OpsContext } from '../ops/index.js';
import { formatShape } from '../core/shape.js';
import { initialWeights, type Initializer } from './init.js';
import { resolveActivation, type Activation } from '../ops/activation.js';

export type { Activation };

/** A model: a forward call, its parameters, and a training/evaluation switch. */
export interface Module {
  /** The model applied to a batch: [..., inFeatures] for linear layers, [..., dim] for normalisations. */
  forward(x: Tensor): Tensor;
  /** True (the default) in training mode: dropout drops. `eval()` clears it. */
  readonly training: boolean;
  /** Sets training mode (default true) on this module and every module inside it; returns the module. */
  train(mode?: boolean): this;
  /** Evaluation mode, `train(false)`: dropout becomes the identity. */
  eval(): this;
  /** Its trainable tensors, in a fixed order (the order `opt.step` and `rt.grad` take them in). */
  params(): Tensor[];
  /** The same tensors by name, PyTorch-style (`weight`, `layers.0.bias`), for safetensors. */
  namedParams(): Record<string, Tensor>;
  /**
   * Tensors that are state but not trained (BatchNorm2d's `running_mean`, `running_var`), by PyTorch's names; absent
   * on modules that have none. `rt.nn.stateDict(module)` joins them to `namedParams()`.
   */
  namedBuffers?(): Record<string, Tensor>;
  /** Frees the parameters. */
  dispose(): void;
}

export interface LinearOptions {
  /** Add a bias (initialised to zero); default true. */
  bias?: boolean;
  /** Applied to the output (relu, tanh, gelu, or none = identity); default 'none'. */
  activation?: Activation;
  /** Default: He for ReLU, Glorot otherwise. */
  init?: Initializer;
  /** Seed of the initial weights; default: the next seed of `rt.nn`. */
  seed?: number;
}

/** y = act(x·Wᵀ + b), with W stored [outFeatures, inFeatures] as PyTorch stores it (`rt.linear` with transposeW). */
export class Linear implements Module {
  training = true;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly activation: Activation;

  constructor(
    private readonly rt: OpsContext,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions & { seed: number },
  ) {
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`nn.linear: ${name} must be a positive integer, got ${v}`);
    }
    this.activation = options.activation ?? 'none';
    resolveActivation('nn.linear', this.activation);
    const init =
      options.init ?? (this.activation === 'relu' || this.activation === 'gelu' ? 'heNormal' : 'glorotUniform');
    const values = initialWeights(init, inFeatures, outFeatures, options.seed);
    this.weight = rt.keep(rt.tensor(values, [outFeatures, inFeatures], { requiresGrad: true }));
    this.bias =
      options.bias === false
        ? null
        : rt.keep(rt.tensor(new Float32Array(outFeatures), [outFeatures], { requiresGrad: true }));
  }

  /** x [..., inFeatures] → [..., outFeatures]. */
  forward(x: Tensor): Tensor {
    // One fused kernel: X·Wᵀ with the bias and activation in its epilogue. W is read transposed in place, so its
    // gradient ∂L/∂W = Gᵀ·X is one transposed kernel too, with no copy.
    if (x.rank === 2) return this.rt.linear(x, this.weight, this.bias, this.activation, { transposeW: true });
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(
        `nn.linear(${this.inFeatures}, ${this.outFeatures}): x must be [..., ${this.inFeatures}], got ${formatShape(x.shape)}`,
      );
    }
    // Rows of every leading dimension are independent: fold them into one batch through views (no copy), so the
    // product keeps its fused epilogue and its weight gradient stays one transposed kernel with K = Π leading.
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    const flat = this.rt.reshape(x, [rows, this.inFeatures]);
    const y = this.rt.linear(flat, this.weight, this.bias, this.activation, { transposeW: true });
    return this.rt.reshape(y, [...lead, this.outFeatures]);
  }

  params(): Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  namedParams(): Record<string, Tensor> {
    return this.bias ? { weight: this.weight, bias: this.bias } : { weight: this.weight };
  }

  dispose(): void {
    this.params().forEach((p) => p.dispose());
  }
}

/** Linear layers in sequence; every layer but the last has the activation. */
export class Mlp implements Module {
  training = true;

  constructor(readonly layers: Linear[]) {}

  train(mode = true): this {
    this.training = mode;
    this.layers.forEach((l) => l.train(mode));
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, layer) => layer.forward(h), x);
  }

  params(): Tensor[] {
    return this.layers.flatMap((l) => l.params());
  }

  namedParams(): Record<string, Tensor> {
    const named: Record<string, Tensor> = {};
    this.layers.forEach((layer, i) => {
      for (const [name, t] of Object.entries(layer.namedParams())) named[`layers.${i}.${name}`] = t;
    });
    return named;
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}
