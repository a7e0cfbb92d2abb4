// The benchmark harness (Node): `npm run bench [-- --browser] [--json FILE] [--reps N] [--sizes 256,512]
// [--groups matmul,step,transformer,convnet,tune,check] [--small | --full] [--no-tfjs] [--no-webgrad] [--variants]
// [--match REGEX]`. --no-webgrad runs the transformer group's peers and reference alone (the other groups ignore it).
// --variants times every matmul case under each kernel variant too, --match keeps the matmul cases whose name
// matches; `tune` (rt.tune() on the issue-12 shapes) and `check` (every variant against the float64 reference) run
// only when named.
// In Node it runs the cases on Dawn (the 'webgpu' package); with --browser it serves bench/page.html with Vite and
// runs them in headless Chromium. Either way it prints one table and, with --json, writes the rows.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadJax } from './jax.js';
import { ALL_GROUPS, GROUPS, probeAdapter, loadTfjs, runCases, type Group } from './cases.js';
import { formatRow } from './matmul.js';
import type { BenchRow } from './types.js';

interface Args {
  browser: boolean;
  json?: string;
  reps: number;
  sizes?: number[];
  groups: Group[];
  small?: boolean;
  tfjs: boolean;
  webgrad: boolean;
  variants: boolean;
  match?: string;
}

function readArgs(argv: string[]): Args {
  const { values, tokens } = parseArgs({
    args: argv,
    tokens: true,
    options: {
      browser: { type: 'boolean', default: false },
      json: { type: 'string' },
      reps: { type: 'string', default: '5' },
      sizes: { type: 'string' },
      groups: { type: 'string' },
      small: { type: 'boolean' },
      full: { type: 'boolean' },
      'no-tfjs': { type: 'boolean', default: false },
      'no-webgrad': { type: 'boolean', default: false },
      variants: { type: 'boolean', default: false },
      match: { type: 'string' },
    },
  });
  // --small and --full override each other: the later one wins, as on most command lines.
  const scale = tokens.filter((t) => t.kind === 'option' && (t.name === 'small' || t.name === 'full')).at(-1);
  const groups = (values.groups?.split(',') ?? GROUPS) as Group[];
  for (const g of groups)
    if (!ALL_GROUPS.includes(g)) throw new Error(`bench: unknown group ${g}; groups are ${ALL_GROUPS.join(', ')}`);
  return {
    browser: values.browser,
    json: values.json,
    reps: Number(values.reps),
    sizes: values.sizes?.split(',').map(Number),
    groups,
    small: scale?.kind === 'option' ? scale.name === 'small' : undefined,
    tfjs: !values['no-tfjs'],
    webgrad: !values['no-webgrad'],
    variants: values.variants,
    match: values.match,
  };
}

const log = (line: string) => console.log(line);

async function runInNode(args: Args): Promise<BenchRow[]> {
  const { create, globals } = await import('webgpu');
  // TF.js looks for navigator.gpu and the GPU* constants (GPUBufferUsage, …) on the global object.
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: GPU };
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  const { software, adapter } = await probeAdapter(gpu);
  log(`adapter: ${adapter} (Node, Dawn)`);
  const tf = args.tfjs ? await loadTfjs(log) : undefined;
  const jax = args.tfjs ? await loadJax(gpu, log) : undefined;
  return runCases(
    { gpu, small: args.small ?? software, reps: args.reps, tf, jax, log },
    { groups: args.groups, sizes: args.sizes, webgrad: args.webgrad, variants: args.variants, match: args.match },
  );
}

async function runInBrowser(args: Args): Promise<BenchRow[]> {
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright');
  const root = resolve(process.cwd());
  // A plain .mjs helper shared with the tests and the demo, found from the project root (this file runs bundled).
  const { findChromium, WEBGPU_ARGS } = await import(pathToFileURL(resolve(root, 'scripts/find-chromium.mjs')).href);
  // No reloads: an edit elsewhere in the tree must not restart a run halfway.
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
  });
  await server.listen();
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 5173;
  const browser = await chromium.launch({ executablePath: await findChromium(), headless: true, args: WEBGPU_ARGS });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log(m.text()));
    const query = new URLSearchParams({
      reps: String(args.reps),
      groups: args.groups.join(','),
      tfjs: args.tfjs ? '1' : '0',
      webgrad: args.webgrad ? '1' : '0',
    });
    if (args.sizes) query.set('sizes', args.sizes.join(','));
    if (args.small !== undefined) query.set('small', args.small ? '1' : '0');
    // file:// pages have no WebGPU; Vite serves the page (and compiles its TypeScript and ?raw shaders) on localhost.
    await page.goto(`http://127.0.0.1:${port}/bench/page.html?${query}`);
    await page.waitForFunction(() => window.benchResult !== undefined, undefined, { timeout: 0, polling: 500 });
    const result = await page.evaluate(() => window.benchResult!);
    if (result.error) throw new Error(`bench page: ${result.error}`);
    return result.rows!;
  } finally {
    await browser.close();
    await server.close();
  }
}

function printTable(rows: BenchRow[]): void {
  const header = [
    'case'.padEnd(44),
    'webgrad kernel'.padEnd(26),
    'webgrad'.padStart(12),
    ''.padStart(16),
    'TF.js'.padStart(17),
    ''.padStart(16),
    'speedup'.padStart(8),
  ];
  console.log(`\n${rows[0]?.adapter ?? ''} (timing: ${rows[0]?.timing ?? '-'})`);
  console.log(header.join(' '));
  for (const r of rows) console.log(formatRow(r));
}

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  const rows = args.browser ? await runInBrowser(args) : await runInNode(args);
  printTable(rows);
  if (args.json) {
    writeFileSync(
      args.json,
      `${JSON.stringify({ date: new Date().toISOString(), browser: args.browser, rows }, null, 2)}\n`,
    );
    console.log(`wrote ${args.json}`);
  }
}

main().then(
  // Dawn keeps the process alive while a device exists; the results are out, so leave.
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
