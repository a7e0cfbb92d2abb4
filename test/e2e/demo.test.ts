// The demo page in headless Chromium, driven as a user would: the Vite dev server, WebGPU through
// --enable-unsafe-webgpu (SwiftShader here), a short training run, the chart, the regions and the walk-through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright';
import { readFile } from 'node:fs/promises';
import { decodeSafetensors } from '../../src/index.js';
import type { DemoState } from '../../demo/main.js';

declare global {
  interface Window {
    webgradDemo: DemoState;
  }
}

let server: ViteDevServer;
let browser: Browser;
let url: string;

beforeAll(async () => {
  server = await createServer({
    configFile: resolve(import.meta.dirname, '../../demo/vite.config.ts'),
    logLevel: 'error',
    server: { port: 5199, strictPort: false, host: 'localhost' },
  });
  await server.listen();
  url = server.resolvedUrls!.local[0];
  browser = await chromium.launch({
    headless: true,
    executablePath: ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)),
    args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--no-sandbox'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(init?: () => void): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  if (init) await page.addInitScript(init);
  await page.goto(url);
  await page.waitForFunction(() => window.webgradDemo?.ready, null, { timeout: 120_000 });
  return page;
}

async function trainBriefly(page: Page, dataset: string, steps: number): Promise<DemoState> {
  await page.selectOption('select[name=dataset]', dataset);
  await page.fill('input[name=hidden]', '8');
  await page.fill('input[name=steps]', String(steps));
  await page.click('#train');
  // `done` is still true from the previous run until this one starts: wait for this run's last step too.
  await page.waitForFunction(
    (n) => window.webgradDemo.training.done && window.webgradDemo.training.points.at(-1)?.step === n,
    steps,
    { timeout: 180_000, polling: 250 },
  );
  return page.evaluate(() => window.webgradDemo);
}

/** Distinct colours on the regions canvas: a blank canvas has one. */
function canvasColours(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector('#regions') as HTMLCanvasElement;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set<number>();
    for (let i = 0; i < pixels.length; i += 4 * 37)
      colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    return colours.size;
  });
}

