// The page shell: the backend and its fallback, device-loss recovery, the three model tabs (demo/tabs/*) with the
// controls, loss chart, stats row, profiler and gradient check they share, and the walk-through and speed cards.
import { createRuntime, type GradientCheck, type Runtime } from '../src/index.js';
import { drawTrainingChart, type SeriesPoint } from './chart.js';
import { speed, walkthrough, type SpeedState, type WalkthroughState } from './cards.js';
import { renderGradientCheck, renderKernels, renderStats } from './panels.js';
import type { DemoTab, TabEnv, TabReport } from './tabs/contract.js';
import { createSpiralTab } from './tabs/spiral.js';
import { createDigitsTab } from './tabs/digits.js';
import { createWordsTab } from './tabs/words.js';

type TabId = DemoTab['id'];

/** One tab as the page shows it; `npm start -- --headless` and the page test read it. */
export interface TabState {
  mounted: boolean;
  running: boolean;
  /** Train runs finished (or stopped) on this tab since the page opened. */
  runs: number;
  /** Gradient checks finished (passed, failed or thrown) on this tab. */
  checks: number;
  series: Record<string, SeriesPoint[]>;
  baselines: Record<string, number>;
  stats: Record<string, string>;
  /** Seconds spent in `train` on this tab. */
  seconds: number;
  error?: string;
  gradientCheck?: GradientCheck;
  report?: TabReport;
}

/** What the page has done so far. */
export interface DemoState {
  ready: boolean;
  backend: 'webgpu' | 'cpu';
  webgpu: boolean;
  adapter: string;
  tab: TabId;
  tabs: Record<TabId, TabState>;
  walkthrough: WalkthroughState;
  speed: SpeedState;
  /** Devices lost and replaced by a fresh runtime. */
  deviceLosses: number;
}

const tabs: DemoTab[] = [createSpiralTab(), createDigitsTab(), createWordsTab()];
const tabOf = (id: TabId) => tabs.find((t) => t.id === id)!;
const freshTabState = (): TabState => ({
  mounted: false,
  running: false,
  runs: 0,
  checks: 0,
  series: {},
  baselines: {},
  stats: {},
  seconds: 0,
});

const state: DemoState = {
  ready: false,
  backend: 'webgpu',
  webgpu: false,
  adapter: '',
  tab: 'spiral',
  tabs: { spiral: freshTabState(), digits: freshTabState(), words: freshTabState() },
  walkthrough: { done: false, gpuMatchesCpu: false, maxGpuCpu: NaN, maxCpuFd: NaN, kernel: '' },
  speed: { done: false, rows: [] },
  deviceLosses: 0,
};
const page = window as unknown as {
  webgradDemo: DemoState;
  webgradDemoLoseDevice: () => void;
  webgradDemoReport: (id: TabId) => Promise<TabReport>;
};
page.webgradDemo = state;

const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;
const backendSelect = $<HTMLSelectElement>('#backend');
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

let rt: Runtime;
let gpuRt: Runtime | null = null;
const cpuRt = await createRuntime({ backend: 'cpu' });
let abort = new AbortController();
/** Steps the Train button asks for, per tab (each starts at its own default). */
const stepsWanted = Object.fromEntries(tabs.map((t) => [t.id, t.defaultSteps])) as Record<TabId, number>;

// One thing at a time on a runtime: a dispatch trace or a tidy must not see another action's tensors.
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(action: () => Promise<T>): Promise<T> {
  const run = queue.then(action);
  queue = run.catch((e: unknown) => console.error(e));
  return run;
}

function showNotice(text: string | null): void {
  $('#notice').hidden = text === null;
  $('#notice').textContent = text ?? '';
}

function showProgress(label: string, fraction: number | null): void {
  $('#progress').hidden = fraction === null;
  $('#progress-label').textContent = label;
  $<HTMLProgressElement>('#progress-bar').value = fraction ?? 0;
}

