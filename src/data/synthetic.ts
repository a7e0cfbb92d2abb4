import { normalRandom, uniformRandom } from '../core/random.js';
import type { Dataset } from './dataset.js';

export interface SyntheticOptions {
  /** Points per class (spiral) or in all (the others). */
  points?: number;
  /** Standard deviation of the Gaussian noise. */
  noise?: number;
  seed?: number;
}

function checkCount(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}: the number of points must be a positive integer, got ${n}`);
  return n;
}

/**
 * Interleaved spiral arms, one class per arm (the CS231n set): arm j at angles 4j … 4(j+1) radians,
 * radius 0 … 1, with noise on the angle. Default 100 points per arm, 3 arms, noise 0.2.
 */
export function spiral(options: SyntheticOptions & { classes?: number } = {}): Dataset {
  const perClass = checkCount('spiral', options.points ?? 100);
  const classes = checkCount('spiral', options.classes ?? 3);
  const noise = options.noise ?? 0.2;
  const normal = normalRandom(options.seed ?? 1);
  const size = perClass * classes;
  const x = new Float32Array(size * 2);
  const y = new Float32Array(size);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const row = c * perClass + i;
      const radius = perClass === 1 ? 1 : i / (perClass - 1);
      const angle = c * 4 + (perClass === 1 ? 0 : (4 * i) / (perClass - 1)) + normal() * noise;
      x[row * 2] = radius * Math.sin(angle);
      x[row * 2 + 1] = radius * Math.cos(angle);
      y[row] = c;
    }
  }
  return { name: 'spiral', x, y, size, features: 2, classes };
}

/** Two interleaved half circles (as scikit-learn's make_moons), centred and scaled to about [−1, 1]. Default 200 points, noise 0.1. */
export function moons(options: SyntheticOptions = {}): Dataset {
  const size = checkCount('moons', options.points ?? 200);
  const noise = options.noise ?? 0.1;
  const normal = normalRandom(options.seed ?? 2);
  const x = new Float32Array(size * 2);
  const y = new Float32Array(size);
  const upper = Math.ceil(size / 2);
  for (let i = 0; i < size; i++) {
    const isUpper = i < upper;
    const count = isUpper ? upper : size - upper;
    const k = isUpper ? i : i - upper;
    const t = count === 1 ? 0 : (Math.PI * k) / (count - 1);
    const [px, py] = isUpper ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    x[i * 2] = (px - 0.5 + normal() * noise) / 1.5;
    x[i * 2 + 1] = (py - 0.25 + normal() * noise) / 1.5;
    y[i] = isUpper ? 0 : 1;
  }
  return { name: 'moons', x, y, size, features: 2, classes: 2 };
}

/** A small circle (class 1) inside a large one (class 0). Default 200 points, noise 0.05, inner radius 0.5. */
export function circles(options: SyntheticOptions & { factor?: number } = {}): Dataset {
  const size = checkCount('circles', options.points ?? 200);
  const noise = options.noise ?? 0.05;
  const factor = options.factor ?? 0.5;
  const normal = normalRandom(options.seed ?? 3);
  const x = new Float32Array(size * 2);
  const y = new Float32Array(size);
  const outer = Math.ceil(size / 2);
  for (let i = 0; i < size; i++) {
    const isOuter = i < outer;
    const count = isOuter ? outer : size - outer;
    const t = (2 * Math.PI * (isOuter ? i : i - outer)) / count;
    const r = isOuter ? 1 : factor;
    x[i * 2] = r * Math.cos(t) + normal() * noise;
    x[i * 2 + 1] = r * Math.sin(t) + normal() * noise;
    y[i] = isOuter ? 0 : 1;
  }
  return { name: 'circles', x, y, size, features: 2, classes: 2 };
}

/** A 1-D regression curve, y = sin(2x) + 0.3·x + noise at uniform x in [−2, 2]. Default 200 points, noise 0.1. */
export function regressionCurve(options: SyntheticOptions = {}): Dataset {
  const size = checkCount('regressionCurve', options.points ?? 200);
  const noise = options.noise ?? 0.1;
  const seed = options.seed ?? 4;
  const uniform = uniformRandom(seed);
  const normal = normalRandom(seed + 1);
  const x = new Float32Array(size);
  const y = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = -2 + 4 * uniform();
    x[i] = v;
    y[i] = Math.sin(2 * v) + 0.3 * v + normal() * noise;
  }
  return { name: 'regressionCurve', x, y, size, features: 1, classes: 0 };
}
