// Training the Words tab's GPT on `an-array-of-english-words`: the seeded split, the batches, the compiled Adam step,
// the validation loss against the bigram baseline, the gradient check and the weights. No DOM.
import {
  checkGradients,
  type CompiledStep,
  type Optimizer,
  data,
  type GradientCheck,
  type Runtime,
  type Tensor,
  type Words,
  type WordSequences,
} from '../../src/index.js';
import type { TabReport } from './contract.js';
import {
  attentionTensors,
  attentionWeights,
  createWordsModel,
  sampleWords,
  wordsLoss,
  type SampleOptions,
  type WordsModel,
  type WordsModelConfig,
} from './words-model.js';

export interface WordsTrainingConfig extends WordsModelConfig {
  /** Rows (one word each, or a piece of a long word) per step. */
  batch: number;
  lr: number;
  /** Validation words the live and reported loss are measured on (the first ones of the seeded split). */
  validationWords: number;
  /** Seed of the order the training rows are visited in. */
  orderSeed: number;
}

export const WORDS_CONFIG: WordsTrainingConfig = {
  context: 16,
  dModel: 64,
  layers: 2,
  heads: 4,
  seed: 1,
  batch: 32,
  lr: 3e-3,
  validationWords: 500,
  orderSeed: 11,
};

/** How far below the bigram baseline the validation loss must be, in nats per character. */
export const TARGET_MARGIN = 0.1;

/** The headless run's verdict: validation ≤ baseline − 0.1 nats/char. */
export function wordsReport(validationLoss: number, baseline: number, seconds: number): TabReport {
  return {
    figures: { 'validation loss': validationLoss, 'bigram baseline': baseline },
    passed: Number.isFinite(validationLoss) && validationLoss <= baseline - TARGET_MARGIN,
    target: `validation loss ≤ bigram baseline − ${TARGET_MARGIN} nats/char`,
    seconds,
  };
}

const EVAL_ROWS = 128;

export class WordsTrainer {
  readonly model: WordsModel;
  /** The bigram baseline (counts from the training words) on the validation words the model is measured on. */
  readonly baseline: number;
  steps = 0;
  private readonly train: WordSequences;
  private readonly validation: WordSequences;
  private readonly validationCount: number;
  private order: Uint32Array;
  private epoch = 0;
  private cursor = 0;
  private readonly step: CompiledStep<[Tensor, Tensor], Tensor>;
  /** The forward pass for sampling and the summed validation loss, compiled: one recording each, replayed. */
  private readonly logitsOf: CompiledStep<[Tensor], Tensor>;
  private readonly validationSum: CompiledStep<[Tensor, Tensor], Tensor>;
  private readonly opt: Optimizer;

  constructor(
    readonly rt: Runtime,
    readonly words: Words,
    readonly config: WordsTrainingConfig = WORDS_CONFIG,
  ) {
    const validationWords = words.validation.slice(0, config.validationWords);
    this.baseline = data.bigramBaseline(words.train, validationWords);
    this.train = data.wordSequences(words.train, config.context);
    this.validation = data.wordSequences(validationWords, config.context);
    this.validationCount = this.validation.targets.filter((t) => t >= 0).length;
    this.order = data.permutation(this.train.count, config.orderSeed);
    this.model = createWordsModel(rt, config);
    const params = this.model.params();
    const opt = (this.opt = rt.optim.adam({ lr: config.lr }));
    const lossAndGrads = rt.valueAndGrad((_p, ids: Tensor, targets: Tensor) => wordsLoss(rt, this.model, ids, targets));
    this.step = rt.compile(async (ids: Tensor, targets: Tensor) => {
      const { value, grads } = await lossAndGrads(params, ids, targets);
      opt.step(params, grads);
      return value;
    });
    this.logitsOf = rt.compile((ids: Tensor) => this.model.forward(ids));
    this.validationSum = rt.compile((ids: Tensor, labels: Tensor) =>
      rt.softmaxCrossEntropy(this.model.forward(ids), labels, { ignoreIndex: -1, reduction: 'sum' }),
    );
  }

  /**
   * Builds the pipelines of the step, the validation and sampling passes and the attention maps ahead of their first
   * use (a dry run: nothing is dispatched, the weights stay).
   */
  async warmup(sampleRows = 10): Promise<void> {
    const rt = this.rt;
    const { batch, context } = this.config;
    const rows = (values: Int32Array, n: number) =>
      rt.tensor(Float32Array.from(values.subarray(0, n * context)), [n, context]);
    const { inputs, targets } = this.train;
    await rt.warmup(async () => {
      await rt.grad(wordsLoss(rt, this.model, rows(inputs, batch), rows(targets, batch)), this.model.params());
      const validation = this.model.forward(rows(inputs, EVAL_ROWS));
      rt.softmaxCrossEntropy(validation, rows(targets, EVAL_ROWS), { ignoreIndex: -1, reduction: 'sum' });
      this.model.forward(rows(inputs, sampleRows));
      attentionTensors(rt, this.model, rt.tensor(Float32Array.from(inputs.subarray(0, 7)), [1, 7]));
    });
  }

