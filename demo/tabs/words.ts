// The Words tab: a character-level GPT learns to invent English-looking words, live. Its panels: invented words
// with a temperature slider, each head's attention for a typed word, tokens per second; the train and validation
// loss go to the shared chart beside the bigram baseline. The model and its training live in words-trainer.ts.
import { data, type GradientCheck, type Words } from '../../src/index.js';
import type { DemoTab, TabEnv, TabReport } from './contract.js';
import { drawAttention } from './words-charts.js';
import { WordsTrainer, wordsReport, WORDS_CONFIG } from './words-trainer.js';

/** Steps the headless run trains for: the seeded run crosses baseline − 0.1 between steps 100 and 150. */
const DEFAULT_STEPS = 150;
const PLOT_EVERY = 10;
const VALIDATE_EVERY = 50;
const SAMPLE_EVERY_MS = 8000;
const SAMPLES = 10;
const DEFAULT_WORD = 'quartz';

let wordsLoading: Promise<Words> | null = null;

/** The words and their seeded split (the library's defaults, as the tests and the README use them). */
function loadWords(): Promise<Words> {
  return data.englishWords();
}

/** Runs GPU work one piece at a time: the sampling and attention panels must not interleave with a step. */
class Serial {
  private last: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.last.then(work, work);
    this.last = next.catch(() => undefined);
    return next;
  }
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) e.setAttribute(name, value);
  e.append(...children);
  return e;
}

/** Letters a … z of what was typed, as many as the context holds after the end token. */
function cleanWord(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z]/g, '')
    .slice(0, WORDS_CONFIG.context - 1);
}

class WordsTab implements DemoTab {
  readonly id = 'words' as const;
  readonly title = 'Words';
  readonly defaultSteps = DEFAULT_STEPS;
  private env!: TabEnv;
  private trainer: WordsTrainer | null = null;
  private readonly gpu = new Serial();
  private validation = { step: -1, loss: NaN };
  private panels!: {
    temperature: HTMLInputElement;
    temperatureValue: HTMLOutputElement;
    seed: HTMLInputElement;
    samples: HTMLUListElement;
    word: HTMLInputElement;
    attention: HTMLElement;
    tokensPerSecond: HTMLElement;
  };

  async mount(root: HTMLElement, env: TabEnv): Promise<void> {
    this.env = env;
    const temperature = element('input', {
      type: 'range',
      min: '0.2',
      max: '2',
      step: '0.1',
      value: '1',
      'data-test': 'temperature',
    });
    const temperatureValue = element('output', {}, '1.0');
    const seed = element('input', { type: 'number', min: '0', step: '1', value: '1', 'data-test': 'sample-seed' });
    seed.style.width = '5em';
    const resample = element('button', { type: 'button', 'data-test': 'resample' }, 'New samples');
    const word = element('input', {
      type: 'text',
      value: DEFAULT_WORD,
      maxlength: '15',
      'data-test': 'attention-word',
    });
    const tokensPerSecond = element('strong', { 'data-test': 'tokens-per-second' }, '–');
    const samples = element('ul', { 'data-test': 'samples' });
    const attention = element('div', { 'data-test': 'attention' });
    this.panels = { temperature, temperatureValue, seed, samples, word, attention, tokensPerSecond };
    root.replaceChildren(
      element(
        'p',
        {},
        'A character-level GPT (2 layers, d 64, 4 heads, context 16) learns from 250,000 English words to invent ',
        'new ones. Its loss is in nats per character, against the bigram baseline on the same validation words.',
      ),
      element('p', {}, 'Tokens per second: ', tokensPerSecond),
      element('h3', {}, 'Invented words'),
      element(
        'p',
        {},
        element('label', {}, 'Temperature ', temperature, ' ', temperatureValue),
        ' ',
        element('label', {}, 'Seed ', seed),
        ' ',
        resample,
      ),
      samples,
      element('h3', {}, 'Attention, per layer and head'),
      element('p', {}, element('label', {}, 'Word ', word), ' (query × key, the end token "." first)'),
      attention,
    );
    temperature.addEventListener('input', () => {
      temperatureValue.value = Number(temperature.value).toFixed(1);
      this.inBackground(this.refreshSamples());
    });
    seed.addEventListener('change', () => this.inBackground(this.refreshSamples()));
    resample.addEventListener('click', () => {
      seed.value = String((Number(seed.value) || 0) + 1);
      this.inBackground(this.refreshSamples());
    });
    word.addEventListener('input', () => this.inBackground(this.refreshAttention()));

    await this.ensureTrainer();
    await this.refreshSamples();
    await this.refreshAttention();
  }

  /** Work started by a control (a slider, a keystroke): its failure goes to the notice, not to the console. */
  private inBackground(work: Promise<unknown>): void {
    work.catch((e: unknown) => this.env.notice(`Words: ${(e as Error).message}`));
  }

