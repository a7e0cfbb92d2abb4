// The Words tab's model: a character-level GPT (token and position embeddings, causal pre-norm transformer blocks,
// a final layer norm and a linear head to the 27 characters) built from rt.nn modules. No DOM here, so that Node
// tests can train it, sample from it and read its attention on the CPU reference.
import { data, uniformRandom, type Module, type Runtime, type Tensor, type TransformerBlock } from '../../src/index.js';

export interface WordsModelConfig {
  /** Positions a row holds: words of up to context − 1 letters fit in one row. */
  context: number;
  dModel: number;
  layers: number;
  heads: number;
  /** Seed of the initial weights (block i uses seed + 10·(i + 1)). */
  seed: number;
}

export const VOCAB_SIZE = data.WORD_VOCAB.length;

/** PyTorch-style names: `tok_emb.weight`, `pos_emb.weight`, `blocks.0.attn.in_proj_weight`, `ln_f.bias`, `head.weight`. */
export interface WordsModel extends Module {
  readonly config: WordsModelConfig;
  readonly blocks: readonly TransformerBlock[];
  /** ids [B, t] (integer values, t ≤ context) → logits [B, t, 27]. */
  forward(ids: Tensor): Tensor;
  /** The residual stream entering block `layer` (or leaving the last block when layer = layers), [B, t, d]. */
  residual(ids: Tensor, layer: number): Tensor;
}

export function createWordsModel(rt: Runtime, config: WordsModelConfig): WordsModel {
  const { context, dModel, layers, heads, seed } = config;
  const tokEmb = rt.nn.embedding(VOCAB_SIZE, dModel, { seed });
  const posEmb = rt.nn.embedding(context, dModel, { seed: seed + 1 });
  const blocks = Array.from({ length: layers }, (_, i) =>
    rt.nn.transformerBlock(dModel, heads, { causal: true, seed: seed + 10 * (i + 1) }),
  );
  const lnF = rt.nn.layerNorm(dModel);
  const head = rt.nn.linear(dModel, VOCAB_SIZE, { seed: seed + 2 });
  const children: [string, Module][] = [
    ['tok_emb', tokEmb],
    ['pos_emb', posEmb],
    ...blocks.map((b, i): [string, Module] => [`blocks.${i}`, b]),
    ['ln_f', lnF],
    ['head', head],
  ];

  const embed = (ids: Tensor): Tensor => {
    const t = ids.shape[ids.rank - 1];
    if (ids.rank !== 2 || t > context)
      throw new Error(`words model: ids must be [B, t] with t ≤ ${context}, got [${ids.shape.join(', ')}]`);
    return rt.add(tokEmb.forward(ids), posEmb.forward(Int32Array.from({ length: t }, (_, i) => i)));
  };

  const model: WordsModel = {
    config,
    blocks,
    training: true,
    residual(ids, layer) {
      return blocks.slice(0, layer).reduce((h, b) => b.forward(h), embed(ids));
    },
    forward(ids) {
      return head.forward(lnF.forward(model.residual(ids, layers)));
    },
    params() {
      return Object.values(model.namedParams());
    },
    namedParams() {
      const named: Record<string, Tensor> = {};
      for (const [prefix, m] of children)
        for (const [name, t] of Object.entries(m.namedParams())) named[`${prefix}.${name}`] = t;
      return named;
    },
    train(mode = true) {
      (model as { training: boolean }).training = mode;
      children.forEach(([, m]) => m.train(mode));
      return model;
    },
    eval() {
      return model.train(false);
    },
    dispose() {
      children.forEach(([, m]) => m.dispose());
    },
  };
  return model;
}

/** Mean cross-entropy in nats per predicted character; targets −1 (past the word) are left out. */
export function wordsLoss(rt: Runtime, model: WordsModel, ids: Tensor, targets: Tensor): Tensor {
  return rt.softmaxCrossEntropy(model.forward(ids), targets, { ignoreIndex: -1 });
}

/**
 * Block `layer`'s queries, keys and values for its input x [B, t, d], from the block's own parameters: ln1, then
 * in_proj (rows q, k, v; head h reads features h·dh … (h+1)·dh − 1 of each), as [B, H, t, dh] each.
 */
export function headProjections(rt: Runtime, model: WordsModel, x: Tensor, layer: number) {
  const { heads, dModel } = model.config;
  const [b, t] = x.shape;
  const p = (name: string) => model.namedParams()[`blocks.${layer}.${name}`];
  const h = rt.layerNorm(rt.reshape(x, [b * t, dModel]), p('ln1.weight'), p('ln1.bias'));
  const qkv = rt.linear(h, p('attn.in_proj_weight'), p('attn.in_proj_bias'), 'none', { transposeW: true });
  const split = rt.permute(rt.reshape(qkv, [b, t, 3, heads, dModel / heads]), [2, 0, 3, 1, 4]); // [3, B, H, t, dh]
  const [q, k, v] = [0, 1, 2].map((i) => rt.gather(split, i, 0));
  return { q, k, v };
}

