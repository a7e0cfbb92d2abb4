// The demo page in headless Chromium, driven as a user would: the Vite dev server, WebGPU through
// --enable-unsafe-webgpu (SwiftShader here); each tab trained briefly, its panels, the gradient check, saved and
// loaded weights; the walk-through, the speed card, a lost device, the CPU backend and a browser without WebGPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright';
import { readFile } from 'node:fs/promises';
import { decodeSafetensors } from '../../src/index.js';
import type { DemoState, TabState } from '../../demo/main.js';

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

/** Clicks a tab and waits until its panels are built (and its data loaded). */
async function selectTab(page: Page, id: 'spiral' | 'digits' | 'words'): Promise<void> {
  await page.click(`[data-tab=${id}]`);
  await page.waitForFunction((t) => window.webgradDemo.tabs[t].mounted, id, { timeout: 120_000 });
}

/** Clicks Train for `steps` steps on the selected tab and waits for the run to end; returns the tab's state. */
async function trainSteps(page: Page, steps: number): Promise<TabState> {
  const id = await page.evaluate(() => window.webgradDemo.tab);
  const runs = await page.evaluate((t) => window.webgradDemo.tabs[t].runs, id);
  await page.fill('#steps', String(steps));
  await page.click('#train');
  await page.waitForFunction(
    (a) => window.webgradDemo.tabs[a.id].runs > a.runs,
    { id, runs },
    {
      timeout: 180_000,
      polling: 250,
    },
  );
  return page.evaluate((t) => window.webgradDemo.tabs[t], id);
}

async function trainBriefly(page: Page, dataset: string, steps: number): Promise<TabState> {
  await page.click('#reset');
  await page.selectOption('select[name=dataset]', dataset);
  await page.fill('input[name=hidden]', '8');
  return trainSteps(page, steps);
}

/** Runs "Check gradients" on the selected tab and returns what it found. */
async function checkGradients(page: Page): Promise<TabState['gradientCheck']> {
  const id = await page.evaluate(() => window.webgradDemo.tab);
  const checks = await page.evaluate((t) => window.webgradDemo.tabs[t].checks, id);
  await page.click('#check');
  await page.waitForFunction(
    (a) => window.webgradDemo.tabs[a.id].checks > a.checks,
    { id, checks },
    {
      timeout: 120_000,
    },
  );
  return page.evaluate((t) => window.webgradDemo.tabs[t].gradientCheck, id);
}

async function download(page: Page): Promise<Uint8Array> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
  return new Uint8Array(await readFile((await file.path())!));
}

/** A stroke drawn with the mouse across the draw box (pointer events, as a finger would make). */
async function drawStroke(page: Page, points: [number, number][]): Promise<void> {
  const box = (await page.locator('[data-test=draw]').boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** Distinct colours on the regions canvas: a blank canvas has one. */
function canvasColours(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-test=regions]') as HTMLCanvasElement;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set<number>();
    for (let i = 0; i < pixels.length; i += 4 * 37)
      colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    return colours.size;
  });
}

const lossesOf = (tab: TabState) => tab.series.loss.map((p) => p.value);

