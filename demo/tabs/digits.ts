// The Digits tab: the ConvNet of issue 10 (1×28×28 → conv3×3·8 pad 1 → relu → maxPool 2 → conv3×3·16 pad 1 → relu
// → maxPool 2 → linear 10) trained with Adam on batches of 32 of the `mnist` package's digits. Its modules are
// numbered as PyTorch's nn.Sequential numbers them, so the saved file loads into the README's snippet as is.
import {
  checkGradients,
  decodeSafetensors,
  encodeSafetensors,
  type Digits,
  type GradientCheck,
  type Optimizer,
  type Runtime,
  type Sequential,
  type CompiledStep,
  type Tensor,
} from '../../src/index.js';
import { drawConfusion, drawHeatmaps, drawProbabilities } from '../chart.js';
import type { DemoTab, TabEnv, TabReport } from './contract.js';
import { loadDigits, normalize, range, slice, trainingBatches } from './digits-data.js';
import { createDrawPad, drawDigitGrid, drawingToDigit } from './digits-panels.js';
import { argmaxRows, CLASSES, digitsConvNet, oneHot } from './digits-model.js';

const BATCH = 32;
/** Adam's learning rate by step: large while the loss falls fast, then smaller so that the noise of batches of 32 settles. */
const SCHEDULE: [fromStep: number, lr: number][] = [
  [1, 3e-3],
  [225, 1e-3],
  [360, 3e-4],
];
const learningRate = (step: number) => SCHEDULE.filter(([from]) => step >= from).at(-1)![1];
const REQUIRED_ACCURACY = 0.95;
const LOG_EVERY = 10;
/** Live accuracies on the first EVAL_ROWS test digits and as many training digits; all test digits at the end. */
const EVAL_EVERY = 100;
const EVAL_ROWS = 500;
const GRID = { count: 96, columns: 16 };

const PANELS = `
  <div class="digits">
    <figure>
      <canvas data-test="test-grid"></canvas>
      <figcaption data-test="grid-caption">test digits, framed green when right and red when wrong</figcaption>
    </figure>
    <figure>
      <div data-test="confusion"></div>
      <figcaption data-test="confusion-caption">confusion matrix of the test digits</figcaption>
    </figure>
    <figure class="draw">
      <canvas data-test="draw" width="224" height="224"></canvas>
      <figcaption>draw a digit <button type="button" data-test="clear">Clear</button></figcaption>
    </figure>
    <figure>
      <div data-test="prediction"></div>
      <figcaption data-test="prediction-caption">probabilities of the drawn digit</figcaption>
    </figure>
    <figure>
      <div data-test="filters"></div>
      <figcaption>the first layer's eight 3×3 filters</figcaption>
    </figure>
  </div>`;

interface Model {
  rt: Runtime;
  net: Sequential;
  optimizer: Optimizer;
  /** One compiled step per learning rate: a replay keeps the constants it was recorded with. */
  stepAt(lr: number): CompiledStep<[Tensor, Tensor], StepOutput>;
  compiled: Map<number, CompiledStep<[Tensor, Tensor], StepOutput>>;
  steps: number;
}

/** The batch's loss, and its logits for a running training accuracy. */
type StepOutput = { loss: Tensor; logits: Tensor };