  /** The trainer on the runtime chosen now, made (with its data and pipelines) on first use and after dispose(). */
  private async ensureTrainer(): Promise<WordsTrainer> {
    if (this.trainer) return this.trainer;
    const env = this.env;
    env.progress('Loading 275,000 English words', 0);
    wordsLoading ??= loadWords();
    let words: Words;
    try {
      words = await wordsLoading;
    } catch (e) {
      wordsLoading = null;
      env.progress('Loading 275,000 English words', null);
      throw e;
    }
    env.progress('Cutting the words into training rows', 0.7);
    await new Promise((resolve) => setTimeout(resolve, 0)); // lets the bar paint before the work below
    const trainer = new WordsTrainer(env.runtime(), words);
    env.progress('Cutting the words into training rows', null);
    env.notice('Compiling pipelines…');
    try {
      await trainer.warmup(SAMPLES);
    } finally {
      env.notice(null);
    }
    this.trainer = trainer;
    this.validation = { step: -1, loss: NaN };
    env.baseline('bigram baseline', trainer.baseline);
    return trainer;
  }

  async train(steps: number, signal: AbortSignal): Promise<void> {
    const trainer = await this.ensureTrainer();
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    let recent = { loss: 0, steps: 0, ms: 0 };
    let lastSample = performance.now();
    for (let i = 0; i < steps && !signal.aborted; i++) {
      await Promise.race([this.env.whenVisible(), aborted]);
      if (signal.aborted) break;
      const started = performance.now();
      const loss = await this.gpu.run(() => trainer.trainStep());
      recent = { loss: recent.loss + loss, steps: recent.steps + 1, ms: recent.ms + performance.now() - started };
      if (trainer.steps % PLOT_EVERY === 0) {
        this.plotTraining(recent);
        recent = { loss: 0, steps: 0, ms: 0 };
      }
      if (trainer.steps % VALIDATE_EVERY === 0) await this.plotValidation();
      if (performance.now() - lastSample > SAMPLE_EVERY_MS) {
        await this.refreshSamples();
        lastSample = performance.now();
      }
    }
    if (recent.steps > 0) this.plotTraining(recent);
    await this.plotValidation();
    await this.refreshSamples();
    await this.refreshAttention();
  }

  private plotTraining(recent: { loss: number; steps: number; ms: number }): void {
    const trainer = this.trainer!;
    const loss = recent.loss / recent.steps;
    const tokensPerSecond = (recent.steps * trainer.tokensPerStep) / (recent.ms / 1000);
    this.env.plot('train', trainer.steps, loss);
    this.panels.tokensPerSecond.textContent = Math.round(tokensPerSecond).toLocaleString('en-US');
    this.env.stats({
      step: String(trainer.steps),
      'train loss': loss.toFixed(3),
      'validation loss': Number.isFinite(this.validation.loss) ? this.validation.loss.toFixed(3) : '–',
      'bigram baseline': trainer.baseline.toFixed(3),
      'tokens/s': Math.round(tokensPerSecond).toString(),
    });
  }

  /** The validation loss at this step (measured once per step), plotted. */
  private async validationLoss(): Promise<number> {
    const trainer = this.trainer ?? (await this.ensureTrainer());
    if (this.validation.step !== trainer.steps) {
      const loss = await this.gpu.run(() => trainer.validationLoss());
      this.validation = { step: trainer.steps, loss };
    }
    return this.validation.loss;
  }

  private async plotValidation(): Promise<void> {
    const loss = await this.validationLoss();
    this.env.plot('validation', this.trainer!.steps, loss);
  }

  private async refreshSamples(): Promise<void> {
    const trainer = this.trainer;
    if (!trainer) return;
    const { temperature, seed, samples } = this.panels;
    const words = await this.gpu.run(() =>
      trainer.sample({ count: SAMPLES, temperature: Number(temperature.value), seed: Number(seed.value) >>> 0 }),
    );
    samples.replaceChildren(...words.map((w) => element('li', {}, w)));
  }

  private async refreshAttention(): Promise<void> {
    const trainer = this.trainer;
    if (!trainer) return;
    const { word, attention } = this.panels;
    const letters = cleanWord(word.value);
    if (letters.length === 0) {
      attention.replaceChildren(element('p', {}, 'Type a word of letters a … z.'));
      return;
    }
    const maps = await this.gpu.run(() => trainer.attention(letters));
    // A later keystroke may have drawn a newer word already.
    if (cleanWord(word.value) === letters) drawAttention(attention, maps, `.${letters}`);
  }

  async checkGradients(): Promise<GradientCheck> {
    const trainer = await this.ensureTrainer();
    return this.gpu.run(() => trainer.checkGradients(this.env.cpu));
  }

  async report(seconds: number): Promise<TabReport> {
    const trainer = await this.ensureTrainer();
    return wordsReport(await this.validationLoss(), trainer.baseline, seconds);
  }

  async save(): Promise<Uint8Array> {
    const trainer = await this.ensureTrainer();
    return this.gpu.run(() => trainer.save());
  }

  async load(bytes: Uint8Array): Promise<void> {
    const trainer = await this.ensureTrainer();
    await this.gpu.run(async () => trainer.load(bytes));
    this.validation = { step: -1, loss: NaN };
    await this.refreshSamples();
    await this.refreshAttention();
  }

  dispose(): void {
    this.trainer?.dispose();
    this.trainer = null;
    this.validation = { step: -1, loss: NaN };
  }
}

export function createWordsTab(): DemoTab {
  return new WordsTab();
}