// ---- The shared panels, drawn for the selected tab.

let chartPending = false;
function redrawChart(): void {
  if (chartPending) return;
  chartPending = true;
  requestAnimationFrame(() => {
    chartPending = false;
    const s = state.tabs[state.tab];
    const lastStep = Math.max(0, ...Object.values(s.series).flatMap((p) => p.map((q) => q.step)));
    drawTrainingChart($('#chart'), $('#accuracy-chart'), s.series, s.baselines, Math.max(lastStep, 10));
  });
}

function redrawStats(): void {
  renderStats(state.tabs[state.tab].stats);
}

function showTab(id: TabId): void {
  state.tab = id;
  document
    .querySelectorAll<HTMLButtonElement>('[data-tab]')
    .forEach((button) => button.setAttribute('aria-selected', String(button.dataset.tab === id)));
  document
    .querySelectorAll<HTMLElement>('[data-panel]')
    .forEach((panel) => (panel.hidden = panel.dataset.panel !== id));
  $<HTMLInputElement>('#steps').value = String(stepsWanted[id]);
  redrawChart();
  redrawStats();
  renderGradientCheck(state.tabs[id].gradientCheck);
}

// ---- The environment each tab gets.

function waitVisible(id: TabId): Promise<void> {
  if (document.visibilityState === 'visible' && state.tab === id) return Promise.resolve();
  // Training pauses while the page is hidden (another browser tab, a minimised window) and resumes when shown.
  return new Promise((resolve) => {
    const check = () => {
      if (document.visibilityState !== 'visible' || state.tab !== id) return;
      document.removeEventListener('visibilitychange', check);
      clearInterval(timer);
      resolve();
    };
    const timer = setInterval(check, 250);
    document.addEventListener('visibilitychange', check);
  });
}

function envFor(id: TabId): TabEnv {
  const s = () => state.tabs[id];
  return {
    runtime: () => rt,
    cpu: cpuRt,
    progress: showProgress,
    notice: showNotice,
    plot(series, step, value) {
      (s().series[series] ??= []).push({ step, value });
      if (state.tab === id) redrawChart();
    },
    baseline(label, value) {
      if (value === null) delete s().baselines[label];
      else s().baselines[label] = value;
      if (state.tab === id) redrawChart();
    },
    stats(values) {
      Object.assign(s().stats, values);
      if (state.tab === id) redrawStats();
    },
    whenVisible: () => waitVisible(id),
    exclusive,
  };
}

async function ensureMounted(id: TabId): Promise<void> {
  const s = state.tabs[id];
  if (s.mounted) return;
  const panel = $(`[data-panel=${id}]`);
  try {
    await tabOf(id).mount(panel, envFor(id));
    s.mounted = true;
  } catch (e) {
    s.error = errorText(e);
    showNotice(`The ${tabOf(id).title} tab could not start: ${s.error}`);
    throw e;
  }
}

/** Forgets a tab's model (Reset, a backend switch, a lost device): the next Train starts from step 0. */
function resetTab(id: TabId): void {
  tabOf(id).dispose();
  const s = state.tabs[id];
  Object.assign(s, { series: {}, baselines: {}, stats: {}, gradientCheck: undefined, report: undefined });
  if (state.tab === id) showTab(id);
}

// ---- The actions of the shared controls.

/** Trains the selected tab; the second step of a run runs under the profiler. */
/** Per-kernel times of one training step from `rt.profile` (GPU timestamps where the adapter has them). */
async function profileOneStep(tab: DemoTab, signal: AbortSignal): Promise<void> {
  renderKernels(tab.title, await rt.profile(() => tab.train(1, signal)));
}

