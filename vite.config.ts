import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

// Debian's Chromium where it exists (Playwright cannot download its own browser on our CI machines);
// elsewhere Playwright's own build. scripts/check-browser.mjs says clearly when neither is there.
const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export default defineConfig({
  root: '.',
  build: {
    lib: {
      entry: resolve(import.meta.dirname, 'src/index.ts'),
      formats: ['es'],
      fileName: () => 'webgrad.js',
    },
    outDir: 'dist',
    target: 'es2022',
    sourcemap: true,
    // The data packages stay imports of the package's dependencies: bundled, their 24 MB of JSON would ship in dist.
    rollupOptions: { external: [/^wgsl_reflect/, /^mnist$/, /^an-array-of-english-words$/] },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          // unit: the CPU reference; dawn: WebGPU in Node through Dawn; e2e: the demo, the README and the package.
          include: ['test/unit/**/*.test.ts', 'test/dawn/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // gpu: every kernel against the CPU reference, in headless Chromium.
          include: ['test/gpu/**/*.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: systemChromium,
                args: [
                  '--enable-unsafe-webgpu',
                  '--enable-features=Vulkan',
                  '--disable-background-networking',
                  '--no-sandbox',
                ],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
