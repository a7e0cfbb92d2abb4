export type { Dataset } from './dataset.js';
export { spiral, moons, circles, regressionCurve, type SyntheticOptions } from './synthetic.js';
export { iris } from './iris.js';
export { minibatches, type Minibatch, type MinibatchOptions } from './batches.js';
