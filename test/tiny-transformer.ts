// A two-layer causal character transformer built from rt.nn modules, the same from a seed on either backend:
// token embedding + learned positions, blocks, a final layerNorm and a linear head to the vocabulary.
import type { Runtime, Tensor } from '../src/index.js';

export const VOCAB = 27;
export const CONTEXT = 32;
export const D_MODEL = 64;
export const HEADS = 4;
export const LAYERS = 2;

export function tinyTransformer(rt: Runtime, options: { dropout?: number; seed?: number } = {}) {
  const seed = options.seed ?? 1;
  const tokens = rt.nn.embedding(VOCAB, D_MODEL, { seed });
  const positions = rt.nn.embedding(CONTEXT, D_MODEL, { seed: seed + 1 });
  const blocks = Array.from({ length: LAYERS }, (_, i) =>
    rt.nn.transformerBlock(D_MODEL, HEADS, { causal: true, dropout: options.dropout ?? 0, seed: seed + 10 * (i + 1) }),
  );
  const lnFinal = rt.nn.layerNorm(D_MODEL);
  const head = rt.nn.linear(D_MODEL, VOCAB, { seed: seed + 2 });
  const modules = { tok: tokens, pos: positions, ...Object.fromEntries(blocks.map((b, i) => [`blocks.${i}`, b])) };
  const named: Record<string, Tensor> = {};
  for (const [prefix, m] of Object.entries({ ...modules, ln_f: lnFinal, head }))
    for (const [name, t] of Object.entries(m.namedParams())) named[`${prefix}.${name}`] = t;
  const params = Object.values(named);
  const all = [tokens, positions, ...blocks, lnFinal, head];
  return {
    named,
    params,
    /** ids [B, T] (integer values) → logits [B, T, VOCAB]. */
    forward(ids: Tensor): Tensor {
      const t = ids.shape[1];
      const h0 = rt.add(tokens.forward(ids), positions.forward(Int32Array.from({ length: t }, (_, i) => i)));
      return head.forward(lnFinal.forward(blocks.reduce((h, b) => b.forward(h), h0)));
    },
    loss(ids: Tensor, targets: Tensor): Tensor {
      return rt.softmaxCrossEntropy(this.forward(ids), targets);
    },
    train(mode = true) {
      all.forEach((m) => m.train(mode));
    },
    dispose() {
      all.forEach((m) => m.dispose());
    },
  };
}

const TEXT =
  'the quick brown fox jumps over the lazy dog while five boxing wizards jump quickly and a wizard ' +
  'quickly jinxes the gnomes before they vaporize sphinx of black quartz judge my vow ';

/** Windows of the text as letter codes (space 0, a…z 1…26): ids [batch, T] and the next letters as targets. */
export function textBatch(batch: number, t: number, offset: number) {
  const code = (c: string) => (c === ' ' ? 0 : c.charCodeAt(0) - 96);
  const ids = new Float32Array(batch * t);
  const targets = new Float32Array(batch * t);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < t; i++) {
      const at = (offset + b * 37 + i) % (TEXT.length - 1);
      ids[b * t + i] = code(TEXT[at]);
      targets[b * t + i] = code(TEXT[at + 1]);
    }
  return { ids, targets };
}
