import { normalRandom, uniformRandom } from '../core/random.js';

/** How a weight matrix [fanOut, fanIn] is drawn. */
export type Initializer = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal';

/**
 * Seeded initial values for a weight with `fanIn` inputs and `fanOut` outputs; the same seed gives the same values.
 * - Glorot (Xavier): variance 2 / (fanIn + fanOut), for tanh and linear layers.
 * - He (Kaiming): variance 2 / fanIn, for ReLU layers, which zero half their inputs.
 */
export function initialWeights(kind: Initializer, fanIn: number, fanOut: number, seed: number): Float32Array {
  if (!Number.isInteger(fanIn) || !Number.isInteger(fanOut) || fanIn < 1 || fanOut < 1) {
    throw new Error(`init ${kind}: fanIn and fanOut must be positive integers, got ${fanIn} and ${fanOut}`);
  }
  const variance = kind.startsWith('glorot') ? 2 / (fanIn + fanOut) : 2 / fanIn;
  const out = new Float32Array(fanIn * fanOut);
  if (kind.endsWith('Uniform')) {
    // U(−a, a) has variance a²/3.
    const limit = Math.sqrt(3 * variance);
    const random = uniformRandom(seed);
    for (let i = 0; i < out.length; i++) out[i] = (2 * random() - 1) * limit;
  } else if (kind.endsWith('Normal')) {
    const std = Math.sqrt(variance);
    const random = normalRandom(seed);
    for (let i = 0; i < out.length; i++) out[i] = random() * std;
  } else {
    throw new Error(`init: unknown initializer '${kind}'; use glorotUniform, glorotNormal, heUniform or heNormal`);
  }
  return out;
}
