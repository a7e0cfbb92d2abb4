// The Spiral tab: a small MLP on a 2-D data set (spiral, moons, circles), iris or a regression curve, with the
// decision regions (or the fitted curve) redrawn while it trains. The model and its optimizer live across Train
// clicks; changing a setting starts afresh on the next one.
import { checkGradients, type GradientCheck, type Runtime, type Tensor } from '../../src/index.js';
import { boundsOf, drawRegions, type Bounds } from '../regions.js';
import { loadDataset, Training, type TrainConfig } from '../training.js';
import type { DemoTab, TabEnv, TabReport } from './contract.js';

const REQUIRED_ACCURACY = 0.95;
const LOG_EVERY = 10;
const DRAW_EVERY = 50;

const FORM = `
  <form class="controls" data-test="spiral-settings">
    <label>Data set
      <select name="dataset">
        <option value="spiral">spiral (3 classes)</option>
        <option value="moons">two moons</option>
        <option value="circles">circles</option>
        <option value="iris">iris (4 features)</option>
        <option value="regression">regression curve</option>
      </select>
    </label>
    <label>Hidden sizes <input name="hidden" value="16,16" size="8" /></label>
    <label>Activation <select name="activation"><option>tanh</option><option>relu</option></select></label>
    <label>Optimizer
      <select name="optimizer">
        <option value="adam">adam</option>
        <option value="adamw">adamw (wd 0.01)</option>
        <option value="sgd">sgd + momentum 0.9</option>
      </select>
    </label>
    <label>Learning rate <input name="lr" value="0.03" size="6" /></label>
    <label>Batch <input name="batch" value="full" size="5" /></label>
  </form>
  <figure>
    <canvas data-test="regions" width="300" height="300"></canvas>
    <figcaption data-test="regions-caption">decision regions, redrawn while training</figcaption>
  </figure>`;

function readConfig(form: HTMLFormElement): Omit<TrainConfig, 'steps'> {
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
  };
}

export function createSpiralTab(): DemoTab {
  let env: TabEnv;
  let root: HTMLElement;
  let training: Training | null = null;
  let bounds: Bounds | null = null;
  let regionsDrawn = 0;
  let accuracy: number | undefined;

  const form = () => root.querySelector('form')!;
  const canvas = () => root.querySelector<HTMLCanvasElement>('[data-test=regions]')!;

  async function ensureTraining(): Promise<Training> {
    const rt = env.runtime();
    if (training && training.rt === rt) return training;
    dispose();
    const config = { ...readConfig(form()), steps: 0 };
    const data = await loadDataset(config.dataset);
    training = new Training(rt, data, config);
    bounds = boundsOf(data);
    root.querySelector('[data-test=regions-caption]')!.textContent =
      data.features === 2
        ? 'decision regions, redrawn while training'
        : data.features === 1
          ? 'the fitted curve, redrawn while training'
          : `${data.name} has ${data.features} features: no plane to draw`;
    return training;
  }

  async function redraw(t: Training): Promise<void> {
    if (t.data.features > 2) return;
    await drawRegions(canvas(), t.rt, t.model, t.data, bounds!);
    root.dataset.regionsDrawn = String(++regionsDrawn);
  }

  function dispose(): void {
    const t = training;
    training = null;
    accuracy = undefined;
    try {
      t?.dispose();
    } catch {
      // A lost device took the memory with it: there is nothing left to free.
    }
  }

  return {
    id: 'spiral',
    title: 'Spiral',
    defaultSteps: 150,

    async mount(el, tabEnv) {
      root = el;
      env = tabEnv;
      root.innerHTML = FORM;
      // A new setting means a new model: the next Train starts from step 0.
      form().addEventListener('change', () => dispose());
    },

    async train(steps, signal) {
      const t = await ensureTraining();
      const first = t.steps + 1;
      const last = t.steps + steps;
      const started = performance.now();
      for (let step = first; step <= last && !signal.aborted; step++) {
        await env.whenVisible();
        await t.step();
        if (step === 1 || step % LOG_EVERY === 0 || (step === last && steps > 1)) {
          const measured = await t.measure();
          accuracy = measured.accuracy;
          const rate = (step - first + 1) / ((performance.now() - started) / 1000);
          env.plot('loss', step, measured.loss);
          if (measured.accuracy !== undefined) env.plot('accuracy', step, measured.accuracy);
          env.stats({
            step: String(step),
            loss: measured.loss.toFixed(4),
            accuracy: measured.accuracy === undefined ? '–' : `${(100 * measured.accuracy).toFixed(1)}%`,
            'steps/s': rate.toFixed(1),
          });
          console.log(
            `[webgrad-demo] spiral step ${step} loss ${measured.loss.toFixed(4)}` +
              (measured.accuracy === undefined ? '' : ` accuracy ${measured.accuracy.toFixed(3)}`),
          );
        }
        if (step === 1 || step % DRAW_EVERY === 0 || (step === last && steps > 1)) await redraw(t);
      }
    },

    async checkGradients(): Promise<GradientCheck> {
      const t = await ensureTraining();
      const { data } = t;
      const outputs = data.classes > 0 ? data.classes : 1;
      const sizes = [data.features, ...t.config.hidden, outputs];
      const lossOf = (rt: Runtime, forward: (x: Tensor) => Tensor) => {
        const x = rt.tensor(data.x, [data.size, data.features]);
        if (data.classes === 0) return rt.mseLoss(forward(x), rt.tensor(data.y, [data.size, 1]));
        return rt.softmaxCrossEntropy(forward(x), Int32Array.from(data.y));
      };
      const copies: { dispose(): void }[] = [];
      try {
        return await checkGradients(
          (rt, params) => {
            if (rt === t.rt) return { loss: lossOf(rt, (x) => t.model.forward(x)), params: t.model.namedParams() };
            const copy = rt.nn.mlp(sizes, t.config.activation);
            copies.push(copy);
            rt.nn.loadStateDict(copy, params);
            return { loss: lossOf(rt, (x) => copy.forward(x)), params: copy.namedParams() };
          },
          t.model.namedParams(),
          { reference: env.cpu },
        );
      } finally {
        copies.forEach((c) => c.dispose());
      }
    },

    async report(seconds): Promise<TabReport> {
      const t = await ensureTraining();
      accuracy = (await t.measure()).accuracy;
      const passed = (accuracy ?? 0) >= REQUIRED_ACCURACY;
      return { figures: { accuracy: accuracy ?? NaN }, passed, target: `accuracy ≥ ${REQUIRED_ACCURACY}`, seconds };
    },

    async save() {
      const t = await ensureTraining();
      return t.rt.saveSafetensors(t.model.namedParams(), {
        format: 'pt',
        producer: 'webgrad demo',
        model: `mlp ${JSON.stringify([t.data.features, ...t.config.hidden])} ${t.config.activation}`,
      });
    },

    async load(bytes) {
      const t = await ensureTraining();
      const tensors = t.rt.loadSafetensors(bytes);
      try {
        t.rt.nn.loadStateDict(t.model, tensors);
      } finally {
        Object.values(tensors).forEach((x) => x.dispose());
      }
      const measured = await t.measure();
      accuracy = measured.accuracy;
      env.stats({ accuracy: accuracy === undefined ? '–' : `${(100 * accuracy).toFixed(1)}%` });
      await redraw(t);
    },

    dispose,
  };
}
