#!/usr/bin/env node
// `npm start`: serves the demo page and prints its URL.
// `npm start -- --headless` (the default without a display, or with CI set): drives the page in headless Chromium
// through a training run on the spiral set and the ∂L/∂Wᵀ walk-through, prints the loss as it goes, writes a
// screenshot, and exits 0 only when accuracy ≥ 0.95 and the GPU's ∂L/∂Wᵀ matched the CPU reference.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    headless: { type: 'boolean' },
    'no-headless': { type: 'boolean' },
    screenshot: { type: 'string' },
    steps: { type: 'string', default: '150' },
    'log-every': { type: 'string', default: '25' },
    port: { type: 'string', default: '5173' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    `usage: npm start [-- --headless | --no-headless] [--screenshot FILE] [--steps N] [--log-every N] [--port N]`,
  );
  process.exit(0);
}
const headless = args['no-headless'] ? false : (args.headless ?? (!process.env.DISPLAY || Boolean(process.env.CI)));
const REQUIRED_ACCURACY = 0.95;

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

function chromiumPath(chromium) {
  const system = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (system) return system;
  let bundled = '';
  try {
    bundled = chromium.executablePath();
  } catch {
    // Playwright has no browser of its own installed.
  }
  if (bundled && existsSync(bundled)) return undefined; // Playwright's own build
  throw new Error(
    'no Chromium found: install one (Debian/Ubuntu: apt-get install chromium) or run `npx playwright install chromium`, then retry',
  );
}

async function drive(pageUrl) {
  const started = performance.now();
  const { chromium } = await import('playwright');
  const browser = await chromium.launch({
    headless: true,
    executablePath: chromiumPath(chromium),
    args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--no-sandbox', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const logEvery = Number(args['log-every']);
    page.on('console', (msg) => {
      const text = msg.text();
      const step = /^\[webgrad-demo\] step (\d+) /.exec(text);
      if (step && Number(step[1]) % logEvery !== 0 && Number(step[1]) !== 1) return;
      if (text.startsWith('[webgrad-demo] ')) console.log(`  ${text.slice(15)}`);
      else if (msg.type() === 'error') console.error(`  page error: ${text}`);
    });
    page.on('pageerror', (e) => console.error(`  page error: ${e.message}`));
    await page.goto(pageUrl);
    const demo = () => page.evaluate(() => window.webgradDemo);
    await page.waitForFunction(() => window.webgradDemo?.ready, null, { timeout: 120_000 });
    let state = await demo();
    if (!state.webgpu) {
      console.error(`This Chromium has no WebGPU adapter: ${await page.textContent('#no-webgpu')}`);
      return 1;
    }
    console.log(`adapter: ${state.adapter}`);

    const steps = Number(args.steps);
    await page.selectOption('select[name=dataset]', 'spiral');
    await page.fill('input[name=hidden]', '16,16');
    await page.selectOption('select[name=activation]', 'tanh');
    await page.selectOption('select[name=optimizer]', 'adam');
    await page.fill('input[name=lr]', '0.03');
    await page.fill('input[name=batch]', 'full');
    await page.fill('input[name=steps]', String(steps));
    console.log(`training an MLP 2→16→16→3 (tanh, Adam lr 0.03, full batch) on the spiral set for ${steps} steps:`);
    await page.click('#train');
    await page.waitForFunction(() => window.webgradDemo.training.done, null, { timeout: 600_000, polling: 500 });
    await page.click('#speed-run');
    await page
      .waitForFunction(() => window.webgradDemo.speed.done, null, { timeout: 120_000, polling: 500 })
      .catch(() => undefined);

    const screenshot = resolve(args.screenshot ?? join(tmpdir(), 'webgrad-demo.png'));
    await page.screenshot({ path: screenshot, fullPage: true });

    state = await demo();
    const t = state.training;
    const last = t.points[t.points.length - 1];
    const w = state.walkthrough;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (t.error) console.error(`training failed: ${t.error}`);
    if (w.error) console.error(`walk-through failed: ${w.error}`);
    console.log(
      `final: step ${last?.step ?? 0}, loss ${last?.loss.toFixed(4)}, accuracy ${last?.accuracy?.toFixed(3)}, ${t.stepsPerSecond.toFixed(1)} steps/s`,
    );
    console.log(
      `walk-through: ∂L/∂Wᵀ from ${w.kernel || 'no transposed kernel'}, max |GPU − CPU| ${w.maxGpuCpu.toExponential(2)} (${w.gpuMatchesCpu ? 'matches' : 'DOES NOT MATCH'}), max |CPU − FD| ${w.maxCpuFd.toExponential(2)}`,
    );
    console.log(`regions drawn ${state.regionsDrawn} times; screenshot: ${screenshot}; ${seconds} s in all`);
    const converged = (last?.accuracy ?? 0) >= REQUIRED_ACCURACY;
    if (!converged) console.error(`FAILED: accuracy ${last?.accuracy} is below ${REQUIRED_ACCURACY}`);
    if (!w.gpuMatchesCpu) console.error('FAILED: the walk-through GPU result did not match the CPU');
    return converged && w.gpuMatchesCpu && !t.error ? 0 : 1;
  } finally {
    await browser.close();
  }
}
