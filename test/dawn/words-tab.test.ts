// The Words tab's model on a GPU (Dawn on SwiftShader): weights round-trip bit for bit, sampling is deterministic,
// attention rows are causal distributions, and the gradient check agrees with the float64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { create } from 'webgpu';
import { createRuntime, data, type Runtime, type Words } from '../../src/index.js';
import { WordsTrainer, WORDS_CONFIG } from '../../demo/tabs/words-trainer.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let rt: Runtime;
let words: Words;
let trainer: WordsTrainer;

beforeAll(async () => {
  if (!process.env.VK_ICD_FILENAMES) {
    expect(existsSync(SWIFTSHADER_ICD), `no Vulkan driver for Dawn: install Debian's chromium`).toBe(true);
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  rt = await createRuntime({ backend: 'webgpu', gpu: create([]) });
  const all = await data.englishWords();
  words = { train: all.train.slice(0, 2000), validation: all.validation.slice(0, 200) };
  // The tab's own configuration, a shorter validation set.
  trainer = new WordsTrainer(rt, words, { ...WORDS_CONFIG, validationWords: 100 });
  await trainer.warmup();
  for (let i = 0; i < 3; i++) await trainer.trainStep();
}, 120_000);

afterAll(() => {
  trainer?.dispose();
  rt?.destroy();
});

const probe = () => Float32Array.from({ length: 2 * WORDS_CONFIG.context }, (_, i) => (i * 5 + 1) % 27);

describe('words tab on the GPU', () => {
  it('save → load into another model reproduces the trained logits bit for bit', async () => {
    const bytes = await trainer.save();
    const other = new WordsTrainer(rt, words, { ...WORDS_CONFIG, validationWords: 100, seed: 77 });
    const logits = (t: WordsTrainer) =>
      rt.tidy(() => t.model.forward(rt.tensor(probe(), [2, WORDS_CONFIG.context])).data());
    const expected = await logits(trainer);
    expect(await logits(other)).not.toEqual(expected);
    other.load(bytes);
    expect(await logits(other)).toEqual(expected);
    other.dispose();
  }, 60_000);

  it('samples the same a … z words for the same seed', async () => {
    const options = { count: 6, temperature: 0.8, seed: 5 };
    const first = await trainer.sample(options);
    expect(await trainer.sample(options)).toEqual(first);
    for (const w of first) expect(w).toMatch(/^[a-z]{1,15}$/);
  }, 60_000);

  it('gives attention rows that sum to 1 with nothing above the diagonal', async () => {
    const maps = await trainer.attention('zebra');
    expect(maps).toHaveLength(WORDS_CONFIG.layers);
    const t = 6;
    for (const head of maps.flat()) {
      expect(head).toHaveLength(t * t);
      for (let i = 0; i < t; i++) {
        const row = head.subarray(i * t, (i + 1) * t);
        expect(Array.from(row.subarray(i + 1)).every((p) => p === 0)).toBe(true);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
    }
  }, 60_000);

  it('checks its gradients against the float64 reference within the bound', async () => {
    const check = await trainer.checkGradients();
    expect(check.parameters).toHaveLength(30);
    for (const p of check.parameters) expect(p.maxDiff, p.name).toBeLessThanOrEqual(p.bound);
    expect(check.ok).toBe(true);
  }, 60_000);

  it('measures the validation loss in padded compiled chunks as one eager mean over the same words does', async () => {
    const { context } = WORDS_CONFIG;
    const rows = data.wordSequences(words.validation.slice(0, 100), context);
    const eager = await rt.tidy(async () => {
      trainer.model.eval();
      const ids = rt.tensor(Float32Array.from(rows.inputs), [rows.count, context]);
      const targets = rt.tensor(Float32Array.from(rows.targets), [rows.count, context]);
      const loss = rt.softmaxCrossEntropy(trainer.model.forward(ids), targets, { ignoreIndex: -1 });
      trainer.model.train();
      return (await loss.data())[0];
    });
    const chunked = await trainer.validationLoss();
    expect(Math.abs(chunked - eager)).toBeLessThan(1e-5 * eager);
    expect(trainer.baseline).toBeCloseTo(data.bigramBaseline(words.train, words.validation.slice(0, 100)), 12);
  }, 60_000);
});
