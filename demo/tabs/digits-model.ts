// The Digits tab's model, numbered as PyTorch's nn.Sequential numbers it (0.*, 3.* the convolutions, 7.* the
// linear layer), so that the saved file loads into the README's snippet as is.
import type { Module, Runtime, Sequential, Tensor } from '../../src/index.js';

export const CLASSES = 10;

/** torch.nn.ReLU: nothing to learn, so no names in the state dict (as in PyTorch). */
class Relu implements Module {
  training = true;
  constructor(private readonly rt: Runtime) {}
  forward(x: Tensor): Tensor {
    return this.rt.relu(x);
  }
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  params(): Tensor[] {
    return [];
  }
  namedParams(): Record<string, Tensor> {
    return {};
  }
  dispose(): void {}
}

/** The same model as the README's PyTorch snippet: parameters 0.*, 3.* (convolutions) and 7.* (linear). */
export function digitsConvNet(rt: Runtime, seed = 1): Sequential {
  rt.nn.manualSeed(seed);
  return rt.nn.sequential([
    rt.nn.conv2d(1, 8, 3, { padding: 1 }),
    new Relu(rt),
    rt.nn.maxPool2d(2),
    rt.nn.conv2d(8, 16, 3, { padding: 1 }),
    new Relu(rt),
    rt.nn.maxPool2d(2),
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
