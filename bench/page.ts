// The browser side of `npm run bench -- --browser`: runs the cases in this page and leaves the rows on window.
import { GROUPS, probeAdapter, loadTfjs, runCases, type Group } from './cases.js';
import type { BenchRow } from './types.js';
import { loadJax } from './jax.js';

declare global {
  interface Window {
    benchResult?: { rows?: BenchRow[]; error?: string };
  }
}

const params = new URLSearchParams(location.search);
const logElement = document.getElementById('log')!;
const log = (line: string) => {
  console.log(line);
  logElement.textContent += `${line}\n`;
};

async function main(): Promise<BenchRow[]> {
  const gpu = navigator.gpu;
  if (!gpu) throw new Error('this page has no navigator.gpu (launch Chromium with --enable-unsafe-webgpu)');
  const { software, adapter } = await probeAdapter(gpu);
  log(`adapter: ${adapter}`);
  const small = params.has('small') ? params.get('small') === '1' : software;
  const groups = (params.get('groups')?.split(',') ?? GROUPS) as Group[];
  const sizes = params.get('sizes')?.split(',').map(Number);
  const peers = params.get('tfjs') !== '0';
  const tf = peers ? await loadTfjs(log) : undefined;
  const jax = peers ? await loadJax(gpu, log) : undefined;
  return runCases(
    { gpu, small, reps: Number(params.get('reps') ?? 5), tf, jax, log },
    { groups, sizes, webgrad: params.get('webgrad') !== '0' },
  );
}

main().then(
  (rows) => (window.benchResult = { rows }),
  (e: unknown) => (window.benchResult = { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }),
);
