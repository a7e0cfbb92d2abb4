// jax-js (@jax-js/jax) as a peer: the same training steps, written as its users write them (the whole step under
// `jit`, parameters as a pytree, ownership by `.ref`). In Node it runs on Dawn once navigator.gpu is set.
import type * as jaxjs from '@jax-js/jax';

type Jax = typeof jaxjs;

/** Loads jax-js on the WebGPU device `gpu`, or returns undefined (and says why) when it cannot. */
export async function loadJax(gpu: GPU, log: (line: string) => void): Promise<Jax | undefined> {
  try {
    // jax-js finds WebGPU through navigator.gpu; Node has no navigator, and jax-js reads its userAgent too.
    const global = globalThis as { navigator?: { gpu?: GPU; userAgent?: string } };
    const navigator = (global.navigator ??= {});
    if (!navigator.gpu) Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
    if (navigator.userAgent === undefined) Object.defineProperty(navigator, 'userAgent', { value: 'node', configurable: true });
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
