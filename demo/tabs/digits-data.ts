// The Digits tab's data: the `mnist` package's 10,000 digits as the packed binary that the dev server or the build
// makes from it (scripts/digits-asset.ts), fetched once with progress and split with a fixed seed.
import { data, type Digits, type DigitsSplit } from '../../src/index.js';

export const TEST_SIZE = 2000;
const SPLIT_SEED = 11;

let loaded: Promise<Digits> | null = null;

async function fetchWithProgress(url: string, onProgress: (fraction: number) => void): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`digits: fetching ${url} failed (${response.status})`);
  const total = Number(response.headers.get('Content-Length')) || 0;
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    if (total) onProgress(received / total);
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}

/** The digits split 8,000 / 2,000 (seed 11), loaded once per page. */
export function loadDigits(onProgress: (fraction: number) => void): Promise<Digits> {
  loaded ??= fetchWithProgress(new URL('digits.bin', document.baseURI).href, onProgress)
    .then((bytes) => data.splitDigits(data.unpackDigits(bytes), { testSize: TEST_SIZE, seed: SPLIT_SEED }))
    .catch((e: unknown) => {
      loaded = null;
      throw e;
    });
  return loaded;
}

/**
 * MNIST's pixel mean and standard deviation (of the bytes / 255): the model sees (v − mean) / std, as PyTorch's
 * MNIST examples do, so that its first layer starts with inputs of unit scale.
 */
export const PIXEL_MEAN = 0.1307;
export const PIXEL_STD = 0.3081;

/** Pixels in [0, 1] as the model's inputs, in place. */
export function normalize(pixels: Float32Array): Float32Array {
  for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i] - PIXEL_MEAN) / PIXEL_STD;
  return pixels;
}

/** Rows of a split as the model's inputs [rows, 1, 28, 28] (normalised) and their labels. */
export function slice(split: DigitsSplit, rows: ArrayLike<number>): { x: Float32Array; labels: Int32Array } {
  const x = new Float32Array(rows.length * data.DIGIT_PIXELS);
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const pixels = split.images.subarray(r * data.DIGIT_PIXELS, (r + 1) * data.DIGIT_PIXELS);
    for (let p = 0; p < data.DIGIT_PIXELS; p++)
      x[i * data.DIGIT_PIXELS + p] = (pixels[p] / 255 - PIXEL_MEAN) / PIXEL_STD;
    labels[i] = split.labels[r];
  }
  return { x, labels };
}

export const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** Shuffled batches of the training split, a new seeded order each epoch; the last short batch of an epoch is dropped. */
export function* trainingBatches(split: DigitsSplit, batch: number, seed: number): Generator<number[]> {
  for (let epoch = 0; ; epoch++) {
    const order = data.permutation(split.size, seed + epoch);
    for (let at = 0; at + batch <= split.size; at += batch) yield Array.from(order.subarray(at, at + batch));
  }
}
