// Embedding, multi-head attention and a pre-norm transformer block, with PyTorch's parameter names and layouts
// (nn.Embedding, nn.MultiheadAttention(batch_first=True), nn.LayerNorm, nn.Sequential of nn.Linear), so that
// `namedParams()` saved as safetensors loads into the equivalent torch modules with `load_state_dict`.
import type { Tensor } from '../tensor/tensor.js';
import type { Indices } from '../ops/gather.js';
import type { OpsContext } from '../ops/index.js';
import { formatShape } from '../core/shape.js';
import { initialWeights, type Initializer } from './init.js';
import { Linear, type Module } from './layers.js';
import { Dropout, LayerNorm } from './modules.js';

function checkPositive(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${String(v)}`);
}

function checkProbability(op: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p < 1))
    throw new Error(`${op}: dropout must be in [0, 1), got ${String(p)}`);
}

export interface EmbeddingOptions {
  /** Default 'glorotNormal' over [vocab, dim]; PyTorch draws N(0, 1), which is too large for a small model. */
  init?: Initializer;
  /** Seed of the initial weights; default: the next seed of `rt.nn`. */
  seed?: number;
}

/** torch.nn.Embedding(vocab, dim): `weight` [vocab, dim]; forward(indices [...]) = weight rows → [..., dim]. */
export class Embedding implements Module {
  training = true;
  readonly weight: Tensor;

  constructor(
    private readonly rt: OpsContext,
    readonly vocab: number,
    readonly dim: number,
    options: EmbeddingOptions & { seed: number },
  ) {
    checkPositive('nn.embedding', 'vocab', vocab);
    checkPositive('nn.embedding', 'dim', dim);
    const values = initialWeights(options.init ?? 'glorotNormal', dim, vocab, options.seed);
    this.weight = rt.keep(rt.tensor(values, [vocab, dim], { requiresGrad: true }));
  }

  /** Indices: a tensor of integer values, an Int32Array, a number or nested arrays, of any shape. */
  forward(indices: Indices | Tensor): Tensor {
    try {
      return this.rt.gather(this.weight, indices, 0);
    } catch (e) {
      // gather names itself and the weight's shape; the caller knows this as an embedding of `vocab` rows.
      throw new Error(`nn.embedding(${this.vocab}, ${this.dim}): ${(e as Error).message}`, { cause: e });
    }
  }

  params(): Tensor[] {
    return [this.weight];
  }

  namedParams(): Record<string, Tensor> {
    return { weight: this.weight };
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    this.weight.dispose();
  }
}

export interface MultiHeadAttentionOptions {
  /** Query i attends to keys 0…i only. Default false. */
  causal?: boolean;
  /**
   * Dropout on the output (after `out_proj`) while training; default 0. PyTorch's MultiheadAttention drops the
   * attention weights instead: the two agree in eval mode, and with p = 0.
   */
  dropout?: number;
  /** Seed of the initial weights; default: the next seed of `rt.nn`. */
  seed?: number;
}

/**
 * Self-attention over x [B, T, d] (or [T, d]), as torch.nn.MultiheadAttention(d, heads, batch_first=True) with
 * query = key = value = x: `in_proj_weight` [3d, d] holds the q, k, v projections as three row blocks, in that
 * order; head h reads features h·dh … (h+1)·dh − 1 of each, dh = d / heads.
 */
export class MultiHeadAttention implements Module {
  training = true;
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly causal: boolean;
  private readonly drop: Dropout;

  constructor(
    private readonly rt: OpsContext,
    readonly dModel: number,
    readonly heads: number,
    options: MultiHeadAttentionOptions & { seed: number },
  ) {
    const op = 'nn.multiHeadAttention';
    checkPositive(op, 'dModel', dModel);
    checkPositive(op, 'heads', heads);
    if (dModel % heads !== 0)
      throw new Error(`${op}: heads (${heads}) must divide dModel (${dModel}) into equal head dimensions`);
    checkProbability(op, options.dropout ?? 0);
    this.headDim = dModel / heads;
    this.causal = options.causal ?? false;
    this.drop = new Dropout(rt, options.dropout ?? 0);
    // Xavier over the whole [3d, d] matrix and zero biases, as PyTorch initialises MultiheadAttention.
    const w = initialWeights('glorotUniform', dModel, 3 * dModel, options.seed);
    this.inProjWeight = rt.keep(rt.tensor(w, [3 * dModel, dModel], { requiresGrad: true }));
    this.inProjBias = rt.keep(rt.tensor(new Float32Array(3 * dModel), [3 * dModel], { requiresGrad: true }));
    this.outProj = new Linear(rt, dModel, dModel, { init: 'glorotUniform', seed: options.seed + 1 });
  }

  forward(x: Tensor): Tensor {
    const rt = this.rt;
    const [d, h, dh] = [this.dModel, this.heads, this.headDim];
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== d) {
      throw new Error(`nn.multiHeadAttention: x must be [B, T, ${d}] or [T, ${d}], got ${formatShape(x.shape)}`);
    }
    const [b, t] = x.rank === 3 ? x.shape : [1, x.shape[0]];
    const qkv = rt.linear(rt.reshape(x, [b * t, d]), this.inProjWeight, this.inProjBias, 'none', { transposeW: true });
    // [B,T,3,H,dh] → [3,B,H,T,dh]: one copy puts each head's rows of q, k and v together for the batched products.
    // A scalar gather picks each block: its gradient (a scatter-add) is several times cheaper on SwiftShader than
    // split's (a pad per piece), which took over half of a training step there.
    const heads = rt.permute(rt.reshape(qkv, [b, t, 3, h, dh]), [2, 0, 3, 1, 4]);
    const [q, k, v] = [0, 1, 2].map((i) => rt.gather(heads, i, 0));
    const attended = rt.attention(q, k, v, { causal: this.causal });
    const merged = rt.reshape(rt.permute(attended, [0, 2, 1, 3]), [b * t, d]);
    const out = this.drop.forward(this.outProj.forward(merged));
    return rt.reshape(out, x.shape);
  }

  params(): Tensor[] {
    return [this.inProjWeight, this.inProjBias, ...this.outProj.params()];
  }

  namedParams(): Record<string, Tensor> {
    const named: Record<string, Tensor> = { in_proj_weight: this.inProjWeight, in_proj_bias: this.inProjBias };
    for (const [name, p] of Object.entries(this.outProj.namedParams())) named[`out_proj.${name}`] = p;
    return named;
  }

  train(mode = true): this {
    this.training = mode;
    this.drop.train(mode);
    this.outProj.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    this.params().forEach((p) => p.dispose());
  }
}

export interface TransformerBlockOptions {
  /** Hidden width of the MLP as a multiple of dModel; default 4. */
  mlpRatio?: number;
  /** Dropout after the attention's output projection and after the MLP, while training; default 0. */
  dropout?: number;
  /** Causal self-attention; default false. */
  causal?: boolean;
  /** Seed of the initial weights; default: the next seed of `rt.nn`. */
  seed?: number;
}

/**
 * A pre-norm transformer block over x [B, T, d]: x + drop(attn(ln1(x))), then x + drop(mlp(ln2(x))), with
 * mlp = linear d → mlpRatio·d, gelu (tanh form, fused in the first product), linear back to d.
 */
export class TransformerBlock implements Module {
  training = true;
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  /** `mlp.0` and `mlp.2`, the indices of the two linears in PyTorch's Sequential(Linear, GELU, Linear). */
  readonly mlp: [Linear, Linear];
  private readonly drop: Dropout;

  constructor(
    private readonly rt: OpsContext,
    readonly dModel: number,
    readonly heads: number,
    options: TransformerBlockOptions & { seed: number },
  ) {
    const op = 'nn.transformerBlock';
    checkPositive(op, 'dModel', dModel);
    checkPositive(op, 'heads', heads);
    if (dModel % heads !== 0)
      throw new Error(`${op}: heads (${heads}) must divide dModel (${dModel}) into equal head dimensions`);
    const ratio = options.mlpRatio ?? 4;
    checkPositive(op, 'mlpRatio', ratio);
    const p = options.dropout ?? 0;
    checkProbability(op, p);
    const seed = options.seed;
    this.ln1 = new LayerNorm(rt, dModel);
    this.attn = new MultiHeadAttention(rt, dModel, heads, { causal: options.causal, dropout: p, seed });
    this.ln2 = new LayerNorm(rt, dModel);
    this.mlp = [
      new Linear(rt, dModel, ratio * dModel, { activation: 'gelu', seed: seed + 2 }),
      new Linear(rt, ratio * dModel, dModel, { init: 'glorotUniform', seed: seed + 3 }),
    ];
    this.drop = new Dropout(rt, p);
  }

  forward(x: Tensor): Tensor {
    const rt = this.rt;
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== this.dModel) {
      throw new Error(
        `nn.transformerBlock: x must be [B, T, ${this.dModel}] or [T, ${this.dModel}], got ${formatShape(x.shape)}`,
      );
    }
    const h = rt.add(x, this.attn.forward(this.ln1.forward(x)));
    const hidden = this.mlp[1].forward(this.mlp[0].forward(this.ln2.forward(h)));
    return rt.add(h, this.drop.forward(hidden));
  }

  params(): Tensor[] {
    return Object.values(this.namedParams());
  }

  namedParams(): Record<string, Tensor> {
    const named: Record<string, Tensor> = {};
    const children: [string, Module][] = [
      ['ln1', this.ln1],
      ['attn', this.attn],
      ['ln2', this.ln2],
      ['mlp.0', this.mlp[0]],
      ['mlp.2', this.mlp[1]],
    ];
    for (const [prefix, m] of children)
      for (const [name, p] of Object.entries(m.namedParams())) named[`${prefix}.${name}`] = p;
    return named;
  }

  train(mode = true): this {
    this.training = mode;
    [this.ln1, this.attn, this.ln2, ...this.mlp, this.drop].forEach((m) => m.train(mode));
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    this.params().forEach((p) => p.dispose());
  }
}
