import { defineConfig } from 'vite';
import { digitsAsset } from '../scripts/digits-asset.js';

// The demo page: served from demo/, importing the library from ../src, through its public entry only.
// The repository's own vite.config.ts stays the library build and the test projects.
export default defineConfig({
  root: import.meta.dirname,
  clearScreen: false,
  plugins: [digitsAsset()],
  server: { host: 'localhost', port: 5173 },
  preview: { host: 'localhost', port: 4173 },
  build: { outDir: '../dist/demo', emptyOutDir: true, target: 'es2022' },
});
