// The Words tab's model, training, sampling, attention and weights, on the float64 CPU reference (no DOM).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, data, type Runtime, type Words } from '../../src/index.js';
import { WordsTrainer, wordsReport, WORDS_CONFIG, type WordsTrainingConfig } from '../../demo/tabs/words-trainer.js';
import {
  causalAttentionWeights,
  drawToken,
  headProjections,
  sampleWords,
  VOCAB_SIZE,
} from '../../demo/tabs/words-model.js';

// Small enough for the CPU reference: two layers of d 16 with 4 heads, a few hundred words.
const SMALL: WordsTrainingConfig = {
  ...WORDS_CONFIG,
  dModel: 16,
  layers: 2,
  heads: 4,
  batch: 8,
  lr: 1e-2,
  validationWords: 40,
};

let rt: Runtime;
let words: Words;

beforeAll(async () => {
  rt = await createRuntime({ backend: 'cpu' });
  const all = await data.englishWords();
  words = { train: all.train.slice(0, 400), validation: all.validation.slice(0, 100) };
});

afterAll(() => rt.destroy());

describe('words tab: model and training', () => {
  it('names its parameters as PyTorch does, with Linear weights [out, in]', () => {
    const trainer = new WordsTrainer(rt, words, SMALL);
    const named = trainer.model.namedParams();
    const shapes = Object.fromEntries(Object.entries(named).map(([k, t]) => [k, t.shape]));
    expect(shapes['tok_emb.weight']).toEqual([VOCAB_SIZE, 16]);
    expect(shapes['pos_emb.weight']).toEqual([SMALL.context, 16]);
    expect(shapes['blocks.1.attn.in_proj_weight']).toEqual([48, 16]);
    expect(shapes['blocks.0.mlp.0.weight']).toEqual([64, 16]);
    expect(shapes['ln_f.bias']).toEqual([16]);
    expect(shapes['head.weight']).toEqual([VOCAB_SIZE, 16]);
    expect(Object.keys(named)).toHaveLength(6 + 2 * 12);
    trainer.dispose();
  });

  it('lowers the training and validation loss, and measures the baseline on the same words', async () => {
    const trainer = new WordsTrainer(rt, words, SMALL);
    expect(trainer.baseline).toBeCloseTo(data.bigramBaseline(words.train, words.validation.slice(0, 40)), 12);
    const before = await trainer.validationLoss();
    expect(before).toBeGreaterThan(Math.log(VOCAB_SIZE) - 0.5); // near uniform at the start
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) losses.push(await trainer.trainStep());
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.4);
    expect(await trainer.validationLoss()).toBeLessThan(before - 0.4);
    expect(trainer.steps).toBe(60);
    trainer.dispose();
  }, 120_000);
});

describe('words tab: sampling', () => {
  it('is deterministic for a seed and gives words of a … z', async () => {
    const trainer = new WordsTrainer(rt, words, SMALL);
    for (let i = 0; i < 10; i++) await trainer.trainStep();
    const options = { count: 8, temperature: 1, seed: 42 };
    const first = await trainer.sample(options);
    expect(await trainer.sample(options)).toEqual(first);
    expect(first).toHaveLength(8);
    for (const w of first) expect(w).toMatch(/^[a-z]{1,15}$/);
    expect(await trainer.sample({ ...options, seed: 43 })).not.toEqual(first);
    // The model stays in training mode once sampling is over.
    expect(trainer.model.training).toBe(true);
    trainer.dispose();
  });

  it('draws by cumulative probability, sharpened by a low temperature', async () => {
    const logits = [0, Math.log(3)]; // p = 1/4, 3/4
    expect(drawToken(logits, 1, 0.2)).toBe(0);
    expect(drawToken(logits, 1, 0.3)).toBe(1);
    expect(drawToken(logits, 0.01, 0.2)).toBe(1);
    await expect(sampleWords(rt, {} as never, { count: 1, temperature: 0, seed: 1 })).rejects.toThrow(/temperature/);
  });
});

