import { createRuntime, type Runtime } from '../src/index.js';
import { drawBars, drawTrainingChart, type Point } from './chart.js';
import { boundsOf, drawRegions } from './regions.js';
import { loadDataset, Training, type TrainConfig } from './training.js';
import { renderWalkthrough, runWalkthrough } from './walkthrough.js';
import { loadTfjs, runSpeed, type SpeedRow } from './speed.js';

/** What the page has done so far; `npm start -- --headless` and the page test read it. */
export interface DemoState {
  ready: boolean;
  backend: 'webgpu' | 'cpu';
  webgpu: boolean;
  adapter: string;
  training: { running: boolean; done: boolean; steps: number; points: Point[]; stepsPerSecond: number; error?: string };
  regionsDrawn: number;
  walkthrough: {
    done: boolean;
    gpuMatchesCpu: boolean;
    maxGpuCpu: number;
    maxCpuFd: number;
    kernel: string;
    error?: string;
  };
  speed: { done: boolean; rows: SpeedRow[]; error?: string };
  /** Devices lost and replaced by a fresh runtime. */
  deviceLosses: number;
}

const state: DemoState = {
  ready: false,
  backend: 'webgpu',
  webgpu: false,
  adapter: '',
  training: { running: false, done: false, steps: 0, points: [], stepsPerSecond: 0 },
  regionsDrawn: 0,
  walkthrough: { done: false, gpuMatchesCpu: false, maxGpuCpu: NaN, maxCpuFd: NaN, kernel: '' },
  speed: { done: false, rows: [] },
  deviceLosses: 0,
};
(window as unknown as { webgradDemo: DemoState }).webgradDemo = state;

const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#train-form');
const backendSelect = $<HTMLSelectElement>('#backend');

let rt: Runtime;
let gpuRt: Runtime | null = null;
const cpuRt = await createRuntime({ backend: 'cpu' });
let stopRequested = false;
let lastTraining: Training | null = null;

/** The trained model's weights as a .safetensors download (PyTorch's Linear layout: weight [out, in]). */
async function saveWeights(): Promise<void> {
  if (!lastTraining) return;
  const { model, config } = lastTraining;
  const bytes = await lastTraining.rt.saveSafetensors(model.namedParams(), {
    format: 'pt',
    producer: 'webgrad demo',
    model: `mlp ${JSON.stringify([lastTraining.data.features, ...config.hidden])} ${config.activation}`,
  });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  link.download = `webgrad-${config.dataset}.safetensors`;
  link.click();
  URL.revokeObjectURL(link.href);
}

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
    warning.textContent = `WebGPU could not start: ${e instanceof Error ? e.message : String(e)}. The CPU backend is offered instead.`;
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
    stopRequested = true;
    const warning = $('#no-webgpu');
    warning.hidden = false;
    warning.textContent = `The GPU device was lost (${info.message || info.reason}); starting a fresh WebGPU runtime…`;
    exclusive(async () => {
      gpuRt = await openGpu();
      state.deviceLosses++;
      if (gpuRt)
        warning.textContent = `The GPU device was lost (${info.message || info.reason}); a fresh WebGPU runtime replaced it.`;
      if (state.backend === 'webgpu') await selectBackend(gpuRt ? 'webgpu' : 'cpu');
    });
  });
}

/** For the page test: loses the device as a driver reset would. */
(window as unknown as { webgradDemoLoseDevice: () => void }).webgradDemoLoseDevice = () => gpuRt?.destroy();

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
  if (kind === 'webgpu' && !gpuRt) {
    backendSelect.value = 'cpu';
    kind = 'cpu';
  }
  // A training on a lost device cannot free anything: its memory went with the device.
  if (lastTraining && !(lastTraining.rt.info.backend === 'webgpu' && lastTraining.rt !== gpuRt)) lastTraining.dispose();
  lastTraining = null;
  $<HTMLButtonElement>('#save').disabled = true;
  rt = kind === 'webgpu' ? gpuRt! : cpuRt;
  state.backend = kind;
  backendSelect.value = kind;
  showDevice();
}

function readConfig(): TrainConfig {
  const f = new FormData(form);
  const text = (k: string) => String(f.get(k) ?? '');
  const hidden = text('hidden')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (hidden.some((h) => !Number.isInteger(h) || h < 1))
    throw new Error(`hidden sizes must be positive integers, got "${text('hidden')}"`);
  const batchText = text('batch').trim();
  return {
    dataset: text('dataset') as TrainConfig['dataset'],
    hidden,
    activation: text('activation') as TrainConfig['activation'],
    optimizer: text('optimizer') as TrainConfig['optimizer'],
    lr: Number(text('lr')),
    batch: batchText === 'full' || batchText === '' ? Infinity : Number(batchText),
    steps: Math.max(1, Math.floor(Number(text('steps')))),
  };
}

