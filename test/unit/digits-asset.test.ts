// The demo's digits binary (scripts/digits-asset.ts): the whole `mnist` package packed in data.packDigits's format,
// byte for byte what data.mnist() decodes from the JSON, and the same bytes every time.
import { describe, expect, it } from 'vitest';
import { data } from '../../src/index.js';
import { packMnistPackage } from '../../scripts/digits-asset.js';

describe('the demo digits asset', () => {
  it('packs the 10,000 digits: header, labels in class order, pixels; it unpacks to the package’s bytes', async () => {
    const packed = packMnistPackage();
    expect(packed.length).toBe(8 + 10_000 * (1 + data.DIGIT_PIXELS));
    expect(Array.from(packed.subarray(0, 4), (b) => String.fromCharCode(b)).join('')).toBe('WGD1');
    const all = data.unpackDigits(packed);
    expect(all.size).toBe(10_000);
    const counts = new Array(10).fill(0);
    all.labels.forEach((l) => counts[l]++);
    expect(counts.every((c) => c > 800 && c < 1200)).toBe(true);
    expect(all.labels.every((l, i) => i === 0 || l >= all.labels[i - 1])).toBe(true);
    // Ink on black: every digit has dark background and bright strokes.
    const first = all.images.subarray(0, data.DIGIT_PIXELS);
    expect(first[0]).toBe(0);
    expect(Math.max(...first)).toBeGreaterThan(200);

    // The page's split of these bytes is the library's split of the package itself.
    const fromBytes = data.splitDigits(all, { testSize: 2000, seed: 11 });
    const fromPackage = await data.mnist({ testSize: 2000, seed: 11 });
    // Buffer.compare: vitest's deep equality walks 1.6 M elements one by one.
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
    expect(same(fromBytes.test.labels, fromPackage.test.labels)).toBe(true);
    expect(same(fromBytes.test.images, fromPackage.test.images)).toBe(true);
    expect(same(fromBytes.train.images, fromPackage.train.images)).toBe(true);
    expect(fromBytes.train.size).toBe(8000);
    expect(same(packMnistPackage(), packed)).toBe(true);
  }, 60_000);
});
