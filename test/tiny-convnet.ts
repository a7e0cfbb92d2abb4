// The small ConvNet of the demo (1×28×28 → conv3×3·8 pad 1 → relu → pool 2 → conv3×3·16 pad 1 → relu → pool 2 →
// linear 10), built from rt.nn modules, the same from a seed on either backend; and seeded images to train it on.
import type { Runtime, Tensor } from '../src/index.js';
import { rng } from './helpers.js';

export const CLASSES = 10;

export function tinyConvNet(rt: Runtime, seed = 1) {
  const conv1 = rt.nn.conv2d(1, 8, 3, { padding: 1, seed });
  const conv2 = rt.nn.conv2d(8, 16, 3, { padding: 1, seed: seed + 1 });
  const pool = rt.nn.maxPool2d(2);
  const flatten = rt.nn.flatten();
  const head = rt.nn.linear(16 * 7 * 7, CLASSES, { seed: seed + 2 });
  const named: Record<string, Tensor> = {};
  for (const [prefix, m] of Object.entries({ conv1, conv2, head }))
    for (const [name, t] of Object.entries(m.namedParams())) named[`${prefix}.${name}`] = t;
  const params = Object.values(named);
  return {
    named,
    params,
    /** x [N, 1, 28, 28] → logits [N, 10]. */
    forward(x: Tensor): Tensor {
      const h1 = pool.forward(rt.relu(conv1.forward(x)));
      const h2 = pool.forward(rt.relu(conv2.forward(h1)));
      return head.forward(flatten.forward(h2));
    },
    loss(x: Tensor, labels: Tensor): Tensor {
      return rt.softmaxCrossEntropy(this.forward(x), labels);
    },
    dispose() {
      [conv1, conv2, head].forEach((m) => m.dispose());
    },
  };
}

/** Seeded images in [0, 1) with a bright stroke whose column is the label, so the net has something to learn. */
export function imageBatch(batch: number, seed: number) {
  const random = rng(seed);
  const images = new Float32Array(batch * 28 * 28);
  const labels = new Float32Array(batch);
  for (let n = 0; n < batch; n++) {
    const label = Math.floor(random() * CLASSES);
    labels[n] = label;
    for (let i = 0; i < 28 * 28; i++) images[n * 784 + i] = 0.2 * random();
    for (let row = 4; row < 24; row++) images[n * 784 + row * 28 + 3 + 2 * label] = 1;
  }
  return { images, labels };
}
