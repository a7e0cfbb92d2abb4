import type { OpsContext } from '../ops/index.js';
import { uniformRandom } from '../core/random.js';
import { Linear, Mlp, type Activation, type LinearOptions } from './layers.js';
import { resolveActivation } from '../ops/activation.js';
import { initialWeights, type Initializer } from './init.js';
import {
  Dropout,
  LayerNorm,
  RmsNorm,
  Sequential,
  type LayerNormModuleOptions,
  type RmsNormModuleOptions,
} from './modules.js';
import type { Module } from './layers.js';
import {
  Embedding,
  MultiHeadAttention,
  TransformerBlock,
  type EmbeddingOptions,
  type MultiHeadAttentionOptions,
  type TransformerBlockOptions,
} from './transformer.js';
import { AvgPool2d, BatchNorm2d, Flatten, Identity, MaxPool2d, type BatchNorm2dModuleOptions } from './convnet.js';
import { Conv2d, type Conv2dModuleOptions, type Conv2dSize } from './conv.js';
import { loadStateDict, stateDict, type LoadStateDictOptions } from './state.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Pool2dOptions, Pool2dSize } from '../ops/pool.js';

export interface MlpOptions {
  /** Biases in every layer; default true. */
  bias?: boolean;
  /** Seed of the first layer; layer i uses seed + i. Default: the next seed of `rt.nn`. */
  seed?: number;
  init?: Initializer;
}

/**
 * Layers and models for one runtime (`rt.nn`). Initial weights are seeded: a fresh runtime makes the same model
 * every time, and an explicit `seed` makes the same layer on any runtime.
 */
export class Nn {
  private nextSeed: () => number;

  constructor(private readonly rt: OpsContext) {
    this.nextSeed = seeds(1);
  }

  /** Restarts the sequence of default seeds. */
  manualSeed(seed: number): void {
    this.nextSeed = seeds(seed);
  }

  /** A fully connected layer y = act(x·Wᵀ + b), W [outFeatures, inFeatures]. */
  linear(inFeatures: number, outFeatures: number, options: LinearOptions = {}): Linear {
    return new Linear(this.rt, inFeatures, outFeatures, { ...options, seed: options.seed ?? this.nextSeed() });
  }

  /** A multilayer perceptron over `sizes` = [in, hidden…, out]; the output layer has no activation. */
  mlp(sizes: readonly number[], activation: Activation = 'relu', options: MlpOptions = {}): Mlp {
    if (!Array.isArray(sizes) || sizes.length < 2)
      throw new Error(`nn.mlp: sizes must list at least [in, out], got ${JSON.stringify(sizes)}`);
    resolveActivation('nn.mlp', activation);
    const seed = options.seed ?? this.nextSeed();
    const layers: Linear[] = [];
    try {
      for (let i = 0; i + 1 < sizes.length; i++) {
        const last = i + 2 === sizes.length;
        layers.push(
          this.linear(sizes[i], sizes[i + 1], {
            bias: options.bias,
            activation: last ? 'none' : activation,
            init:
              options.init ??
              ((activation === 'relu' || activation === 'gelu') && !last ? 'heNormal' : 'glorotUniform'),
            seed: seed + i,
          }),
        );
      }
    } catch (e) {
      layers.forEach((l) => l.dispose());
      throw e;
    }
    return new Mlp(layers);
  }

  /** torch.nn.LayerNorm(dim): γ `weight` (ones) and β `bias` (zeros), both [dim]. */
  layerNorm(dim: number, options: LayerNormModuleOptions = {}): LayerNorm {
    return new LayerNorm(this.rt, dim, options);
  }

  /** torch.nn.RMSNorm(dim): γ `weight` (ones), [dim]. */
  rmsNorm(dim: number, options: RmsNormModuleOptions = {}): RmsNorm {
    return new RmsNorm(this.rt, dim, options);
  }

  /** torch.nn.Dropout(p): fresh masks from the runtime's generator while training; the identity after `eval()`. */
  dropout(p: number): Dropout {
    return new Dropout(this.rt, p);
  }

  /** torch.nn.Sequential: modules applied in order; `train()`/`eval()` reach every one of them. */
  sequential(modules: readonly Module[]): Sequential {
    return new Sequential(modules);
  }

  /** torch.nn.Embedding(vocab, dim): `weight` [vocab, dim]; forward(indices of any shape) → [..., dim]. */
  embedding(vocab: number, dim: number, options: EmbeddingOptions = {}): Embedding {
    return new Embedding(this.rt, vocab, dim, { ...options, seed: options.seed ?? this.nextSeed() });
  }