const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Per-kernel times of one training step from `rt.profile` (GPU timestamps where the adapter has them). */
async function timeOneStep(training: Training): Promise<void> {
  const table = $<HTMLTableElement>('#kernels');
  const result = await rt.profile(() => training.step());
  const byKernel = new Map<string, { name: string; shape: string; ms: number; count: number }>();
  for (const k of result.kernels) {
    const key = `${k.name}  ${k.shape}`;
    const entry = byKernel.get(key) ?? { name: k.name, shape: k.shape, ms: 0, count: 0 };
    entry.ms += k.ms;
    entry.count++;
    byKernel.set(key, entry);
  }
  const rows: [string, string, number][] = [...byKernel.values()].map((v) => [
    v.name,
    `${v.shape}${v.count > 1 ? ` ×${v.count}` : ''}`,
    v.ms,
  ]);
  const source = `(per kernel, rt.profile: ${result.timing === 'timestamp-query' ? 'GPU timestamps' : result.timing})`;
  rows.sort((a, b) => b[2] - a[2]);
  $('#kernel-source').textContent = source;
  // ms before the shapes, so that a narrow window still shows the times.
  table.innerHTML = '<thead><tr><th>kernel</th><th>ms</th><th>shapes</th></tr></thead>';
  const body = table.createTBody();
  for (const [name, shape, ms] of rows.slice(0, 12)) {
    const tr = body.insertRow();
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = ms.toFixed(3);
    tr.insertCell().textContent = shape;
  }
}

async function train(): Promise<void> {
  const t = state.training;
  if (t.running) return;
  const config = readConfig();
  const data = await loadDataset(config.dataset);
  lastTraining?.dispose();
  lastTraining = null;
  const training = new Training(rt, data, config);
  const bounds = boundsOf(data);
  const canvas = $<HTMLCanvasElement>('#regions');
  const chart = $<SVGSVGElement>('#chart');
  Object.assign(t, {
    running: true,
    done: false,
    steps: config.steps,
    points: [],
    stepsPerSecond: 0,
    error: undefined,
  });
  stopRequested = false;
  $<HTMLButtonElement>('#train').disabled = true;
  $<HTMLButtonElement>('#stop').disabled = false;
  $('#regions-caption').textContent =
    data.features === 2
      ? 'decision regions, redrawn while training'
      : data.features === 1
        ? 'the fitted curve, redrawn while training'
        : `${data.name} has ${data.features} features: no plane to draw`;
  const logEvery = 10;
  const drawEvery = 50;
  const started = performance.now();
  try {
    for (let step = 1; step <= config.steps && !stopRequested; step++) {
      await training.step();
      if (step % logEvery === 0 || step === 1 || step === config.steps) {
        const { loss, accuracy } = await training.measure();
        t.stepsPerSecond = step / ((performance.now() - started) / 1000);
        t.points.push({ step, loss, accuracy });
        $('#stat-step').textContent = String(step);
        $('#stat-loss').textContent = loss.toFixed(4);
        $('#stat-acc').textContent = accuracy === undefined ? '–' : `${(100 * accuracy).toFixed(1)}%`;
        $('#stat-rate').textContent = t.stepsPerSecond.toFixed(1);
        drawTrainingChart(chart, t.points, config.steps);
        console.log(
          `[webgrad-demo] step ${step} loss ${loss.toFixed(4)}${accuracy === undefined ? '' : ` accuracy ${accuracy.toFixed(3)}`}`,
        );
      }
      if (data.features <= 2 && (step % drawEvery === 0 || step === 1 || step === config.steps)) {
        await drawRegions(canvas, rt, training.model, data, bounds);
        state.regionsDrawn++;
      }
      if (step === 5) await timeOneStep(training);
      if (step % logEvery !== 0) await nextFrame();
    }
  } catch (e) {
    t.error = e instanceof Error ? e.message : String(e);
    console.error(e);
  } finally {
    // The model stays for "Save weights" until the next run.
    training.release();
    lastTraining = training;
    $<HTMLButtonElement>('#save').disabled = false;
    t.running = false;
    t.done = true;
    $<HTMLButtonElement>('#train').disabled = false;
    $<HTMLButtonElement>('#stop').disabled = true;
  }
}