/** softmax(Q·Kᵀ/√dh) with the causal mask (key j > query i weighs exactly 0): q, k [B, H, t, dh] → [B, H, t, t]. */
export function causalAttentionWeights(rt: Runtime, q: Tensor, k: Tensor): Tensor {
  const [t, dh] = q.shape.slice(-2);
  const mask = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) mask[i * t + j] = -Infinity;
  const scores = rt.scale(rt.matmul(q, k, { transposeB: true }), 1 / Math.sqrt(dh));
  return rt.softmax(rt.add(scores, rt.tensor(mask, [t, t])), -1);
}

/**
 * Each head's attention weights for one word, per layer, for the tokens `. w₁ … wₙ` (the positions that predict
 * its letters and its end): [layers][heads] of row-major [t, t] matrices, query × key. nn.multiHeadAttention does
 * not expose its weights, so they are computed from each layer's parameters (see headProjections).
 */
export async function attentionWeights(rt: Runtime, model: WordsModel, word: string): Promise<Float32Array[][]> {
  const { context, heads } = model.config;
  const tokens = [data.END_TOKEN, ...data.encodeWord(word)].slice(0, context);
  const t = tokens.length;
  const probs = rt.tidy(() => attentionTensors(rt, model, rt.tensor(Float32Array.from(tokens), [1, t])));
  const out: Float32Array[][] = [];
  for (const p of probs) {
    const values = await p.data();
    out.push(Array.from({ length: heads }, (_, h) => values.slice(h * t * t, (h + 1) * t * t)));
    p.dispose();
  }
  return out;
}

/** Each layer's attention weights [B, H, t, t] for ids [B, t]. */
export function attentionTensors(rt: Runtime, model: WordsModel, ids: Tensor): Tensor[] {
  return Array.from({ length: model.config.layers }, (_, l) => {
    const { q, k } = headProjections(rt, model, model.residual(ids, l), l);
    return causalAttentionWeights(rt, q, k);
  });
}

export interface SampleOptions {
  count: number;
  temperature: number;
  seed: number;
}

/** ids [B, context] → logits [B, context, 27]: the model's forward pass, or a compiled one. */
export type LogitsFn = (ids: Tensor) => Tensor | Promise<Tensor>;

/**
 * Invents `count` words: each starts from the end token and draws the next character from softmax(logits / T)
 * with a generator seeded by `seed`, until the end token or the context is full. The same weights and seed give
 * the same words. Every forward pass is [count, context] (end-token padded: the mask is causal, so the padding
 * changes nothing before it), so that one compiled recording serves them all; a finished row's draws are ignored.
 */
export async function sampleWords(
  rt: Runtime,
  model: WordsModel,
  options: SampleOptions,
  logitsOf: LogitsFn = (ids) => model.forward(ids),
): Promise<string[]> {
  const { count, temperature, seed } = options;
  if (!(temperature > 0)) throw new Error(`sampleWords: temperature must be positive, got ${temperature}`);
  const { context } = model.config;
  const random = uniformRandom(seed);
  const ids = new Float32Array(count * context).fill(data.END_TOKEN);
  const length = new Array<number>(count).fill(0);
  const done = new Array<boolean>(count).fill(false);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let t = 1; t < context && done.includes(false); t++) {
      const logits = await rt.tidy(async () => (await logitsOf(rt.tensor(ids, [count, context]))).data());
      for (let r = 0; r < count; r++) {
        const draw = random(); // drawn for every row and step, so one row's end does not shift the others' draws
        if (done[r]) continue;
        const at = (r * context + t - 1) * VOCAB_SIZE;
        const row = logits.slice(at, at + VOCAB_SIZE);
        if (t === 1) row[data.END_TOKEN] = -Infinity; // a word has at least one letter
        const next = drawToken(row, temperature, draw);
        if (next === data.END_TOKEN) done[r] = true;
        else {
          ids[r * context + t] = next;
          length[r] = t;
        }
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return length.map((n, r) => data.decodeTokens(ids.subarray(r * context + 1, r * context + 1 + n)));
}

/** The token whose cumulative probability under softmax(logits / temperature) first exceeds `u` ∈ [0, 1). */
export function drawToken(logits: ArrayLike<number>, temperature: number, u: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  const weights = Array.from(logits, (z) => Math.exp(z / temperature - max));
  const total = weights.reduce((a, b) => a + b, 0);
  let cumulative = 0;
  for (let i = 0; i < weights.length; i++) {
    cumulative += weights[i] / total;
    if (u < cumulative) return i;
  }
  return weights.length - 1;
}