describe('the demo page', () => {
  it('trains on WebGPU: the chart, the regions and the kernel times draw; the walk-through matches', async () => {
    const page = await open();
    let state = await page.evaluate(() => window.webgradDemo);
    expect(state.webgpu).toBe(true);
    expect(await page.textContent('#device')).toMatch(/WebGPU: .*features:/s);
    expect(state.walkthrough.gpuMatchesCpu).toBe(true);
    expect(state.walkthrough.kernel).toMatch(/^matmul_.*tn$/);
    expect(await page.textContent('#walk-verdict')).toMatch(/✓ ∂L\/∂Wᵀ = \(∂L\/∂Z\)ᵀ·X holds/);
    expect(await page.locator('#walk-trace li.hl').count()).toBe(1);
    expect(await page.locator('#walk-result .matrix table').count()).toBe(3);

    expect(await canvasColours(page)).toBe(1);
    state = await trainBriefly(page, 'moons', 20);
    expect(state.training.error).toBeUndefined();
    expect(state.training.points.map((p) => p.step)).toEqual([1, 10, 20]);
    expect(state.training.points.every((p) => Number.isFinite(p.loss) && p.accuracy! >= 0 && p.accuracy! <= 1)).toBe(
      true,
    );
    expect(state.regionsDrawn).toBeGreaterThanOrEqual(2);
    expect(await canvasColours(page)).toBeGreaterThan(10);
    const lossPath = await page.getAttribute('#chart path:nth-of-type(1)', 'd');
    expect(lossPath?.match(/[ML]/g)?.length).toBe(3);
    expect(await page.textContent('#stat-step')).toBe('20');
    expect(Number(await page.textContent('#stat-rate'))).toBeGreaterThan(0);
    expect(await page.locator('#kernels tbody tr').count()).toBeGreaterThan(0);

    // The trained weights download as safetensors, in PyTorch's Linear layout.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    expect(download.suggestedFilename()).toBe('webgrad-moons.safetensors');
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile((await download.path())!)));
    expect(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.shape]))).toEqual({
      'layers.0.weight': [8, 2],
      'layers.0.bias': [8],
      'layers.1.weight': [2, 8],
      'layers.1.bias': [2],
    });
    expect(metadata.format).toBe('pt');
    await page.close();
  }, 240_000);

  it('times the matmul products on WebGPU, one row per case, with the kernel that ran', async () => {
    const page = await open();
    await page.click('#speed-run');
    await page.waitForFunction(() => window.webgradDemo.speed.done, null, { timeout: 180_000, polling: 500 });
    const { rows, error } = (await page.evaluate(() => window.webgradDemo)).speed;
    expect(error).toBeUndefined();
    const squares = rows.filter((r) => /^\d+³$/.test(r.shape));
    expect(new Set(squares.map((r) => r.transpose))).toEqual(new Set(['A·B', 'Aᵀ·B', 'A·Bᵀ', 'Aᵀ·Bᵀ']));
    expect(rows.some((r) => r.shape.startsWith('GEMV'))).toBe(true);
    for (const r of rows) {
      expect(r.kernel).toMatch(/^matmul_/);
      expect(r.ms).toBeGreaterThan(0);
    }
    expect(await page.textContent('#speed-source')).toMatch(/^Timed in this page on /);
    expect(await page.locator('#speed-table tbody tr').count()).toBe(rows.length);
    await page.close();
  }, 240_000);

  it('recovers from a lost device with a fresh runtime and trains on', async () => {
    const page = await open();
    await page.evaluate(() => (window as unknown as { webgradDemoLoseDevice: () => void }).webgradDemoLoseDevice());
    await page.waitForFunction(() => window.webgradDemo.deviceLosses === 1, null, { timeout: 60_000 });
    expect(await page.textContent('#no-webgpu')).toMatch(/device was lost .*a fresh WebGPU runtime replaced it/);
    const state = await trainBriefly(page, 'moons', 10);
    expect(state.backend).toBe('webgpu');
    expect(state.training.error).toBeUndefined();
    expect(state.training.points.at(-1)!.step).toBe(10);
    await page.close();
  }, 240_000);

  it('runs on the CPU backend when chosen', async () => {
    const page = await open();
    await page.selectOption('#backend', 'cpu');
    await expect.poll(() => page.textContent('#device')).toMatch(/CPU reference backend/);
    const state = await trainBriefly(page, 'circles', 10);
    expect(state.backend).toBe('cpu');
    expect(state.training.points.length).toBe(2);
    expect(await canvasColours(page)).toBeGreaterThan(10);
    // Iris (4 features: no plane) and the regression curve (no accuracy; the fitted curve instead of regions).
    const iris = await trainBriefly(page, 'iris', 40);
    expect(iris.training.error).toBeUndefined();
    expect(iris.training.points.at(-1)!.accuracy).toBeGreaterThan(0.5);
    expect(await page.textContent('#regions-caption')).toMatch(/iris has 4 features/);
    const curve = await trainBriefly(page, 'regression', 10);
    expect(curve.training.error).toBeUndefined();
    expect(curve.training.points.at(-1)!.accuracy).toBeUndefined();
    expect(await page.textContent('#regions-caption')).toMatch(/fitted curve/);
    await page.close();
  }, 240_000);

  it('without WebGPU it says so plainly and offers the CPU', async () => {
    const page = await open(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    const warning = page.locator('#no-webgpu');
    expect(await warning.isVisible()).toBe(true);
    expect(await warning.textContent()).toMatch(/no WebGPU .*CPU backend/);
    expect(await page.inputValue('#backend')).toBe('cpu');
    const state = await page.evaluate(() => window.webgradDemo);
    expect(state.webgpu).toBe(false);
    expect(await page.textContent('#walk-verdict')).toMatch(/No GPU runtime/);
    await page.close();
  }, 120_000);
});