let walkSeed = 1;
async function walkthrough(): Promise<void> {
  const w = state.walkthrough;
  w.done = false;
  try {
    const result = await runWalkthrough(gpuRt, cpuRt, walkSeed++);
    renderWalkthrough(result, { result: $('#walk-result'), verdict: $('#walk-verdict'), trace: $('#walk-trace') });
    Object.assign(w, {
      gpuMatchesCpu: result.gpuMatchesCpu,
      maxGpuCpu: result.maxGpuCpu,
      maxCpuFd: result.maxCpuFd,
      kernel: result.transposedKernel?.kernel ?? '',
      error: undefined,
    });
    console.log(
      `[webgrad-demo] walk-through: GPU ${result.transposedKernel?.kernel ?? '(none)'} vs CPU max diff ${result.maxGpuCpu.toExponential(2)}, ` +
        `CPU vs finite differences ${result.maxCpuFd.toExponential(2)}: ${result.gpuMatchesCpu ? 'match' : 'MISMATCH'}`,
    );
  } catch (e) {
    w.error = e instanceof Error ? e.message : String(e);
    $('#walk-verdict').textContent = `The walk-through failed: ${w.error}`;
  }
  w.done = true;
}

async function speed(): Promise<void> {
  const s = state.speed;
  s.done = false;
  s.rows = [];
  const button = $<HTMLButtonElement>('#speed-run');
  button.disabled = true;
  try {
    const wantTf = $<HTMLInputElement>('#speed-tfjs').checked && rt.info.backend === 'webgpu';
    const tf = wantTf ? await loadTfjs() : null;
    const chart = $<SVGSVGElement>('#speed-chart');
    const table = $<HTMLTableElement>('#speed-table');
    table.innerHTML = '<thead><tr><th>kernel</th><th>shape</th><th>op</th><th>ms</th><th>GFLOP/s</th></tr></thead>';
    const body = table.createTBody();
    const source = await runSpeed(
      rt,
      tf,
      (row) => {
        s.rows.push(row);
        const tr = body.insertRow();
        const name = row.library === 'TF.js' ? 'TF.js' : row.kernel;
        for (const v of [name, row.shape, row.transpose, row.ms.toFixed(2), row.gflops.toFixed(2)])
          tr.insertCell().textContent = v;
        // The chart shows the square products; the table has every case.
        const squares = s.rows.filter((r) => /^\d+³$/.test(r.shape));
        drawBars(
          chart,
          squares.map((r) => ({
            group: r.shape,
            series: r.library === 'webgrad' ? r.transpose : `TF.js ${r.transpose}`,
            value: r.gflops,
          })),
          'GFLOP/s',
        );
      },
      (line) => ($('#speed-source').textContent = `running: ${line.trim().replace(/\s+/g, ' ')}`),
    );
    $('#speed-source').textContent =
      `Timed in this page on ${rt.info.backend === 'webgpu' ? state.adapter : 'the CPU reference'}, by ${source}${wantTf ? (tf ? '; TF.js WebGPU beside it' : '; TF.js could not start') : ''}.`;
  } catch (e) {
    s.error = e instanceof Error ? e.message : String(e);
  }
  button.disabled = false;
  s.done = true;
}

// One thing at a time on a runtime: a dispatch trace or a tidy must not see another action's tensors.
let queue: Promise<unknown> = Promise.resolve();
function exclusive(action: () => Promise<void>): void {
  queue = queue.then(action).catch((e: unknown) => console.error(e));
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  exclusive(train);
});
$('#stop').addEventListener('click', () => (stopRequested = true));
$('#save').addEventListener('click', () => exclusive(saveWeights));
$('#walk-run').addEventListener('click', () => exclusive(walkthrough));
$('#speed-run').addEventListener('click', () => exclusive(speed));
backendSelect.addEventListener('change', () => exclusive(() => selectBackend(backendSelect.value as 'webgpu' | 'cpu')));

gpuRt = await openGpu();
state.webgpu = gpuRt !== null;
if (!gpuRt) (backendSelect.querySelector('option[value="webgpu"]') as HTMLOptionElement).disabled = true;
await selectBackend(gpuRt ? 'webgpu' : 'cpu');
drawTrainingChart($<SVGSVGElement>('#chart'), [], 150);
exclusive(walkthrough);
exclusive(async () => void (state.ready = true));
