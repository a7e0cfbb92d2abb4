export type { Dataset } from './dataset.js';
export { spiral, moons, circles, regressionCurve, type SyntheticOptions } from './synthetic.js';
export { iris } from './iris.js';
export { minibatches, type Minibatch, type MinibatchOptions } from './batches.js';
export {
  mnist,
  encodeDigits,
  splitDigits,
  packDigits,
  unpackDigits,
  digitsToFloat,
  permutation,
  DIGIT_PIXELS,
  type Digits,
  type DigitsSplit,
  type DigitsSplitOptions,
  type MnistOptions,
  type MnistPerDigit,
} from './mnist.js';
export {
  englishWords,
  splitWords,
  wordWindows,
  wordSequences,
  bigramCounts,
  bigramBaseline,
  encodeWord,
  decodeTokens,
  WORD_VOCAB,
  END_TOKEN,
  type Words,
  type WordWindows,
  type WordSequences,
  type WordsSplitOptions,
} from './words.js';
