import { uniformRandom } from '../core/random.js';
import type { Dataset } from './dataset.js';

export interface Minibatch {
  /** [size, features] row-major. */
  x: Float32Array;
  /** Class indices [size], or targets [size, targets]. */
  y: Float32Array;
  size: number;
  /** Which rows of the data set, in batch order. */
  indices: Int32Array;
}

export interface MinibatchOptions {
  batchSize: number;
  /** Reshuffle the rows each epoch; default true. */
  shuffle?: boolean;
  /** Seed of the shuffles; default 0. */
  seed?: number;
  /** Skip a last batch smaller than `batchSize`; default false. */
  dropLast?: boolean;
  /** Passes over the data; default 1. */
  epochs?: number;
}

/**
 * Minibatches over a data set: every row once per epoch, in a seeded random order (Fisher–Yates), so that runs
 * repeat exactly.
 */
export function* minibatches(data: Dataset, options: MinibatchOptions): Generator<Minibatch> {
  const { batchSize, shuffle = true, seed = 0, dropLast = false, epochs = 1 } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`minibatches: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new Error(`minibatches: epochs must be a non-negative integer, got ${epochs}`);
  const targets = data.classes > 0 ? 1 : data.y.length / data.size;
  const random = uniformRandom(seed);
  const order = Int32Array.from({ length: data.size }, (_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (shuffle) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    for (let start = 0; start < data.size; start += batchSize) {
      const indices = order.slice(start, Math.min(start + batchSize, data.size));
      if (dropLast && indices.length < batchSize) break;
      const x = new Float32Array(indices.length * data.features);
      const y = new Float32Array(indices.length * targets);
      indices.forEach((row, i) => {
        x.set(data.x.subarray(row * data.features, (row + 1) * data.features), i * data.features);
        y.set(data.y.subarray(row * targets, (row + 1) * targets), i * targets);
      });
      yield { x, y, size: indices.length, indices };
    }
  }
}
