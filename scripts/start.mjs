#!/usr/bin/env node
// `npm start`: serves the demo page and prints its URL.
// `npm start -- --headless` (the default without a display, or with CI set): drives the page in headless Chromium
// through each tab (Spiral, Digits, Words): trains it for its default steps, checks its gradients against the CPU
// reference, prints each figure and the time it took, writes one screenshot per tab, and exits 0 only when every
// tab met its target (spiral accuracy ≥ 0.95, digits test accuracy ≥ 0.95, words validation loss ≥ 0.1 nats/char
// under the bigram baseline) with its gradients within the bound.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findChromium, WEBGPU_ARGS } from './find-chromium.mjs';

const repo = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    headless: { type: 'boolean' },
    'no-headless': { type: 'boolean' },
    screenshots: { type: 'string', default: tmpdir() },
    tabs: { type: 'string', default: 'spiral,digits,words' },
    port: { type: 'string', default: '5173' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    'usage: npm start [-- --headless | --no-headless] [--tabs spiral,digits,words] [--screenshots DIR] [--port N]',
  );
  process.exit(0);
}
const headless = args['no-headless'] ? false : (args.headless ?? (!process.env.DISPLAY || Boolean(process.env.CI)));

const { createServer } = await import('vite');
const server = await createServer({
  configFile: join(repo, 'demo/vite.config.ts'),
  logLevel: headless ? 'warn' : 'info',
  server: { port: Number(args.port), strictPort: false, host: 'localhost' },
});
await server.listen();
// WebGPU needs a secure context: http://localhost qualifies, a file:// page or a LAN address does not.
const url = server.resolvedUrls?.local.find((u) => u.includes('localhost')) ?? server.resolvedUrls?.local[0];
console.log(`webgrad demo: ${url}`);
if (!headless) {
  console.log('Open it in a browser with WebGPU (Chrome, Edge; Chromium with --enable-unsafe-webgpu). Ctrl+C stops.');
} else {
  let code = 1;
  try {
    code = await drive(url);
  } catch (e) {
    console.error(`headless run failed: ${e instanceof Error ? e.message : e}`);
  }
  await server.close();
  process.exit(code);
}

function seconds(since) {
  return ((performance.now() - since) / 1000).toFixed(1);
}

async function drive(pageUrl) {
  const started = performance.now();
  const { chromium } = await import('playwright');
  const browser = await chromium.launch({
    headless: true,
    executablePath: await findChromium(),
    args: [...WEBGPU_ARGS, '--enable-features=Vulkan'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('[webgrad-demo] ')) console.log(`  ${text.slice(15)}`);
      else if (msg.type() === 'error') console.error(`  page error: ${text}`);
    });
    page.on('pageerror', (e) => console.error(`  page error: ${e.message}`));
    await page.goto(pageUrl);
    await page.waitForFunction(() => window.webgradDemo?.ready, null, { timeout: 120_000 });
    const state = await page.evaluate(() => window.webgradDemo);
    if (!state.webgpu) {
      console.error(`This Chromium has no WebGPU adapter: ${await page.textContent('#no-webgpu')}`);
      return 1;
    }
    console.log(`adapter: ${state.adapter}; page ready in ${seconds(started)} s`);
    if (!state.walkthrough.gpuMatchesCpu) console.error('the ∂L/∂Wᵀ walk-through: the GPU did not match the CPU');

    const results = [];
    for (const id of args.tabs.split(',').map((t) => t.trim())) results.push(await driveTab(page, id));
    console.log(`\n${'tab'.padEnd(8)}${'target'.padEnd(64)}figures`);
    for (const r of results) {
      const figures = Object.entries(r.report?.figures ?? {})
        .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
        .join(', ');
      const verdict = r.passed ? 'ok' : 'FAILED';
      console.log(`${r.id.padEnd(8)}${(r.report?.target ?? r.error ?? '').padEnd(64)}${figures}  [${verdict}]`);
    }
    console.log(`${seconds(started)} s in all`);
    return results.every((r) => r.passed) && state.walkthrough.gpuMatchesCpu ? 0 : 1;
  } finally {
    await browser.close();
  }
}

/** Trains one tab for its default steps, checks its gradients, reads its report and takes its screenshot. */
async function driveTab(page, id) {
  const started = performance.now();
  const result = { id, passed: false };
  try {
    await page.click(`[data-tab=${id}]`);
    await page.waitForFunction((tab) => window.webgradDemo.tabs[tab].mounted, id, { timeout: 120_000 });
    const steps = await page.inputValue('#steps');
    console.log(`${id}: mounted in ${seconds(started)} s; training ${steps} steps`);
    const trainStarted = performance.now();
    const runs = await page.evaluate((tab) => window.webgradDemo.tabs[tab].runs, id);
    await page.click('#train');
    await page.waitForFunction(
      (a) => window.webgradDemo.tabs[a.id].runs > a.runs,
      { id, runs },
      {
        timeout: 600_000,
        polling: 500,
      },
    );
    const tab = await page.evaluate((t) => window.webgradDemo.tabs[t], id);
    if (tab.error) throw new Error(`training failed: ${tab.error}`);
    console.log(`${id}: trained in ${seconds(trainStarted)} s`);
    const checkStarted = performance.now();
    const checks = await page.evaluate((t) => window.webgradDemo.tabs[t].checks, id);
    await page.click('#check');
    await page.waitForFunction(
      (a) => window.webgradDemo.tabs[a.id].checks > a.checks,
      { id, checks },
      {
        timeout: 300_000,
        polling: 500,
      },
    );
    const check = await page.evaluate((t) => window.webgradDemo.tabs[t].gradientCheck, id);
    const checkOk = check?.ok === true;
    console.log(`${id}: gradient check ${checkOk ? 'within the bound' : 'FAILED'} in ${seconds(checkStarted)} s`);
    result.report = await page.evaluate((t) => window.webgradDemoReport(t), id);
    result.passed = result.report.passed && checkOk;
    const screenshot = join(resolve(args.screenshots), `webgrad-demo-${id}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(
      `${id}: ${JSON.stringify(result.report.figures)}; ${seconds(started)} s for the tab; screenshot ${screenshot}`,
    );
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    console.error(`${id}: ${result.error}`);
  }
  return result;
}
