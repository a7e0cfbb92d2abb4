// torch.nn.Conv2d as a module over rt.conv2d, with PyTorch's names, layouts and default initialisation, so that
// `stateDict` saved as safetensors loads with `load_state_dict` and back.
import type { Tensor } from '../tensor/tensor.js';
import type { OpsContext } from '../ops/index.js';
import { uniformRandom } from '../core/random.js';
import type { Module } from './layers.js';
import type { Activation } from '../ops/activation.js';

export type Conv2dSize = number | readonly [number, number];

export interface Conv2dModuleOptions {
  /** Default 1. */
  stride?: Conv2dSize;
  /** Default 0; 'same' and 'valid' as rt.conv2d takes them. */
  padding?: Conv2dSize | 'same' | 'valid';
  /** Learn a bias [outChannels]; default true. */
  bias?: boolean;
  /**
   * Applied in the convolution's epilogue, as nn.linear's; default 'identity'. The module is then Conv2d followed by
   * that activation (PyTorch's names and layouts are unchanged: the activation has no parameters).
   */
  activation?: Activation;
  /** A k×k max pool (stride k) after the activation, fused into the convolution's kernels for k = 2. */
  maxPool?: number;
  /** Seed of the initial values; default: the next seed of `rt.nn`. */
  seed?: number;
}

/**
 * torch.nn.Conv2d(inChannels, outChannels, kernel): `weight` [O, C, kh, kw] and `bias` [O], both drawn from
 * U(−1/√fanIn, 1/√fanIn) with fanIn = C·kh·kw, which is PyTorch's default (kaiming_uniform with a = √5 for the
 * weight, the same bound for the bias).
 */
export class Conv2d implements Module {
  training = true;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernel: readonly [number, number];

  constructor(
    private readonly rt: OpsContext,
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Conv2dSize,
    readonly options: Conv2dModuleOptions & { seed: number },
  ) {
    for (const [name, v] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`nn.conv2d: ${name} must be a positive integer, got ${v}`);
    }
    const size = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    if (!Array.isArray(size) || size.length !== 2 || !size.every((k) => Number.isInteger(k) && k >= 1))
      throw new Error(`nn.conv2d: kernel must be a positive integer or [kh, kw], got ${JSON.stringify(kernel)}`);
    this.kernel = [size[0], size[1]];
    const fanIn = inChannels * size[0] * size[1];
    const bound = 1 / Math.sqrt(fanIn);
    const uniform = (count: number, seed: number) => {
      const random = uniformRandom(seed);
      return Float32Array.from({ length: count }, () => (2 * random() - 1) * bound);
    };
    this.weight = rt.keep(
      rt.tensor(uniform(outChannels * fanIn, options.seed), [outChannels, inChannels, size[0], size[1]], {
        requiresGrad: true,
      }),
    );
    this.bias =
      options.bias === false
        ? null
        : rt.keep(rt.tensor(uniform(outChannels, options.seed + 1), [outChannels], { requiresGrad: true }));
  }

  forward(x: Tensor): Tensor {
    return this.rt.conv2d(x, this.weight, this.bias, {
      stride: this.options.stride ?? 1,
      padding: this.options.padding ?? 0,
      activation: this.options.activation,
      maxPool: this.options.maxPool,
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
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  namedParams(): Record<string, Tensor> {
    return this.bias ? { weight: this.weight, bias: this.bias } : { weight: this.weight };
  }

  dispose(): void {
    this.params().forEach((p) => p.dispose());
  }
}