describe('words tab: attention', () => {
  it('gives causal rows that sum to 1, for every layer and head', async () => {
    const trainer = new WordsTrainer(rt, words, SMALL);
    for (let i = 0; i < 5; i++) await trainer.trainStep();
    const maps = await trainer.attention('quartz');
    expect(maps).toHaveLength(2);
    const t = 7; // '.', q, u, a, r, t, z
    for (const layer of maps) {
      expect(layer).toHaveLength(4);
      for (const head of layer) {
        expect(head).toHaveLength(t * t);
        for (let i = 0; i < t; i++) {
          let sum = 0;
          for (let j = 0; j < t; j++) {
            if (j > i) expect(head[i * t + j]).toBe(0);
            else expect(head[i * t + j]).toBeGreaterThan(0);
            sum += head[i * t + j];
          }
          expect(sum).toBeCloseTo(1, 6);
        }
      }
    }
    trainer.dispose();
  });

  it('are the weights the layer uses: P·V through out_proj gives the attention module output', async () => {
    const trainer = new WordsTrainer(rt, words, SMALL);
    for (let i = 0; i < 5; i++) await trainer.trainStep();
    const { model } = trainer;
    const [b, t, d] = [3, 9, SMALL.dModel];
    const ids = rt.tensor(
      Float32Array.from({ length: b * t }, (_, i) => (i * 7 + 3) % VOCAB_SIZE),
      [b, t],
    );
    for (let layer = 0; layer < SMALL.layers; layer++) {
      const [expected, rebuilt] = await rt.tidy(async () => {
        const x = model.residual(ids, layer);
        const block = model.blocks[layer];
        const { q, k, v } = headProjections(rt, model, x, layer);
        const p = causalAttentionWeights(rt, q, k); // [B, H, t, t]
        const merged = rt.reshape(rt.permute(rt.matmul(p, v), [0, 2, 1, 3]), [b * t, d]);
        const out = block.attn.outProj.forward(merged);
        const reference = block.attn.forward(block.ln1.forward(x));
        return [await reference.dataF64(), await out.dataF64()];
      });
      expect(rebuilt.length).toBe(b * t * d);
      for (let i = 0; i < rebuilt.length; i++) expect(Math.abs(rebuilt[i] - expected[i])).toBeLessThan(1e-12);
    }
    ids.dispose();
    trainer.dispose();
  });
});

describe('words tab: weights, gradient check, report', () => {
  it('save → load into another model reproduces its logits bit for bit', async () => {
    const a = new WordsTrainer(rt, words, SMALL);
    for (let i = 0; i < 3; i++) await a.trainStep();
    // The CPU reference trains in float64 and the file holds float32: load once so that a's weights are the file's.
    a.load(await a.save());
    const bytes = await a.save();
    const b = new WordsTrainer(rt, words, { ...SMALL, seed: 99 });
    const logits = (m: WordsTrainer) =>
      rt.tidy(() =>
        m.model
          .forward(
            rt.tensor(
              Float32Array.from({ length: 16 }, (_, i) => i % 27),
              [1, 16],
            ),
          )
          .dataF64(),
      );
    expect(await logits(b)).not.toEqual(await logits(a));
    b.load(bytes);
    expect(await logits(b)).toEqual(await logits(a));
    expect(await b.save()).toEqual(bytes);
    a.dispose();
    b.dispose();
  });

  it('checks one step of its gradients against the reference, per parameter', async () => {
    const trainer = new WordsTrainer(rt, words, SMALL);
    const check = await trainer.checkGradients(undefined, 2);
    expect(check.ok).toBe(true);
    expect(check.parameters.map((p) => p.name)).toEqual(Object.keys(trainer.model.namedParams()));
    expect(check.loss).toBeCloseTo(check.referenceLoss, 12);
    trainer.dispose();
  });

  it('passes only when validation is at least 0.1 nats/char below the bigram baseline', () => {
    expect(wordsReport(2.3, 2.5, 60)).toMatchObject({
      passed: true,
      figures: { 'validation loss': 2.3, 'bigram baseline': 2.5 },
      seconds: 60,
    });
    expect(wordsReport(2.4, 2.5, 1).passed).toBe(true);
    expect(wordsReport(2.41, 2.5, 1).passed).toBe(false);
    expect(wordsReport(2.6, 2.5, 1).passed).toBe(false);
    expect(wordsReport(NaN, 2.5, 1).passed).toBe(false);
    expect(wordsReport(2.3, 2.5, 1).target).toMatch(/0\.1/);
  });
});
