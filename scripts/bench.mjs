// `npm run bench [-- args]`: bundles bench/run.ts (WGSL inlined, 'webgpu', Vite and Playwright left external)
// and runs it. `--bundle-only [--out FILE]` only writes the bundle, e.g. `--out .gpu/bench.mjs` for a lent GPU
// (see ../shared/gpu/README.md), where it runs as `node .gpu/bench.mjs` beside the packed Node and Dawn.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const bundleOnly = argv.includes('--bundle-only');
const outIndex = argv.indexOf('--out');
const outfile = resolve(root, outIndex >= 0 ? argv[outIndex + 1] : 'node_modules/.cache/webgrad-bench/bench.mjs');
const passed = argv.filter((a, i) => a !== '--bundle-only' && (outIndex < 0 || (i !== outIndex && i !== outIndex + 1)));

// Vite's `?raw` suffix: the file's text, as esbuild's text loader gives it.
const rawPlugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.slice(0, -4)),
      namespace: 'raw',
    }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, (args) => ({
      contents: readFileSync(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

await build({
  entryPoints: [resolve(root, 'bench/run.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  external: ['webgpu', 'vite', 'playwright'],
  plugins: [rawPlugin],
  // Some of TF.js calls require(); an ES module bundle has none of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
if (bundleOnly) {
  console.log(`wrote ${outfile}`);
  process.exit(0);
}

const env = { ...process.env };
// No GPU driver here: Dawn runs on SwiftShader, the Vulkan CPU implementation Chromium ships.
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!env.VK_ICD_FILENAMES && !existsSync('/dev/nvidia0') && !existsSync('/dev/dri') && existsSync(swiftshader))
  env.VK_ICD_FILENAMES = swiftshader;
const result = spawnSync(process.execPath, [outfile, ...passed], { stdio: 'inherit', env, cwd: root });
process.exit(result.status ?? 1);
