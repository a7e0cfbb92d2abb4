// jax-js (@jax-js/jax) as a peer: the same training steps, written as its users write them (the whole step under
// `jit`, parameters as a pytree, ownership by `.ref`). In Node it runs on Dawn once navigator.gpu is set.
import type * as jaxjs from '@jax-js/jax';
import type { ConvnetConfig, ConvnetData } from './convnet.js';
import type { TransformerConfig, TransformerData } from './transformer.js';

type Jax = typeof jaxjs;

/** Loads jax-js on the WebGPU device `gpu`, or returns undefined (and says why) when it cannot. */
export async function loadJax(gpu: GPU, log: (line: string) => void): Promise<Jax | undefined> {
  try {
    // jax-js finds WebGPU through navigator.gpu; Node has no navigator, and jax-js reads its userAgent too.
    const global = globalThis as { navigator?: { gpu?: GPU; userAgent?: string } };
    const navigator = (global.navigator ??= {});
    if (!navigator.gpu) Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
    if (navigator.userAgent === undefined)
      Object.defineProperty(navigator, 'userAgent', { value: 'node', configurable: true });
    const jax = await import('@jax-js/jax');
    const devices = await jax.init('webgpu');
    if (!devices.includes('webgpu')) throw new Error('no webgpu device');
    jax.defaultDevice('webgpu');
    return jax;
  } catch (e) {
    log(`jax-js WebGPU unavailable: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

export interface MlpData {
  x: Float32Array;
  labels: Float32Array;
  w1: Float32Array;
  w2: Float32Array;
}

/** The MLP step (relu hidden layer, softmax cross-entropy with one-hot labels, SGD) under jit; returns the loss. */
export function jaxMlpStep(
  jax: Jax,
  shape: { batch: number; inputs: number; hidden: number; classes: number },
  data: MlpData,
  lr: number,
) {
  const { numpy: np, nn, tree } = jax;
  type Params = { w1: jaxjs.Array; b1: jaxjs.Array; w2: jaxjs.Array; b2: jaxjs.Array };
  let params: Params = {
    w1: np.array(data.w1).reshape([shape.inputs, shape.hidden]),
    b1: np.zeros([shape.hidden]),
    w2: np.array(data.w2).reshape([shape.hidden, shape.classes]),
    b2: np.zeros([shape.classes]),
  };
  const x = np.array(data.x).reshape([shape.batch, shape.inputs]);
  const y = np.array(data.labels).reshape([shape.batch, shape.classes]);
  const loss = (p: Params, xs: jaxjs.Array, ys: jaxjs.Array) => {
    const hidden = nn.relu(np.matmul(xs, p.w1).add(p.b1));
    const logits = np.matmul(hidden, p.w2).add(p.b2);
    return np.mean(np.sum(ys.mul(nn.logSoftmax(logits, -1)), -1)).mul(-1);
  };
  const step = jax.jit((p: Params, xs: jaxjs.Array, ys: jaxjs.Array) => {
    const [value, grads] = jax.valueAndGrad(loss)(tree.ref(p), xs, ys);
    const updated = tree.map((w: jaxjs.Array, g: jaxjs.Array) => w.sub(g.mul(lr)), p, grads as Params) as Params;
    return [value, updated] as [jaxjs.Array, Params];
  });
  return {
    async step(): Promise<number> {
      const [value, updated] = step(params, x.ref, y.ref) as unknown as [jaxjs.Array, Params];
      params = updated;
      return (await value.data())[0];
    },
    dispose() {
      tree.dispose(params);
      x.dispose();
      y.dispose();
      step.dispose();
    },
  };
}

/**
 * The transformer step of bench/transformer.ts under jit: the model as jax-js users write it (numpy ops on [B·T, C]
 * rows, heads as [B, H, T, Dh] for np.matmul), returning the loss of the weights before the update. Attention is
 * written out (np.matmul, an additive causal mask, nn.softmax) because nn.dotProductAttention needs iterator
 * helpers that Node 20 lacks.
 */
export function jaxTransformerStep(jax: Jax, c: TransformerConfig, data: TransformerData, causalMask: Float32Array) {
  const { numpy: np, nn, tree } = jax;
  type Params = Record<string, jaxjs.Array>;
  const { batch: B, context: T, dModel: C, heads: H, vocab: V } = c;
  const n = B * T;
  let params: Params = {};
  for (const s of data.params) params[s.name] = np.array(s.data).reshape(s.shape);
  const tokens = np.array(data.tokens).reshape([B, T]);
  const labelData = new Float32Array(n * V);
  data.targets.forEach((target, i) => (labelData[i * V + target] = 1));
  const labels = np.array(labelData).reshape([n, V]);
  const mask = np.array(causalMask).reshape([T, T]);
  // Every array argument is consumed by each use: `.ref` for all uses but the last.
  const loss = (p: Params, ids: jaxjs.Array, ys: jaxjs.Array, causal: jaxjs.Array) => {
    const linear = (x: jaxjs.Array, name: string) => np.matmul(x, p[`${name}.w`]).add(p[`${name}.b`]);
    const norm = (x: jaxjs.Array, name: string) => {
      const centered = x.ref.sub(np.mean(x, -1, { keepdims: true }));
      const variance = np.mean(np.square(centered.ref), -1, { keepdims: true });
      return centered
        .div(np.sqrt(variance.add(c.eps)))
        .mul(p[`${name}.g`])
        .add(p[`${name}.b`]);
    };
    const split = (x: jaxjs.Array) => x.reshape([B, T, H, C / H]).transpose([0, 2, 1, 3]);
    const attention = (q: jaxjs.Array, k: jaxjs.Array, v: jaxjs.Array, m: jaxjs.Array) => {
      const scores = np
        .matmul(split(q), split(k).transpose([0, 1, 3, 2]))
        .mul(1 / Math.sqrt(C / H))
        .add(m);
      return np.matmul(nn.softmax(scores, -1), split(v)).transpose([0, 2, 1, 3]).reshape([n, C]);
    };
    let x = np.take(p.wte, ids, 0).add(p.wpe).reshape([n, C]);
    for (let l = 0; l < c.layers; l++) {
      const h = norm(x.ref, `h${l}.ln1`);
      const q = linear(h.ref, `h${l}.q`);
      const k = linear(h.ref, `h${l}.k`);
      const attended = attention(q, k, linear(h, `h${l}.v`), l < c.layers - 1 ? causal.ref : causal);
      x = x.add(linear(attended, `h${l}.o`));
      x = x.ref.add(linear(nn.gelu(linear(norm(x, `h${l}.ln2`), `h${l}.fc1`)), `h${l}.fc2`));
    }
    const logits = linear(norm(x, 'lnf'), 'head');
    return np.mean(np.sum(ys.mul(nn.logSoftmax(logits, -1)), -1)).mul(-1);
  };
  const lr = c.lr;
  const step = jax.jit((p: Params, ids: jaxjs.Array, ys: jaxjs.Array, causal: jaxjs.Array) => {
    const [value, grads] = jax.valueAndGrad(loss)(tree.ref(p), ids, ys, causal);
    const updated = tree.map((w: jaxjs.Array, g: jaxjs.Array) => w.sub(g.mul(lr)), p, grads as Params) as Params;
    return [value, updated] as [jaxjs.Array, Params];
  });
  return {
    async step(): Promise<number> {
      const [value, updated] = step(params, tokens.ref, labels.ref, mask.ref) as unknown as [jaxjs.Array, Params];
      params = updated;
      return (await value.data())[0];
    },
    dispose() {
      tree.dispose(params);
      tokens.dispose();
      labels.dispose();
      mask.dispose();
      step.dispose();
    },
  };
}

/**
 * The ConvNet step of bench/convnet.ts under jit, NCHW as webgrad: lax.convGeneralDilated with the weights in their
 * [O, C, kh, kw] layout, and the 2×2 max pool as a reshape to [N, C, H/2, 2, W/2, 2] and a max over the two window
 * axes (the usual numpy idiom; lax.reduceWindow would do too). Returns the loss of the weights before the update.
 */
export function jaxConvnetStep(jax: Jax, c: ConvnetConfig, data: ConvnetData) {
  const { numpy: np, nn, lax, tree } = jax;
  type Params = Record<string, jaxjs.Array>;
  const N = c.batch;
  let params: Params = {};
  for (const s of data.params) params[s.name] = np.array(s.data).reshape(s.shape);
  const images = np.array(data.images).reshape([N, 1, c.size, c.size]);
  const labelData = new Float32Array(N * c.classes);
  data.labels.forEach((label, i) => (labelData[i * c.classes + label] = 1));
  const labels = np.array(labelData).reshape([N, c.classes]);
  // Every array argument is consumed by each use: `.ref` for all uses but the last.
  const loss = (p: Params, x: jaxjs.Array, ys: jaxjs.Array) => {
    const block = (h: jaxjs.Array, name: string, channels: number, size: number) => {
      const y = lax
        .convGeneralDilated(
          h,
          p[`${name}.w`],
          [1, 1],
          [
            [1, 1],
            [1, 1],
          ],
        )
        .add(p[`${name}.b`].reshape([1, channels, 1, 1]));
      const half = size / 2;
      return np.max(nn.relu(y).reshape([N, channels, half, 2, half, 2]), [3, 5]);
    };
    const h = block(block(x, 'conv1', c.channels[0], c.size), 'conv2', c.channels[1], c.size / 2);
    const logits = np.matmul(h.reshape([N, -1]), p['fc.w']).add(p['fc.b']);
    return np.mean(np.sum(ys.mul(nn.logSoftmax(logits, -1)), -1)).mul(-1);
  };
  const lr = c.lr;
  const step = jax.jit((p: Params, x: jaxjs.Array, ys: jaxjs.Array) => {
    const [value, grads] = jax.valueAndGrad(loss)(tree.ref(p), x, ys);
    const updated = tree.map((w: jaxjs.Array, g: jaxjs.Array) => w.sub(g.mul(lr)), p, grads as Params) as Params;
    return [value, updated] as [jaxjs.Array, Params];
  });
  return {
    async step(): Promise<number> {
      const [value, updated] = step(params, images.ref, labels.ref) as unknown as [jaxjs.Array, Params];
      params = updated;
      return (await value.data())[0];
    },
    dispose() {
      tree.dispose(params);
      images.dispose();
      labels.dispose();
      step.dispose();
    },
  };
}
