import {
  data as datasets,
  type Dataset,
  type Module,
  type Optimizer,
  type Runtime,
  type Tensor,
} from '../src/index.js';

export interface TrainConfig {
  dataset: 'spiral' | 'moons' | 'circles' | 'iris' | 'regression';
  hidden: number[];
  activation: 'relu' | 'tanh';
  optimizer: 'adam' | 'adamw' | 'sgd';
  lr: number;
  /** Rows per step; the whole set when at least its size. */
  batch: number;
  steps: number;
}

export interface Progress {
  step: number;
  loss: number;
  accuracy?: number;
  stepsPerSecond: number;
}

export async function loadDataset(name: TrainConfig['dataset']): Promise<Dataset> {
  switch (name) {
    case 'spiral':
      return datasets.spiral();
    case 'moons':
      return datasets.moons();
    case 'circles':
      return datasets.circles();
    case 'iris':
      return datasets.iris();
    case 'regression':
      return datasets.regressionCurve();
  }
}

/** The batch's inputs and targets as tensors: one-hot rows for classes, [m, 1] for regression. */
function batchTensors(rt: Runtime, d: Dataset, x: Float32Array, y: Float32Array, m: number): { x: Tensor; y: Tensor } {
  if (d.classes === 0) return { x: rt.tensor(x, [m, d.features]), y: rt.tensor(y, [m, 1]) };
  const oneHot = new Float32Array(m * d.classes);
  y.forEach((c, i) => (oneHot[i * d.classes + c] = 1));
  return { x: rt.tensor(x, [m, d.features]), y: rt.tensor(oneHot, [m, d.classes]) };
}

/**
 * A training run: model, optimizer and data on one runtime. `step()` records one step and does not wait for the
 * device; `measure()` reads the loss and the accuracy over the whole set, which waits.
 */
export class Training {
  readonly model: Module;
  readonly optimizer: Optimizer;
  steps = 0;
  private readonly full: { x: Tensor; y: Tensor };
  private readonly batches: Iterator<{ x: Float32Array; y: Float32Array; size: number }> | null;
  private lastLoss: Tensor | null = null;
  private readonly lossAndGrads;
  private readonly trainStep;

  constructor(
    readonly rt: Runtime,
    readonly data: Dataset,
    readonly config: TrainConfig,
  ) {
    rt.nn.manualSeed(1);
    const outputs = data.classes > 0 ? data.classes : 1;
    this.model = rt.nn.mlp([data.features, ...config.hidden, outputs], config.activation);
    this.optimizer =
      config.optimizer === 'sgd'
        ? rt.optim.sgd({ lr: config.lr, momentum: 0.9 })
        : rt.optim.adam({ lr: config.lr, weightDecay: config.optimizer === 'adamw' ? 0.01 : 0 });
    this.full = batchTensors(rt, data, data.x, data.y, data.size);
    this.batches =
      config.batch >= data.size ? null : datasets.minibatches(data, { batchSize: config.batch, seed: 1, epochs: 1e9 });
    this.lossAndGrads = rt.valueAndGrad((_params: Tensor[], x: Tensor, y: Tensor) => {
      const out = this.model.forward(x);
      return this.data.classes > 0 ? rt.softmaxCrossEntropy(out, y) : rt.mseLoss(out, y);
    });
    // Recorded once, then replayed with its buffers and bind groups: no op code runs on later steps.
    this.trainStep = rt.compile(async (x: Tensor, y: Tensor) => {
      const params = this.model.params();
      const { value, grads } = await this.lossAndGrads(params, x, y);
      this.optimizer.step(params, grads);
      return value;
    });
  }

  /** One optimizer step on the next batch. */
  async step(): Promise<void> {
    const rt = this.rt;
    let batch = this.full;
    let owned = false;
    if (this.batches) {
      const next = this.batches.next().value!;
      batch = batchTensors(rt, this.data, next.x, next.y, next.size);
      owned = true;
    }
    const value = await this.trainStep(batch.x, batch.y);
    if (owned) {
      batch.x.dispose();
      batch.y.dispose();
    }
    this.lastLoss?.dispose();
    this.lastLoss = value;
    this.steps++;
  }

  /** The last step's loss, and the accuracy over the whole set (classification only). */
  async measure(): Promise<{ loss: number; accuracy?: number }> {
    const loss = this.lastLoss ? (await this.lastLoss.data())[0] : NaN;
    if (this.data.classes === 0) return { loss };
    const logits = this.rt.noGrad(() => this.model.forward(this.full.x));
    const accuracy = await this.rt.accuracy(logits, this.full.y);
    logits.dispose();
    return { loss, accuracy };
  }

  /** Frees what only training needs: the compiled step, the data and the optimizer state. The model stays. */
  release(): void {
    this.trainStep.dispose();
    this.lastLoss?.dispose();
    this.lastLoss = null;
    if (!this.full.x.disposed) {
      this.full.x.dispose();
      this.full.y.dispose();
    }
    this.optimizer.dispose();
  }

  dispose(): void {
    this.release();
    this.model.dispose();
  }
}