export function createDigitsTab(): DemoTab {
  let env: TabEnv;
  let root: HTMLElement;
  let digits: Digits;
  let model: Model | null = null;
  let batches: Generator<number[]> | null = null;
  let training = false;
  let drawPending = false;
  let testAccuracy = NaN;
  /** The step whose weights `testAccuracy` measured on every test digit; −1 when it did not. */
  let evaluatedAt = -1;

  const $ = <T extends Element = HTMLElement>(test: string) => root.querySelector(`[data-test=${test}]`) as T;

  async function ensureModel(): Promise<Model> {
    const rt = env.runtime();
    if (model && model.rt === rt) return model;
    dispose();
    const net = digitsConvNet(rt);
    const optimizer = rt.optim.adam({ lr: SCHEDULE[0][1] });
    const compiled = new Map<number, CompiledStep<[Tensor, Tensor], StepOutput>>();
    // Each recorded once, then replayed with its buffers and bind groups; Adam's moments are shared.
    const stepAt = (lr: number) => {
      let step = compiled.get(lr);
      if (!step) {
        step = rt.compile(async (x: Tensor, y: Tensor) => {
          optimizer.lr = lr;
          const params = net.params();
          const logits = net.forward(x);
          const loss = rt.softmaxCrossEntropy(logits, y);
          optimizer.step(params, await rt.grad(loss, params));
          // Copies without a tape, so that nothing of the graph outlives the step.
          return rt.noGrad(() => ({ loss: rt.scale(loss, 1), logits: rt.scale(logits, 1) }));
        });
        compiled.set(lr, step);
      }
      return step;
    };
    model = { rt, net, optimizer, stepAt, compiled, steps: 0 };
    batches = trainingBatches(digits.train, BATCH, 1);
    if (rt.info.backend === 'webgpu') {
      env.notice('Compiling the ConvNet’s pipelines (rt.warmup)…');
      await rt.warmup(async () => {
        const x = rt.zeros([BATCH, 1, 28, 28]);
        await rt.grad(rt.softmaxCrossEntropy(net.forward(x), new Int32Array(BATCH)), net.params());
        rt.noGrad(() => net.forward(rt.zeros([EVAL_ROWS, 1, 28, 28])));
      });
      env.notice(null);
    }
    await showFilters(model);
    return model;
  }

  /** Predicted classes of `rows` of a split, in chunks under noGrad. */
  async function predict(m: Model, split: Digits['test'], rows: number[]): Promise<Int32Array> {
    const out = new Int32Array(rows.length);
    for (let at = 0; at < rows.length; at += EVAL_ROWS) {
      const chunk = rows.slice(at, at + EVAL_ROWS);
      const logits = m.rt.tidy(() =>
        m.rt.noGrad(() => m.net.forward(m.rt.tensor(slice(split, chunk).x, [chunk.length, 1, 28, 28]))),
      );
      const values = await logits.data();
      logits.dispose();
      out.set(argmaxRows(values), at);
    }
    return out;
  }

  /** Accuracy over the first `count` test digits; redraws the grid and the confusion matrix from them. */
  async function evaluateTest(m: Model, count: number): Promise<number> {
    const predictions = await predict(m, digits.test, range(0, count));
    const confusion = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0));
    let right = 0;
    predictions.forEach((p, i) => {
      confusion[digits.test.labels[i]][p]++;
      if (p === digits.test.labels[i]) right++;
    });
    drawDigitGrid($('test-grid'), digits.test, predictions, GRID.count, GRID.columns);
    $('test-grid').dataset.predictions = Array.from(predictions.subarray(0, GRID.count)).join('');
    drawConfusion($('confusion'), confusion);
    $('confusion-caption').textContent = `confusion matrix of ${count} test digits`;
    const accuracy = right / count;
    root.dataset.testAccuracy = accuracy.toFixed(4);
    root.dataset.evaluatedOn = String(count);
    return accuracy;
  }

  async function showFilters(m: Model): Promise<void> {
    const weight = m.net.namedParams()['0.weight'];
    const values = await weight.data();
    const maps = range(0, 8).map((f) => ({ title: `#${f}`, values: values.subarray(f * 9, f * 9 + 9) }));
    drawHeatmaps($('filters'), maps, 3, 3, { cellSize: 14 });
  }

  async function classifyDrawing(): Promise<void> {
    drawPending = false;
    if (!model) return;
    const digit = drawingToDigit($<HTMLCanvasElement>('draw'));
    if (!digit) return;
    const m = model;
    const probabilities = m.rt.tidy(() =>
      m.rt.noGrad(() => m.rt.softmax(m.net.forward(m.rt.tensor(normalize(digit), [1, 1, 28, 28])))),
    );
    const p = await probabilities.data();
    probabilities.dispose();
    const best = p.indexOf(Math.max(...p));
    drawProbabilities($('prediction'), p);
    $('prediction').dataset.digit = String(best);
    $('prediction-caption').textContent = `it looks like a ${best} (p = ${p[best].toFixed(2)})`;
  }

  function requestClassify(): void {
    if (drawPending) return;
    drawPending = true;
    // While training, the loop classifies between two steps; otherwise it waits its turn on the runtime.
    if (!training) void (env.exclusive ? env.exclusive(classifyDrawing) : classifyDrawing());
  }

  function dispose(): void {
    const m = model;
    model = null;
    batches = null;
    evaluatedAt = -1;
    if (!m) return;
    try {
      m.compiled.forEach((step) => step.dispose());
      m.optimizer.dispose();
      m.net.dispose();
    } catch {
      // A lost device took the memory with it: there is nothing left to free.
    }
  }

  return {
    id: 'digits',
    title: 'Digits',
    defaultSteps: 450,

    async mount(el, tabEnv) {
      root = el;
      env = tabEnv;
      root.innerHTML = PANELS;
      digits = await loadDigits((f) => env.progress('Loading 10,000 digits (7.9 MB)', f));
      env.progress('Loading 10,000 digits (7.9 MB)', null);
      const pad = createDrawPad($<HTMLCanvasElement>('draw'), requestClassify);
      $('clear').addEventListener('click', () => pad.clear());
      root.dataset.trainSize = String(digits.train.size);
    },

    async train(steps, signal) {
      const m = await ensureModel();
      const first = m.steps + 1;
      const last = m.steps + steps;
      const started = performance.now();
      // The training accuracy runs over the batches read back at each logged step since the last evaluation.
      let seen = { right: 0, total: 0 };
      let out: StepOutput | null = null;
      const free = () => (out ? [out.loss, out.logits].forEach((t) => t.dispose()) : undefined);
      training = true;
      try {
        for (let step = first; step <= last && !signal.aborted; step++) {
          await env.whenVisible();
          const { x, labels } = slice(digits.train, batches!.next().value!);
          const xs = m.rt.tensor(x, [BATCH, 1, 28, 28]);
          const ys = m.rt.tensor(oneHot(labels), [BATCH, CLASSES]);
          free();
          out = await m.stepAt(learningRate(step))(xs, ys);
          xs.dispose();
          ys.dispose();
          m.steps = step;
          if (drawPending) await classifyDrawing();
          if (step === 1 || step % LOG_EVERY === 0 || (step === last && steps > 1)) {
            const [value, logits] = await Promise.all([out.loss.data(), out.logits.data()]);
            argmaxRows(logits).forEach((p, i) => (seen.right += Number(p === labels[i])));
            seen.total += BATCH;
            env.plot('loss', step, value[0]);
            const rate = (step - first + 1) / ((performance.now() - started) / 1000);
            env.stats({ step: String(step), loss: value[0].toFixed(4), 'steps/s': rate.toFixed(2) });
            console.log(`[webgrad-demo] digits step ${step} loss ${value[0].toFixed(4)}`);
          }
          // A run's last step is measured on every test digit; short runs (the profiled step) are not measured.
          const full = step === last && steps >= LOG_EVERY;
          if (step % EVAL_EVERY === 0 || full) {
            const trainAcc = seen.right / Math.max(1, seen.total);
            seen = { right: 0, total: 0 };
            testAccuracy = await evaluateTest(m, full ? digits.test.size : EVAL_ROWS);
            evaluatedAt = full ? step : -1;
            env.plot('train accuracy', step, trainAcc);
            env.plot('test accuracy', step, testAccuracy);
            env.stats({
              'train accuracy': `${(100 * trainAcc).toFixed(1)}%`,
              'test accuracy': `${(100 * testAccuracy).toFixed(1)}%${full ? '' : ` (${EVAL_ROWS})`}`,
            });
            console.log(
              `[webgrad-demo] digits step ${step} train accuracy ${trainAcc.toFixed(3)} (recent batches) test accuracy ` +
                `${testAccuracy.toFixed(3)} (${full ? digits.test.size : EVAL_ROWS} digits)`,
            );
            await showFilters(m);
          }
        }
      } finally {
        training = false;
        free();
      }
    },

    async checkGradients(): Promise<GradientCheck> {
      const m = await ensureModel();
      // Eight training digits: the float64 reference runs the same convolutions with plain loops.
      const { x, labels } = slice(digits.train, range(0, 8));
      const lossOf = (rt: Runtime, net: Sequential) =>
        rt.softmaxCrossEntropy(net.forward(rt.tensor(x, [8, 1, 28, 28])), labels);
      const copies: Sequential[] = [];
      try {
        return await checkGradients(
          (rt, params) => {
            if (rt === m.rt) return { loss: lossOf(rt, m.net), params: m.net.namedParams() };
            const copy = digitsConvNet(rt);
            copies.push(copy);
            rt.nn.loadStateDict(copy, params);
            return { loss: lossOf(rt, copy), params: copy.namedParams() };
          },
          m.net.namedParams(),
          { reference: env.cpu },
        );
      } finally {
        copies.forEach((c) => c.dispose());
      }
    },

    async report(seconds): Promise<TabReport> {
      const m = await ensureModel();
      // A run that ended with a full evaluation already measured these weights.
      if (evaluatedAt !== m.steps) testAccuracy = await evaluateTest(m, digits.test.size);
      return {
        figures: { 'test accuracy': testAccuracy, steps: m.steps },
        passed: testAccuracy >= REQUIRED_ACCURACY,
        target: `test accuracy ≥ ${REQUIRED_ACCURACY} on ${digits.test.size} held-out digits`,
        seconds,
      };
    },

    /** The weights by PyTorch's names, and the held-out digits as the model takes them: `test.images` [N,1,28,28] normalised, `test.labels`. */
    async save() {
      const m = await ensureModel();
      const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [name, t] of Object.entries(m.net.namedParams()))
        tensors[name] = { shape: [...t.shape], data: await t.data() };
      const test = slice(digits.test, range(0, digits.test.size));
      tensors['test.images'] = { shape: [digits.test.size, 1, 28, 28], data: test.x };
      tensors['test.labels'] = { shape: [digits.test.size], data: Float32Array.from(test.labels) };
      return encodeSafetensors(tensors, {
        format: 'pt',
        producer: 'webgrad demo',
        model: 'Conv2d(1,8,3,p1) ReLU MaxPool2d(2) Conv2d(8,16,3,p1) ReLU MaxPool2d(2) Flatten Linear(784,10)',
        steps: String(m.steps),
      });
    },

    async load(bytes) {
      const m = await ensureModel();
      const weights = Object.entries(decodeSafetensors(bytes).tensors).filter(([name]) => !name.startsWith('test.'));
      const tensors = Object.fromEntries(weights.map(([name, a]) => [name, m.rt.tensor(a.data, a.shape)]));
      try {
        m.rt.nn.loadStateDict(m.net, tensors);
      } finally {
        Object.values(tensors).forEach((t) => t.dispose());
      }
      evaluatedAt = -1;
      testAccuracy = await evaluateTest(m, digits.test.size);
      env.stats({ 'test accuracy': `${(100 * testAccuracy).toFixed(1)}%` });
      await showFilters(m);
      await classifyDrawing();
    },

    dispose,
  };
}
