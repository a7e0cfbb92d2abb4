import { permutation } from './mnist.js';

/**
 * The character vocabulary: token 0 is the end token '.', which both starts (as padding) and ends every word, as
 * in makemore; tokens 1 … 26 are 'a' … 'z'.
 */
export const WORD_VOCAB = '.abcdefghijklmnopqrstuvwxyz';
export const END_TOKEN = 0;

/** A fixed train/validation split of lowercase words. */
export interface Words {
  train: string[];
  validation: string[];
}

/** A word's tokens (without the end token); anything but a … z is an error naming the word. */
export function encodeWord(word: string): number[] {
  return Array.from(word, (ch) => {
    const t = WORD_VOCAB.indexOf(ch);
    if (t < 1) throw new Error(`words: "${word}" has ${JSON.stringify(ch)}, outside a … z`);
    return t;
  });
}

/** Tokens back to text; the end token reads '.'. */
export function decodeTokens(tokens: ArrayLike<number>): string {
  return Array.from(tokens, (t) => WORD_VOCAB[t] ?? '?').join('');
}

export interface WordsSplitOptions {
  /** The fraction held out for validation; 0.1 by default. */
  validationFraction?: number;
  seed?: number;
}

/**
 * Shuffles the words once with a seed and holds out the first ⌈fraction·n⌉ for validation. Words with anything
 * but a … z are dropped (the package has none, but another list might).
 */
export function splitWords(words: readonly string[], options: WordsSplitOptions = {}): Words {
  const fraction = options.validationFraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`words: validationFraction must be in (0, 1), got ${fraction}`);
  const clean = words.filter((w) => /^[a-z]+$/.test(w));
  const held = Math.ceil(fraction * clean.length);
  if (held < 1 || held >= clean.length)
    throw new Error(`words: ${clean.length} words cannot be split with validationFraction ${fraction}`);
  const order = permutation(clean.length, options.seed ?? 7);
  const shuffled = Array.from(order, (i) => clean[i]);
  return { validation: shuffled.slice(0, held), train: shuffled.slice(held) };
}

/** Training windows: `contexts` [count, T] and `targets` [count], token ids as Int32Array. */
export interface WordWindows {
  contexts: Int32Array;
  targets: Int32Array;
  count: number;
  context: number;
}

/**
 * One window per predicted character: for a word of n letters, n + 1 windows, predicting each letter and then the
 * end token from the T tokens before it, with end tokens as padding before the word (makemore's scheme). So
 * "ab" with T = 3 gives "..." → a, "..a" → b, ".ab" → '.'.
 */
export function wordWindows(words: readonly string[], context: number): WordWindows {
  if (!Number.isInteger(context) || context < 1)
    throw new Error(`words: context must be a positive integer, got ${context}`);
  const count = words.reduce((n, w) => n + w.length + 1, 0);
  const contexts = new Int32Array(count * context); // zeros: the end token pads every window
  const targets = new Int32Array(count);
  let row = 0;
  for (const word of words) {
    const tokens = [...encodeWord(word), END_TOKEN];
    for (let i = 0; i < tokens.length; i++, row++) {
      // Window for target i: tokens i−T … i−1, of which the ones before the word stay END_TOKEN.
      for (let j = Math.max(0, i - context); j < i; j++) contexts[row * context + context - (i - j)] = tokens[j];
      targets[row] = tokens[i];
    }
  }
  return { contexts, targets, count, context };
}

/** Sequences for a model that predicts at every position: `inputs` and `targets` [count, T], token ids. */
export interface WordSequences {
  inputs: Int32Array;
  /** The next token at each position, or `ignoreIndex` (−1) where nothing is to be predicted (padding, overlap). */
  targets: Int32Array;
  count: number;
  context: number;
}

/**
 * Rows for a transformer trained at every position (as makemore's): a word w₁…wₙ is the token stream
 * `. w₁ … wₙ .`, the inputs of a row are T tokens of it (end-token padded after the word) and the targets the
 * tokens one later, −1 past the word. A word longer than T − 1 letters takes more rows: each next row ends T
 * predictions later (or at the word's end) and starts T tokens before, so every prediction sees as much context as
 * T allows, and a prediction already made by an earlier row is −1 in the later one, so each is counted once.
 * Train with `softmaxCrossEntropy(logits, targets, { ignoreIndex: -1 })`.
 */
