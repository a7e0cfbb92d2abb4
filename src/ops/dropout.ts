// Dropout with a counter-based mask that the CPU reference and the GPU compute bit for bit alike, and a generator
// state on the device so that a compiled step's replays draw fresh masks.
import { apply, checkTensors, defineOp, type Context, type OpDef, type Tensor } from '../tensor/tensor.js';
import { defineInPlaceOp, elementwiseGrid, type Bindings } from '../core/kernel.js';
import { formatShape, sizeOf } from '../core/shape.js';
import { Shader } from '../core/shader.js';
import dropoutSource from '../../shaders/dropout.wgsl?raw';

const dropoutShader = new Shader('dropout', dropoutSource);

export interface DropoutOptions {
  /** A fixed mask: the same on every call and on both backends. Default: the runtime's generator. */
  seed?: number;
  /** False makes dropout the identity (evaluation); default true. */
  training?: boolean;
}

interface DropoutParams {
  p: number;
  /** The explicit seed, or null when the key is an input tensor (a snapshot of the runtime's generator). */
  seed: number | null;
}

function mix32(v0: number): number {
  let v = v0 >>> 0;
  v = (v ^ (v >>> 16)) >>> 0;
  v = Math.imul(v, 0x21f0aaad) >>> 0;
  v = (v ^ (v >>> 15)) >>> 0;
  v = Math.imul(v, 0x735a2d97) >>> 0;
  v = (v ^ (v >>> 15)) >>> 0;
  return v;
}

/** The u32 that decides element i of the call keyed by (seed, counter); shaders/dropout.wgsl has its twin. */
export function maskBits(seed: number, counter: number, i: number): number {
  const callKey = mix32(mix32((seed ^ 0x9e3779b9) >>> 0) ^ counter);
  return mix32(callKey ^ Math.imul(i, 0x85ebca6b));
}

/** Elements whose bits fall below this are dropped: p·2³², so that P(drop) = p to within 2⁻³². */
function threshold(p: number): number {
  return Math.min(Math.floor(p * 2 ** 32), 2 ** 32 - 1);
}

function keyOf(values: Float64Array): [number, number] {
  return [(values[0] + values[1] * 65536) >>> 0, (values[2] + values[3] * 65536) >>> 0];
}

/** Four floats that hold a u32 pair exactly in float32: low and high 16 bits of the seed, then of the counter. */
export function keyValues(seed: number, counter = 0): number[] {
  return [seed & 0xffff, seed >>> 16, counter & 0xffff, counter >>> 16];
}

export const dropoutOp: OpDef<DropoutParams> = defineOp<DropoutParams>({
  name: 'dropout',
  shape(inputs, { seed }) {
    if (seed === null && (inputs.length !== 2 || sizeOf(inputs[1]) !== 4)) {
      throw new Error(`dropout: the generator key must be [4], got ${inputs[1] ? formatShape(inputs[1]) : 'none'}`);
    }
    return inputs[0];
  },
  cpu(inputs, { p, seed }) {
    const [x] = inputs;
    const [keySeed, counter] = seed === null ? keyOf(inputs[1].data) : [seed >>> 0, 0];
    const limit = threshold(p);
    const scale = 1 / (1 - p);
    return x.data.map((v, i) => (maskBits(keySeed, counter, i) >= limit ? v * scale : 0));
  },
  gpu(gpu, inputs, { p, seed }, out) {
    const [x] = inputs;
    const size = sizeOf(x.shape);
    const params = { size, seed: (seed ?? 0) >>> 0, counter: 0, threshold: threshold(p), scale: 1 / (1 - p) };
    const entry = seed === null ? 'keyed' : 'seeded';
    const bindings: Bindings = seed === null ? { x, key: inputs[1], out, params } : { x, out, params };
    gpu.dispatch({ name: `dropout_${entry}`, shader: dropoutShader, entry }, bindings, elementwiseGrid(size));
  },
  // The same mask on the gradient: the key is an input, kept by the tape until the backward pass.
  vjp: (g, inputs, params) => [apply(g.owner, dropoutOp, [g, ...inputs.slice(1)], params), null],
});

/** A copy of the generator state, taken before it advances: the key of one dropout call. */
const snapshotOp = defineOp<undefined>({
  name: 'dropoutKey',
  shape: () => [4],
  cpu: ([state]) => Float64Array.from(state.data),
  gpu(gpu, [state], _p, out) {
    gpu.dispatch({ name: 'dropout_snapshot', shader: dropoutShader, entry: 'snapshot' }, { state, out }, [1]);
  },
});

/** Counter += 1 in the generator state, in place: a recorded dispatch, so that replays advance it too. */
const advanceOp = defineInPlaceOp<undefined>({
  name: 'dropoutAdvance',
  check([state]) {
    if (sizeOf(state) !== 4)
      throw new Error(`dropoutAdvance: the generator state must be [4], got ${formatShape(state)}`);
  },
  cpu([state]) {
    state.data[2] += 1;
    if (state.data[2] >= 65536) {
      state.data[2] = 0;
      state.data[3] = state.data[3] >= 65535 ? 0 : state.data[3] + 1;
    }
  },
  gpu(gpu, [counter]) {
    gpu.dispatch({ name: 'dropout_advance', shader: dropoutShader, entry: 'advance' }, { counter }, [1]);
  },
});

/** The runtime's generator state [4], made on first use from its seed and kept outside every `tidy`. */
function generatorState(owner: Context): Tensor {
  const generator = owner.familyState('dropout', () => ({ state: null as Tensor | null }));
  if (!generator.state || generator.state.disposed) {
    generator.state = owner.keep(owner.tensor(keyValues((owner.seed ?? 0) >>> 0), [4]));
  }
  return generator.state;
}

/** The next key of the runtime's generator, advancing it. */
function nextKey(owner: Context): Tensor {
  const state = generatorState(owner);
  const key = owner.noGrad(() => apply(owner, snapshotOp, [state], undefined));
  checkTensors(advanceOp.name, owner, [state]);
  owner.backend.runInPlace(advanceOp, [{ storage: state.live(advanceOp.name), shape: state.shape }], undefined);
  return key;
}

export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p < 1))
    throw new Error(`dropout: p must be in [0, 1), got ${String(p)} for x ${formatShape(x.shape)}`);
  const { seed, training = true } = options;
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)) {
    throw new Error(`dropout: seed must be an integer in [0, 2³²), got ${String(seed)}`);
  }
  if (p === 0 || !training) return x;
  if (seed !== undefined) return apply(x.owner, dropoutOp, [x], { p, seed });
  const key = nextKey(x.owner);
  const y = apply(x.owner, dropoutOp, [x, key], { p, seed: null });
  // The tape keeps the key alive for the backward pass; the handle itself is not the caller's.
  key.dispose();
  return y;
}
