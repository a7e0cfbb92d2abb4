// The ConvNet modules other than the convolution itself: pooling, batch normalisation and flatten, with PyTorch's
// names and layouts. BatchNorm2d's running statistics are buffers: saved and loaded by `namedBuffers()` (and
// `stateDict`), never trained, so `params()` and `namedParams()` leave them out.
import type { Tensor } from '../tensor/tensor.js';
import type { OpsContext } from '../ops/index.js';
import type { Pool2dOptions, Pool2dSize } from '../ops/pool.js';
import type { Module } from './layers.js';

/** train/eval and an empty parameter list, for modules with nothing to learn. */
abstract class Stateless implements Module {
  training = true;

  abstract forward(x: Tensor): Tensor;

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  params(): Tensor[] {
    return [];
  }

  namedParams(): Record<string, Tensor> {
    return {};
  }

  dispose(): void {}
}

/** torch.nn.Identity(): x itself. A slot of a sequential that keeps PyTorch's numbering of the modules after it. */
export class Identity extends Stateless {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** torch.nn.MaxPool2d(kernel, stride = kernel, padding = 0) over x [N, C, H, W]. */
export class MaxPool2d extends Stateless {
  constructor(
    private readonly rt: OpsContext,
    readonly kernel: Pool2dSize,
    readonly options: Pool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.rt.maxPool2d(x, this.kernel, this.options);
  }
}

/** torch.nn.AvgPool2d(kernel, stride = kernel, padding = 0) over x [N, C, H, W], padding counted in the mean. */
export class AvgPool2d extends Stateless {
  constructor(
    private readonly rt: OpsContext,
    readonly kernel: Pool2dSize,
    readonly options: Pool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.rt.avgPool2d(x, this.kernel, this.options);
  }
}

/** torch.nn.Flatten(): every axis from `startAxis` (default 1, keeping the batch) merged, as a view. */
export class Flatten extends Stateless {
  constructor(
    private readonly rt: OpsContext,
    readonly startAxis = 1,
    readonly endAxis = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.rt.flatten(x, this.startAxis, this.endAxis);
  }
}

export interface BatchNorm2dModuleOptions {
  /** Default 1e-5, as PyTorch. */
  eps?: number;
  /** The batch's weight in the running statistics; default 0.1, as PyTorch. */
  momentum?: number;
  /** Learn γ (`weight`, ones) and β (`bias`, zeros); default true. */
  affine?: boolean;
}

/**
 * torch.nn.BatchNorm2d(channels) over x [N, C, H, W]: parameters `weight` (γ, ones) and `bias` (β, zeros), buffers
 * `running_mean` (zeros) and `running_var` (ones), all [C]. In training mode it normalises with the batch's
 * statistics and updates the buffers in place; after `eval()` it normalises with the buffers.
 */
export class BatchNorm2d implements Module {
  training = true;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    private readonly rt: OpsContext,
    readonly channels: number,
    options: BatchNorm2dModuleOptions = {},
  ) {
    if (!Number.isInteger(channels) || channels < 1)
      throw new Error(`nn.batchNorm2d: channels must be a positive integer, got ${String(channels)}`);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const filled = (value: number, requiresGrad: boolean) =>
      rt.keep(rt.tensor(new Float32Array(channels).fill(value), [channels], { requiresGrad }));
    const affine = options.affine ?? true;
    this.weight = affine ? filled(1, true) : null;
    this.bias = affine ? filled(0, true) : null;
    this.runningMean = filled(0, false);
    this.runningVar = filled(1, false);
  }

  forward(x: Tensor): Tensor {
    return this.rt.batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  params(): Tensor[] {
    return [this.weight, this.bias].filter((t): t is Tensor => t !== null);
  }

  namedParams(): Record<string, Tensor> {
    return this.weight && this.bias ? { weight: this.weight, bias: this.bias } : {};
  }

  namedBuffers(): Record<string, Tensor> {
    return { running_mean: this.runningMean, running_var: this.runningVar };
  }

  dispose(): void {
    [...this.params(), this.runningMean, this.runningVar].forEach((t) => t.dispose());
  }
}