export function wordSequences(words: readonly string[], context: number): WordSequences {
  if (!Number.isInteger(context) || context < 1)
    throw new Error(`words: context must be a positive integer, got ${context}`);
  const rows: { stream: number[]; start: number; from: number }[] = [];
  for (const word of words) {
    const stream = [END_TOKEN, ...encodeWord(word), END_TOKEN];
    const predictions = stream.length - 1; // positions 0 … n predict stream[1 … n+1]
    let covered = 0;
    while (covered < predictions) {
      const end = Math.min(covered + context, predictions);
      rows.push({ stream, start: Math.max(0, end - context), from: covered });
      covered = end;
    }
  }
  const inputs = new Int32Array(rows.length * context);
  const targets = new Int32Array(rows.length * context).fill(-1);
  rows.forEach(({ stream, start, from }, r) => {
    for (let j = 0; j < context; j++) {
      const p = start + j;
      inputs[r * context + j] = p >= 0 && p < stream.length - 1 ? stream[p] : END_TOKEN;
      if (p >= from && p < stream.length - 1) targets[r * context + j] = stream[p + 1];
    }
  });
  return { inputs, targets, count: rows.length, context };
}

/** The bigram counts [27·27] (row: previous token, column: next), over the end-padded words. */
export function bigramCounts(words: readonly string[]): Float64Array {
  const v = WORD_VOCAB.length;
  const counts = new Float64Array(v * v);
  for (const word of words) {
    let prev = END_TOKEN;
    for (const t of [...encodeWord(word), END_TOKEN]) {
      counts[prev * v + t]++;
      prev = t;
    }
  }
  return counts;
}

/**
 * The bigram baseline in nats per character: the mean of −ln p(next | previous) over every predicted token of the
 * validation words (each letter and the final end token, as the windows count them), with p from the training
 * counts smoothed by adding one to each of the 27·27 pairs, so that a pair unseen in training costs a finite amount.
 * A model beats it only by using more than the previous character.
 */
export function bigramBaseline(train: readonly string[], validation: readonly string[]): number {
  const v = WORD_VOCAB.length;
  const counts = bigramCounts(train);
  const logP = new Float64Array(v * v);
  for (let r = 0; r < v; r++) {
    let total = v; // the add-one smoothing over the row
    for (let c = 0; c < v; c++) total += counts[r * v + c];
    for (let c = 0; c < v; c++) logP[r * v + c] = Math.log((counts[r * v + c] + 1) / total);
  }
  let nats = 0;
  let n = 0;
  for (const word of validation) {
    let prev = END_TOKEN;
    for (const t of [...encodeWord(word), END_TOKEN]) {
      nats -= logP[prev * v + t];
      n++;
      prev = t;
    }
  }
  if (n === 0) throw new Error('words: the validation split is empty');
  return nats / n;
}

/**
 * The ~275,000 words of the `an-array-of-english-words` npm package (MIT), with a fixed seeded train/validation
 * split (90% / 10% by default). The package is imported on first use, so the library does not carry it otherwise.
 */
export async function englishWords(options: WordsSplitOptions = {}): Promise<Words> {
  // The package's main is index.json, a plain array of strings. Node needs the JSON import attribute for it; Vite
  // (which sets import.meta.env) serves JSON as a JavaScript module and refuses the attribute, and a page logs that
  // refusal as an error even when it is caught, so the import that fits is tried first.
  type WordList = { default: readonly string[] };
  const plain = async () => (await import('an-array-of-english-words')) as WordList;
  const withAttribute = async () => (await import('an-array-of-english-words', { with: { type: 'json' } })) as WordList;
  const underVite = (import.meta as { env?: unknown }).env !== undefined;
  let mod: WordList;
  try {
    mod = await (underVite ? plain() : withAttribute());
  } catch {
    mod = await (underVite ? withAttribute() : plain());
  }
  if (!Array.isArray(mod.default)) throw new Error('words: an-array-of-english-words did not give an array of words');
  return splitWords(mod.default, options);
}