  /** Characters fed per step (batch × context), the unit of tokens per second. */
  get tokensPerStep(): number {
    return this.config.batch * this.config.context;
  }

  /** The next batch of training rows, in a seeded order that is reshuffled (seed + epoch) after each pass. */
  private nextBatch(): { ids: Float32Array; targets: Float32Array } {
    const { batch, context } = this.config;
    const ids = new Float32Array(batch * context);
    const targets = new Float32Array(batch * context);
    for (let b = 0; b < batch; b++) {
      if (this.cursor === this.order.length) {
        this.epoch++;
        this.cursor = 0;
        this.order = data.permutation(this.train.count, this.config.orderSeed + this.epoch);
      }
      const row = this.order[this.cursor++] * context;
      ids.set(this.train.inputs.subarray(row, row + context), b * context);
      targets.set(this.train.targets.subarray(row, row + context), b * context);
    }
    return { ids, targets };
  }

  /** One Adam step on the next batch; returns its loss (of the weights before the step), nats per character. */
  async trainStep(): Promise<number> {
    const rt = this.rt;
    const { batch, context } = this.config;
    const { ids, targets } = this.nextBatch();
    const loss = await rt.tidy(async () => {
      const value = await this.step(rt.tensor(ids, [batch, context]), rt.tensor(targets, [batch, context]));
      return (await value.data())[0];
    });
    this.steps++;
    return loss;
  }

  /**
   * Mean nats per predicted character over the validation words (each letter and the end token), in eval mode.
   * The rows go in chunks of EVAL_ROWS, the last one padded with rows that predict nothing, so that every chunk
   * replays one compiled recording.
   */
  async validationLoss(): Promise<number> {
    const rt = this.rt;
    const { context } = this.config;
    const { inputs, targets, count } = this.validation;
    const size = EVAL_ROWS * context;
    this.model.eval();
    try {
      let total = 0;
      for (let start = 0; start < count; start += EVAL_ROWS) {
        const ids = new Float32Array(size); // the end token
        const labels = new Float32Array(size).fill(-1);
        const end = Math.min(count, start + EVAL_ROWS) * context;
        ids.set(inputs.subarray(start * context, end));
        labels.set(targets.subarray(start * context, end));
        total += await rt.tidy(async () => {
          const sum = await this.validationSum(
            rt.tensor(ids, [EVAL_ROWS, context]),
            rt.tensor(labels, [EVAL_ROWS, context]),
          );
          return (await sum.dataF64())[0];
        });
      }
      return total / this.validationCount;
    } finally {
      this.model.train();
    }
  }

  sample(options: SampleOptions): Promise<string[]> {
    return sampleWords(this.rt, this.model, options, this.logitsOf);
  }

  attention(word: string): Promise<Float32Array[][]> {
    return attentionWeights(this.rt, this.model, word);
  }

  /**
   * One step's gradients (the loss of `rows` training rows) on this runtime and on the float64 CPU reference, per
   * parameter within the K-scaled float32 bound.
   */
  async checkGradients(reference?: Runtime, rows = 4): Promise<GradientCheck> {
    const { context } = this.config;
    const ids = Float32Array.from(this.train.inputs.subarray(0, rows * context));
    const targets = Float32Array.from(this.train.targets.subarray(0, rows * context));
    const built: WordsModel[] = [];
    try {
      return await checkGradients(
        (r, named) => {
          const batch = (values: Float32Array) => r.tensor(values, [rows, context]);
          if (r === this.rt) return wordsLoss(r, this.model, batch(ids), batch(targets));
          // The reference gets the same model, made on it and loaded with these weights.
          const copy = createWordsModel(r, this.config);
          built.push(copy);
          r.nn.loadStateDict(copy, named);
          return { loss: wordsLoss(r, copy, batch(ids), batch(targets)), params: copy.namedParams() };
        },
        this.model.namedParams(),
        { reference },
      );
    } finally {
      built.forEach((m) => m.dispose());
    }
  }

  /** The weights as .safetensors, with PyTorch's names and layouts (Linear weight [out, in]). */
  save(): Promise<Uint8Array> {
    const { context, dModel, layers, heads } = this.config;
    return this.rt.saveSafetensors(this.model.namedParams(), {
      format: 'pt',
      producer: 'webgrad demo',
      model: `words GPT context ${context} d ${dModel} layers ${layers} heads ${heads} vocab ${data.WORD_VOCAB}`,
    });
  }

  /** Writes saved weights into the model in place (the compiled step keeps its buffers); Adam's moments stay. */
  load(bytes: Uint8Array): void {
    const tensors = this.rt.loadSafetensors(bytes);
    try {
      this.rt.nn.loadStateDict(this.model, tensors);
    } finally {
      Object.values(tensors).forEach((t) => t.dispose());
    }
  }

  dispose(): void {
    [this.step, this.logitsOf, this.validationSum].forEach((s) => s.dispose());
    this.opt.dispose();
    this.model.dispose();
  }
}