async function train(): Promise<void> {
  const id = state.tab;
  const tab = tabOf(id);
  const s = state.tabs[id];
  const steps = Math.max(1, Math.floor(Number($<HTMLInputElement>('#steps').value)) || tab.defaultSteps);
  stepsWanted[id] = steps;
  abort = new AbortController();
  const { signal } = abort;
  Object.assign(s, { running: true, error: undefined });
  setBusy(true);
  const started = performance.now();
  try {
    await ensureMounted(id);
    // Step 2 runs under the profiler: step 1 compiled the pipelines and recorded the step, 2 replays it.
    if (steps < 3) await tab.train(steps, signal);
    else {
      await tab.train(1, signal);
      if (!signal.aborted) await profileOneStep(tab, signal);
      if (!signal.aborted) await tab.train(steps - 2, signal);
    }
  } catch (e) {
    s.error = errorText(e);
    showNotice(`Training the ${tab.title} tab failed: ${s.error}`);
    console.error(e);
  } finally {
    s.seconds += (performance.now() - started) / 1000;
    s.running = false;
    s.runs++;
    setBusy(false);
  }
}

function setBusy(busy: boolean): void {
  for (const selector of ['#train', '#reset', '#check', '#save']) $<HTMLButtonElement>(selector).disabled = busy;
  $<HTMLButtonElement>('#stop').disabled = !busy;
}

async function checkGradients(): Promise<void> {
  const id = state.tab;
  const s = state.tabs[id];
  renderGradientCheck(undefined);
  $('#gradient-source').textContent = 'running one step here and on the CPU reference…';
  try {
    await ensureMounted(id);
    s.gradientCheck = await tabOf(id).checkGradients();
    const worst = s.gradientCheck.parameters.reduce((a, b) => (b.maxDiff / b.bound > a.maxDiff / a.bound ? b : a));
    console.log(
      `[webgrad-demo] ${id} gradient check: ${s.gradientCheck.ok ? 'within' : 'OUTSIDE'} the bound, K ${s.gradientCheck.reduction}, ` +
        `worst ${worst.name} rel. diff ${worst.relativeDiff.toExponential(2)} (bound ${(worst.bound / Math.max(worst.maxRef, 1e-30)).toExponential(2)})`,
    );
    if (state.tab === id) renderGradientCheck(s.gradientCheck);
  } catch (e) {
    s.gradientCheck = undefined;
    if (state.tab === id) renderGradientCheck(undefined, errorText(e));
  } finally {
    s.checks++;
  }
}

async function saveWeights(): Promise<void> {
  const tab = tabOf(state.tab);
  try {
    await ensureMounted(tab.id);
    const bytes = await tab.save();
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    link.download = `webgrad-${tab.id}.safetensors`;
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (e) {
    showNotice(`Saving failed: ${errorText(e)}`);
  }
}

async function loadWeights(file: File): Promise<void> {
  const tab = tabOf(state.tab);
  try {
    await ensureMounted(tab.id);
    await tab.load(new Uint8Array(await file.arrayBuffer()));
    showNotice(`Loaded ${file.name} into the ${tab.title} tab.`);
  } catch (e) {
    showNotice(`Loading ${file.name} failed: ${errorText(e)}`);
  }
}

// ---- Backends: WebGPU when there is one, the CPU reference otherwise; a lost device is replaced.

/** Opens WebGPU when the browser has it; otherwise says so and falls back to the CPU reference. */
async function openGpu(): Promise<Runtime | null> {
  const warning = $('#no-webgpu');
  if (!('gpu' in navigator)) {
    warning.hidden = false;
    warning.textContent =
      'This browser has no WebGPU (navigator.gpu is missing), so nothing here runs on a GPU. The CPU backend below runs the same ' +
      'code on the float64 reference, slowly. For WebGPU use a recent Chrome or Edge, or Chromium with --enable-unsafe-webgpu.';
    return null;
  }
  try {
    const runtime = await createRuntime({ backend: 'webgpu' });
    recoverOnLoss(runtime);
    return runtime;
  } catch (e) {
    warning.hidden = false;
    warning.textContent = `WebGPU could not start: ${errorText(e)}. The CPU backend is offered instead.`;
    return null;
  }
}

/**
 * A lost device (a driver reset, the GPU process crashing, `device.destroy()`) makes every call on its runtime
 * fail; the page stops training and carries on with a fresh runtime.
 */
function recoverOnLoss(runtime: Runtime): void {
  void runtime.lost.then((info) => {
    if (gpuRt !== runtime) return;
    abort.abort();
    const warning = $('#no-webgpu');
    warning.hidden = false;
    warning.textContent = `The GPU device was lost (${info.message || info.reason}); starting a fresh WebGPU runtime…`;
    void exclusive(async () => {
      gpuRt = await openGpu();
      state.deviceLosses++;
      if (gpuRt)
        warning.textContent = `The GPU device was lost (${info.message || info.reason}); a fresh WebGPU runtime replaced it.`;
      if (state.backend === 'webgpu') await selectBackend(gpuRt ? 'webgpu' : 'cpu');
    });
  });
}

page.webgradDemoLoseDevice = () => gpuRt?.destroy();

function showDevice(): void {
  const { adapter, features } = rt.info;
  const name = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' · ');
  state.adapter = name;
  $('#device').innerHTML = '';
  const b = document.createElement('b');
  b.textContent =
    rt.info.backend === 'webgpu' ? `WebGPU: ${name || 'unnamed adapter'}` : 'CPU reference backend (float64)';
  $('#device').append(b, document.createElement('br'), `features: ${features.length ? features.join(', ') : 'none'}`);
}

