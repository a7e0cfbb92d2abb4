// The Digits tab's model, numbered as PyTorch's nn.Sequential numbers it (0.*, 3.* the convolutions, 7.* the
// linear layer), so that the saved file loads into the README's snippet as is.
import type { Runtime, Sequential } from '../../src/index.js';

export const CLASSES = 10;

/**
 * The same model as the README's PyTorch snippet: parameters 0.*, 3.* (convolutions) and 7.* (linear). Each
 * conv → relu → maxPool 2 block is one fused `conv2d` (its relu in the kernel's epilogue, the pool in the same
 * pass), which computes exactly what the three separate ops compute, in a third of the passes. The ReLU and
 * MaxPool2d slots that PyTorch's model has after each convolution are identities here, so that the parameters keep
 * PyTorch's numbering.
 */
export function digitsConvNet(rt: Runtime, seed = 1): Sequential {
  rt.nn.manualSeed(seed);
  return rt.nn.sequential([
    rt.nn.conv2d(1, 8, 3, { padding: 1, activation: 'relu', maxPool: 2 }),
    rt.nn.identity(),
    rt.nn.identity(),
    rt.nn.conv2d(8, 16, 3, { padding: 1, activation: 'relu', maxPool: 2 }),
    rt.nn.identity(),
    rt.nn.identity(),
    rt.nn.flatten(),
    rt.nn.linear(16 * 7 * 7, CLASSES),
  ]);
}

/** The predicted class of each row of logits [n, 10]. */
export function argmaxRows(logits: Float32Array): Int32Array {
  const out = new Int32Array(logits.length / CLASSES);
  for (let i = 0; i < out.length; i++)
    for (let c = 1; c < CLASSES; c++) if (logits[i * CLASSES + c] > logits[i * CLASSES + out[i]]) out[i] = c;
  return out;
}

/** One-hot rows [n, 10] for the compiled step's loss. */
export function oneHot(labels: Int32Array): Float32Array {
  const out = new Float32Array(labels.length * CLASSES);
  labels.forEach((c, i) => (out[i * CLASSES + c] = 1));
  return out;
}