describe('the demo page', () => {
  it('Spiral on WebGPU: the chart, the regions, the kernel times, the gradient check and the saved weights', async () => {
    const page = await open();
    const state = await page.evaluate(() => window.webgradDemo);
    expect(state.webgpu).toBe(true);
    expect(await page.textContent('#device')).toMatch(/WebGPU: .*features:/s);
    expect(state.walkthrough.gpuMatchesCpu).toBe(true);
    expect(state.walkthrough.kernel).toMatch(/^matmul_.*tn$/);
    expect(await page.textContent('#walk-verdict')).toMatch(/✓ ∂L\/∂Wᵀ = \(∂L\/∂Z\)ᵀ·X holds/);
    expect(await page.locator('#walk-trace li.hl').count()).toBe(1);
    expect(await page.locator('#walk-result .matrix table').count()).toBe(3);

    expect(await canvasColours(page)).toBe(1);
    const spiral = await trainBriefly(page, 'moons', 20);
    expect(spiral.error).toBeUndefined();
    expect(spiral.series.loss.map((p) => p.step)).toEqual([1, 10, 20]);
    expect(spiral.series.accuracy.every((p) => p.value >= 0 && p.value <= 1)).toBe(true);
    expect(lossesOf(spiral).at(-1)).toBeLessThan(lossesOf(spiral)[0]);
    expect(Number(await page.getAttribute('[data-panel=spiral]', 'data-regions-drawn'))).toBeGreaterThanOrEqual(2);
    expect(await canvasColours(page)).toBeGreaterThan(10);
    expect(await page.locator('#chart svg [aria-label=line] path').count()).toBe(1);
    expect(await page.textContent('[data-stat=step] b')).toBe('20');
    expect(Number(await page.textContent('[data-stat="steps/s"] b'))).toBeGreaterThan(0);
    expect(await page.locator('#kernels tbody tr').count()).toBeGreaterThan(0);

    const check = await checkGradients(page);
    expect(check?.ok).toBe(true);
    expect(check?.parameters.map((p) => p.name)).toEqual([
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
    ]);
    expect(await page.getAttribute('[data-test=gradient-check]', 'data-ok')).toBe('true');
    expect(await page.locator('#gradients tbody tr.ok').count()).toBe(4);

    // The trained weights download as safetensors, in PyTorch's Linear layout.
    const { tensors, metadata } = decodeSafetensors(await download(page));
    expect(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.shape]))).toEqual({
      'layers.0.weight': [8, 2],
      'layers.0.bias': [8],
      'layers.1.weight': [2, 8],
      'layers.1.bias': [2],
    });
    expect(metadata.format).toBe('pt');
    await page.close();
  }, 240_000);

  it('Digits on WebGPU: trains, classifies a drawn digit, checks its gradients, and reloads its saved predictions', async () => {
    const page = await open();
    await selectTab(page, 'digits');
    expect(await page.getAttribute('[data-panel=digits]', 'data-train-size')).toBe('8000');
    const first = await trainSteps(page, 12);
    expect(first.error).toBeUndefined();
    expect(lossesOf(first).at(-1)).toBeLessThan(lossesOf(first)[0]);
    expect(first.series['test accuracy'].at(-1)!.value).toBeGreaterThan(0.2);
    const panel = page.locator('[data-panel=digits]');
    expect(await panel.getAttribute('data-evaluated-on')).toBe('2000');
    const predictions = await page.getAttribute('[data-test=test-grid]', 'data-predictions');
    expect(predictions).toMatch(/^[0-9]{96}$/);
    const accuracy = await panel.getAttribute('data-test-accuracy');
    expect(await page.locator('[data-test=confusion] svg').count()).toBe(1);
    expect(await page.locator('[data-test=filters] svg').count()).toBe(1);

    // A "1": one vertical stroke, classified live with a bar per digit.
    await drawStroke(page, [
      [0.5, 0.15],
      [0.5, 0.5],
      [0.5, 0.85],
    ]);
    await page.waitForSelector('[data-test=prediction][data-digit]');
    expect(await page.locator('[data-test=prediction] svg [aria-label=bar] rect').count()).toBe(10);

    const check = await checkGradients(page);
    expect(check?.ok).toBe(true);
    expect(check?.parameters.map((p) => p.name)).toEqual([
      '0.weight',
      '0.bias',
      '3.weight',
      '3.bias',
      '7.weight',
      '7.bias',
    ]);

    // PyTorch's names and layouts, with the held-out digits to score them on.
    const bytes = await download(page);
    const { tensors } = decodeSafetensors(bytes);
    expect(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.shape]))).toEqual({
      '0.weight': [8, 1, 3, 3],
      '0.bias': [8],
      '3.weight': [16, 8, 3, 3],
      '3.bias': [16],
      '7.weight': [10, 784],
      '7.bias': [10],
      'test.images': [2000, 1, 28, 28],
      'test.labels': [2000],
    });
    await trainSteps(page, 10);
    await page.setInputFiles('#load', {
      name: 'digits.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(bytes),
    });
    await expect.poll(() => page.textContent('#notice'), { timeout: 60_000 }).toMatch(/Loaded digits.safetensors/);
    expect(await page.getAttribute('[data-test=test-grid]', 'data-predictions')).toBe(predictions);
    expect(await panel.getAttribute('data-test-accuracy')).toBe(accuracy);
    await page.close();
  }, 240_000);

  it('Words: trains, and samples, attention and tokens per second appear', async () => {
    const page = await open();
    await selectTab(page, 'words');
    const words = await trainSteps(page, 20);
    expect(words.error).toBeUndefined();
    expect(Object.keys(words.series).length).toBeGreaterThan(0);
    await page.waitForSelector('[data-test=samples] li', { timeout: 60_000 });
    expect(await page.locator('[data-test=attention]').count()).toBeGreaterThan(0);
    expect(await page.textContent('[data-test=tokens-per-second]')).toMatch(/\d/);
    await page.close();
  }, 240_000);

  it('pauses training while the page is hidden and resumes when it is shown', async () => {
    const page = await open();
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate((v) => {
        Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await page.fill('#steps', '400');
    await page.click('#train');
    await page.waitForFunction(() => (window.webgradDemo.tabs.spiral.series.loss?.length ?? 0) >= 3);
    await setVisibility('hidden');
    const lastStep = () => page.evaluate(() => window.webgradDemo.tabs.spiral.series.loss.at(-1)!.step);
    await page.waitForTimeout(500);
    const paused = await lastStep();
    await page.waitForTimeout(1500);
    expect(await lastStep()).toBe(paused);
    expect(paused).toBeLessThan(400);
    await setVisibility('visible');
    await page.waitForFunction(() => window.webgradDemo.tabs.spiral.runs === 1, null, { timeout: 120_000 });
    expect(await lastStep()).toBe(400);
    await page.close();
  }, 180_000);

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
    expect(await page.locator('#speed-chart svg [aria-label=bar] rect').count()).toBe(squares.length);
    await page.close();
  }, 240_000);

  it('recovers from a lost device with a fresh runtime and trains on', async () => {
    const page = await open();
    await page.evaluate(() => (window as unknown as { webgradDemoLoseDevice: () => void }).webgradDemoLoseDevice());
    await page.waitForFunction(() => window.webgradDemo.deviceLosses === 1, null, { timeout: 60_000 });
    expect(await page.textContent('#no-webgpu')).toMatch(/device was lost .*a fresh WebGPU runtime replaced it/);
    const spiral = await trainBriefly(page, 'moons', 10);
    expect((await page.evaluate(() => window.webgradDemo)).backend).toBe('webgpu');
    expect(spiral.error).toBeUndefined();
    expect(spiral.series.loss.at(-1)!.step).toBe(10);
    await page.close();
  }, 240_000);

  it('runs on the CPU backend when chosen', async () => {
    const page = await open();
    await page.selectOption('#backend', 'cpu');
    await expect.poll(() => page.textContent('#device')).toMatch(/CPU reference backend/);
    const circles = await trainBriefly(page, 'circles', 10);
    expect((await page.evaluate(() => window.webgradDemo)).backend).toBe('cpu');
    expect(circles.series.loss.map((p) => p.step)).toEqual([1, 10]);
    expect(await canvasColours(page)).toBeGreaterThan(10);
    // Iris (4 features: no plane) and the regression curve (no accuracy; the fitted curve instead of regions).
    const iris = await trainBriefly(page, 'iris', 40);
    expect(iris.error).toBeUndefined();
    expect(iris.series.accuracy.at(-1)!.value).toBeGreaterThan(0.5);
    expect(await page.textContent('[data-test=regions-caption]')).toMatch(/iris has 4 features/);
    const curve = await trainBriefly(page, 'regression', 10);
    expect(curve.error).toBeUndefined();
    expect(curve.series.accuracy).toBeUndefined();
    expect(await page.textContent('[data-test=regions-caption]')).toMatch(/fitted curve/);
    await page.close();
  }, 240_000);

  it('without WebGPU it says so plainly, and the digits train and classify on the CPU', async () => {
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
    await selectTab(page, 'digits');
    const digits = await trainSteps(page, 2);
    expect(digits.error).toBeUndefined();
    expect(digits.series.loss.length).toBe(2);
    await drawStroke(page, [
      [0.3, 0.2],
      [0.7, 0.2],
      [0.4, 0.8],
    ]);
    await page.waitForSelector('[data-test=prediction][data-digit]');
    await page.close();
  }, 180_000);
});