  /**
   * Self-attention, torch.nn.MultiheadAttention(dModel, heads, batch_first=True): `in_proj_weight` [3d, d],
   * `in_proj_bias` [3d], `out_proj.weight` [d, d], `out_proj.bias` [d]; x [B, T, d] → [B, T, d].
   */
  multiHeadAttention(dModel: number, heads: number, options: MultiHeadAttentionOptions = {}): MultiHeadAttention {
    return new MultiHeadAttention(this.rt, dModel, heads, { ...options, seed: options.seed ?? this.nextSeed() });
  }

  /**
   * A pre-norm block: x + drop(attn(ln1(x))), x + drop(mlp(ln2(x))), mlp = linear, gelu (tanh), linear. Names:
   * `ln1.*`, `attn.*` (as multiHeadAttention), `ln2.*`, `mlp.0.*`, `mlp.2.*`.
   */
  transformerBlock(dModel: number, heads: number, options: TransformerBlockOptions = {}): TransformerBlock {
    return new TransformerBlock(this.rt, dModel, heads, { ...options, seed: options.seed ?? this.nextSeed() });
  }

  /**
   * torch.nn.Conv2d(inChannels, outChannels, kernel) over x [N, C, H, W]: `weight` [O, C, kh, kw] and `bias` [O], both
   * U(−1/√fanIn, 1/√fanIn) with fanIn = C·kh·kw (PyTorch's default), seeded.
   */
  conv2d(inChannels: number, outChannels: number, kernel: Conv2dSize, options: Conv2dModuleOptions = {}): Conv2d {
    return new Conv2d(this.rt, inChannels, outChannels, kernel, { ...options, seed: options.seed ?? this.nextSeed() });
  }

  /** torch.nn.MaxPool2d(kernel): `rt.maxPool2d` with stride = kernel unless given. */
  maxPool2d(kernel: Pool2dSize, options: Pool2dOptions = {}): MaxPool2d {
    return new MaxPool2d(this.rt, kernel, options);
  }

  /** torch.nn.AvgPool2d(kernel): `rt.avgPool2d` with stride = kernel unless given. */
  avgPool2d(kernel: Pool2dSize, options: Pool2dOptions = {}): AvgPool2d {
    return new AvgPool2d(this.rt, kernel, options);
  }

  /**
   * torch.nn.BatchNorm2d(channels): `weight` (ones) and `bias` (zeros) are parameters; `running_mean` (zeros) and
   * `running_var` (ones) are buffers, updated in place while training and used after `eval()`.
   */
  batchNorm2d(channels: number, options: BatchNorm2dModuleOptions = {}): BatchNorm2d {
    return new BatchNorm2d(this.rt, channels, options);
  }

  /** torch.nn.Identity(): returns its input; a placeholder that keeps a sequential's numbering. */
  identity(): Identity {
    return new Identity();
  }

  /** torch.nn.Flatten(): axes startAxis (default 1) to endAxis (default −1) merged, a view. */
  flatten(startAxis = 1, endAxis = -1): Flatten {
    return new Flatten(this.rt, startAxis, endAxis);
  }

  /**
   * The module's parameters and buffers by PyTorch's state_dict names (`0.weight`, `1.running_mean`): what to save,
   * `rt.saveSafetensors(rt.nn.stateDict(model))`, for `load_state_dict` in PyTorch.
   */
  stateDict(module: Module): Record<string, Tensor> {
    return stateDict(module);
  }

  /**
   * Writes tensors by state_dict name into the module's parameters and buffers, in place; `strict` (default) refuses
   * missing and unexpected names. PyTorch's `num_batches_tracked` is skipped.
   */
  loadStateDict(module: Module, tensors: Record<string, Tensor>, options: LoadStateDictOptions = {}): void {
    loadStateDict(this.rt, module, tensors, options);
  }

  /** Seeded initial values, as the layers use them: `initialWeights('heNormal', fanIn, fanOut, seed)`. */
  readonly initialWeights = initialWeights;
}

function seeds(seed: number): () => number {
  const random = uniformRandom(seed);
  return () => Math.floor(random() * 2 ** 31);
}

export { Linear, Mlp } from './layers.js';
export type { Activation, LinearOptions, Module } from './layers.js';
export { Dropout, LayerNorm, RmsNorm, Sequential } from './modules.js';
export type { LayerNormModuleOptions, RmsNormModuleOptions } from './modules.js';
export type { Initializer } from './init.js';
export { Embedding, MultiHeadAttention, TransformerBlock } from './transformer.js';
export type { EmbeddingOptions, MultiHeadAttentionOptions, TransformerBlockOptions } from './transformer.js';
export { AvgPool2d, BatchNorm2d, Flatten, Identity, MaxPool2d } from './convnet.js';
export type { BatchNorm2dModuleOptions } from './convnet.js';
export { Conv2d } from './conv.js';
export type { Conv2dModuleOptions, Conv2dSize } from './conv.js';
export type { LoadStateDictOptions } from './state.js';