async function selectBackend(kind: 'webgpu' | 'cpu'): Promise<void> {
  if (kind === 'webgpu' && !gpuRt) kind = 'cpu';
  // Every model lives on one runtime: a switch starts each tab afresh.
  if (rt) for (const t of tabs) resetTab(t.id);
  rt = kind === 'webgpu' ? gpuRt! : cpuRt;
  state.backend = kind;
  backendSelect.value = kind;
  showDevice();
}

// ---- Wiring.

$('#train-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void exclusive(train);
});
$('#stop').addEventListener('click', () => abort.abort());
$('#reset').addEventListener('click', () => void exclusive(async () => resetTab(state.tab)));
$('#check').addEventListener('click', () => void exclusive(checkGradients));
$('#save').addEventListener('click', () => void exclusive(saveWeights));
$<HTMLInputElement>('#load').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (file) void exclusive(() => loadWeights(file));
});
document.querySelectorAll<HTMLButtonElement>('[data-tab]').forEach((button) =>
  button.addEventListener('click', () => {
    const id = button.dataset.tab as TabId;
    if (id === state.tab) return;
    abort.abort(); // the model stays: Train goes on from where it stopped
    showTab(id);
    void exclusive(() => ensureMounted(id));
  }),
);
const runWalkthroughCard = () => walkthrough(state.walkthrough, gpuRt, cpuRt);
$('#walk-run').addEventListener('click', () => void exclusive(runWalkthroughCard));
$('#speed-run').addEventListener('click', () => void exclusive(() => speed(state.speed, rt, state.adapter)));
backendSelect.addEventListener(
  'change',
  () => void exclusive(() => selectBackend(backendSelect.value as 'webgpu' | 'cpu')),
);

/** For the headless run: the figures of a tab, measured now, after what it has been trained. */
page.webgradDemoReport = (id) =>
  exclusive(async () => {
    await ensureMounted(id);
    const report = await tabOf(id).report(state.tabs[id].seconds);
    state.tabs[id].report = report;
    return report;
  });

gpuRt = await openGpu();
state.webgpu = gpuRt !== null;
if (!gpuRt) (backendSelect.querySelector('option[value="webgpu"]') as HTMLOptionElement).disabled = true;
await selectBackend(gpuRt ? 'webgpu' : 'cpu');
showTab('spiral');
void exclusive(() => ensureMounted('spiral'));
void exclusive(runWalkthroughCard);
void exclusive(async () => void (state.ready = true));
