// Per-step time of a small causal character transformer's training step (forward, backward, SGD update) four ways:
// webgrad eager, webgrad compiled (rt.compile), TF.js and jax-js (jit), from the same initial weights and the same
// batch, alternated step by step. The losses of all four are printed side by side, with a float64 reference of the
// first one: they train the same model only if they agree.
// Runs in Node (Dawn) and in a page: nothing Node-only is imported.
import type * as tfjs from '@tensorflow/tfjs-core';
import { createRuntime, uniformRandom, type Runtime, type Tensor } from '../src/index.js';
import type { BenchContext, BenchRow } from './types.js';
import {
  describeAdapter,
  median,
  peerRow,
  registerTfjsGradients,
  logLossAgreement,
  tfjsStepCase,
  timeInterleaved,
  WARMUP_STEPS,
  type Case,
  type ParamSpec,
} from './peers.js';
import { jaxTransformerStep } from './jax.js';

export interface TransformerConfig {
  vocab: number;
  context: number;
  dModel: number;
  heads: number;
  /** The MLP's hidden width. */
  hidden: number;
  layers: number;
  batch: number;
  lr: number;
  /** Layer norm's epsilon, the same in every implementation (1e-5, PyTorch's default). */
  eps: number;
}

export const TRANSFORMER: TransformerConfig = {
  vocab: 27,
  context: 32,
  dModel: 64,
  heads: 4,
  hidden: 256,
  layers: 2,
  batch: 16,
  lr: 0.1,
  eps: 1e-5,
};

export interface TransformerData {
  /** In a fixed order; every implementation builds its parameters from this list. */
  params: ParamSpec[];
  /** [batch, context] token ids. */
  tokens: Int32Array;
  /** [batch, context]: the tokens shifted by one, so position t predicts token t + 1. */
  targets: Int32Array;
}

/** The linear layers of one block, each a weight `${name}.w` [in, out] and a bias `${name}.b` [out]. */
const blockLinears = (c: TransformerConfig) => [
  { name: 'q', inputs: c.dModel, outputs: c.dModel },
  { name: 'k', inputs: c.dModel, outputs: c.dModel },
  { name: 'v', inputs: c.dModel, outputs: c.dModel },
  { name: 'o', inputs: c.dModel, outputs: c.dModel },
  { name: 'fc1', inputs: c.dModel, outputs: c.hidden },
  { name: 'fc2', inputs: c.hidden, outputs: c.dModel },
];

/**
 * The initial weights and the batch, from the public seeded generator. Linear weights are uniform with variance
 * 1/(3·fan-in) (±1/√fan-in), embeddings ±0.1; biases start at zero, layer norms at the identity.
 */
export function makeTransformerData(c: TransformerConfig, seed = 7): TransformerData {
  const next = uniformRandom(seed);
  const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => (2 * next() - 1) * scale);
  const params: ParamSpec[] = [];
  const add = (name: string, shape: number[], data: Float32Array) => params.push({ name, shape, data });
  const linear = (name: string, inputs: number, outputs: number) => {
    add(`${name}.w`, [inputs, outputs], uniform(inputs * outputs, 1 / Math.sqrt(inputs)));
    add(`${name}.b`, [outputs], new Float32Array(outputs));
  };
  const norm = (name: string) => {
    add(`${name}.g`, [c.dModel], new Float32Array(c.dModel).fill(1));
    add(`${name}.b`, [c.dModel], new Float32Array(c.dModel));
  };
  add('wte', [c.vocab, c.dModel], uniform(c.vocab * c.dModel, 0.1));
  add('wpe', [c.context, c.dModel], uniform(c.context * c.dModel, 0.1));
  for (let l = 0; l < c.layers; l++) {
    norm(`h${l}.ln1`);
    norm(`h${l}.ln2`);
    for (const { name, inputs, outputs } of blockLinears(c)) linear(`h${l}.${name}`, inputs, outputs);
  }
  norm('lnf');
  linear('head', c.dModel, c.vocab);
  // One sequence of context + 1 tokens per row: inputs are its first `context`, targets its last.
  const tokens = new Int32Array(c.batch * c.context);
  const targets = new Int32Array(c.batch * c.context);
  for (let b = 0; b < c.batch; b++) {
    const sequence = Array.from({ length: c.context + 1 }, () => Math.floor(next() * c.vocab));
    for (let t = 0; t < c.context; t++) {
      tokens[b * c.context + t] = sequence[t];
      targets[b * c.context + t] = sequence[t + 1];
    }
  }
  return { params, tokens, targets };
}

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * The loss of the model in float64 with plain loops: the reference the four implementations' first loss is checked
 * against (they all read the same float32 weights). Rows are positions (b·T + t), columns features.
 */
export function referenceTransformerLoss(c: TransformerConfig, data: TransformerData): number {
  const p = new Map(data.params.map((s) => [s.name, s.data]));
  const get = (name: string) => p.get(name)!;
  const n = c.batch * c.context;
  const linear = (x: Float64Array, inputs: number, outputs: number, name: string) => {
    const w = get(`${name}.w`);
    const bias = get(`${name}.b`);
    const y = new Float64Array(n * outputs);
    for (let r = 0; r < n; r++)
      for (let o = 0; o < outputs; o++) {
        let s = bias[o];
        for (let i = 0; i < inputs; i++) s += x[r * inputs + i] * w[i * outputs + o];
        y[r * outputs + o] = s;
      }
    return y;
  };
  const layerNorm = (x: Float64Array, name: string) => {
    const g = get(`${name}.g`);
    const beta = get(`${name}.b`);
    const d = c.dModel;
    const y = new Float64Array(x.length);
    for (let r = 0; r < n; r++) {
      let mean = 0;
      for (let i = 0; i < d; i++) mean += x[r * d + i];
      mean /= d;
      let variance = 0;
      for (let i = 0; i < d; i++) variance += (x[r * d + i] - mean) ** 2;
      const inv = 1 / Math.sqrt(variance / d + c.eps);
      for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i] - mean) * inv * g[i] + beta[i];
    }
    return y;
  };
  const headDim = c.dModel / c.heads;
  const attention = (q: Float64Array, k: Float64Array, v: Float64Array) => {
    const out = new Float64Array(n * c.dModel);
    const scores = new Float64Array(c.context);
    for (let b = 0; b < c.batch; b++)
      for (let h = 0; h < c.heads; h++)
        for (let i = 0; i < c.context; i++) {
          const qi = (b * c.context + i) * c.dModel + h * headDim;
          let max = -Infinity;
          for (let j = 0; j <= i; j++) {
            const kj = (b * c.context + j) * c.dModel + h * headDim;
            let s = 0;
            for (let e = 0; e < headDim; e++) s += q[qi + e] * k[kj + e];
            scores[j] = s / Math.sqrt(headDim);
            max = Math.max(max, scores[j]);
          }
          let total = 0;
          for (let j = 0; j <= i; j++) total += scores[j] = Math.exp(scores[j] - max);
          for (let j = 0; j <= i; j++) {
            const vj = (b * c.context + j) * c.dModel + h * headDim;
            for (let e = 0; e < headDim; e++) out[qi + e] += (scores[j] / total) * v[vj + e];
          }
        }
    return out;
  };
  const wte = get('wte');
  const wpe = get('wpe');
  let x = new Float64Array(n * c.dModel);
  for (let r = 0; r < n; r++)
    for (let i = 0; i < c.dModel; i++)
      x[r * c.dModel + i] = wte[data.tokens[r] * c.dModel + i] + wpe[(r % c.context) * c.dModel + i];
  for (let l = 0; l < c.layers; l++) {
    const h = layerNorm(x, `h${l}.ln1`);
    const q = linear(h, c.dModel, c.dModel, `h${l}.q`);
    const k = linear(h, c.dModel, c.dModel, `h${l}.k`);
    const v = linear(h, c.dModel, c.dModel, `h${l}.v`);
    const a = linear(attention(q, k, v), c.dModel, c.dModel, `h${l}.o`);
    x = x.map((value, i) => value + a[i]);
    const hidden = linear(layerNorm(x, `h${l}.ln2`), c.dModel, c.hidden, `h${l}.fc1`);
    const activated = hidden.map((u) => 0.5 * u * (1 + Math.tanh(GELU_C * (u + 0.044715 * u ** 3))));
    const m = linear(activated, c.hidden, c.dModel, `h${l}.fc2`);
    x = x.map((value, i) => value + m[i]);
  }
  const logits = linear(layerNorm(x, 'lnf'), c.dModel, c.vocab, 'head');
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const row = logits.subarray(r * c.vocab, (r + 1) * c.vocab);
    const max = Math.max(...row);
    const logTotal = Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0)) + max;
    loss += logTotal - row[data.targets[r]];
  }
  return loss / n;
}

/**
 * The model in webgrad's public ops: gather for the embedding, [B, T, C] activations, heads as [B, H, T, Dh] views
 * for rt.attention. `step(tokens, targets)` runs one training step and returns the loss (of the weights before it).
 */
export function webgradTransformer(rt: Runtime, c: TransformerConfig, data: TransformerData) {
  const p: Record<string, Tensor> = {};
  for (const s of data.params) p[s.name] = rt.keep(rt.tensor(s.data, s.shape, { requiresGrad: true }));
  const params = data.params.map((s) => p[s.name]);
  const opt = rt.optim.sgd({ lr: c.lr });
  const { batch: B, context: T, dModel: C, heads: H } = c;
  // As nn.linear writes it: [B, T, in] viewed as [B·T, in], the bias added in the matmul's epilogue. GELU stays
  // its own op: fused into the epilogue, its backward would recompute the pre-activation with a second matmul.
  const linear = (x: Tensor, name: string) => {
    const w = p[`${name}.w`];
    return rt.reshape(rt.linear(rt.reshape(x, [B * T, w.shape[0]]), w, p[`${name}.b`]), [B, T, w.shape[1]]);
  };
  const norm = (x: Tensor, name: string) => rt.layerNorm(x, p[`${name}.g`], p[`${name}.b`]);
  // [B, T, C] → [B, H, T, Dh] and back.
  const split = (x: Tensor) => rt.permute(rt.reshape(x, [B, T, H, C / H]), [0, 2, 1, 3]);
  const merge = (x: Tensor) => rt.reshape(rt.permute(x, [0, 2, 1, 3]), [B, T, C]);
  const step = async (tokens: Tensor, targets: Tensor) => {
    let x = rt.add(rt.gather(p.wte, tokens), p.wpe);
    for (let l = 0; l < c.layers; l++) {
      const h = norm(x, `h${l}.ln1`);
      const attended = rt.attention(
        split(linear(h, `h${l}.q`)),
        split(linear(h, `h${l}.k`)),
        split(linear(h, `h${l}.v`)),
        { causal: true },
      );
      x = rt.add(x, linear(merge(attended), `h${l}.o`));
      x = rt.add(x, linear(rt.gelu(linear(norm(x, `h${l}.ln2`), `h${l}.fc1`)), `h${l}.fc2`));
    }
    const loss = rt.softmaxCrossEntropy(linear(norm(x, 'lnf'), 'head'), targets);
    opt.step(params, await rt.grad(loss, params));
    return loss;
  };
  return { step, dispose: () => params.forEach((t) => t.dispose()) };
}

/** webgrad, eager or compiled, on its own runtime; `finish` reports the counters per step and frees it. */
async function webgradCase(ctx: BenchContext, c: TransformerConfig, data: TransformerData, compiled: boolean) {
  const rt = await createRuntime({ backend: 'webgpu', gpu: ctx.gpu });
  const model = webgradTransformer(rt, c, data);
  const run = compiled ? rt.compile(model.step) : model.step;
  // Token ids and targets as integer-valued tensors, uploaded once: the batch is the same every step.
  const tokens = rt.tensor(Float32Array.from(data.tokens), [c.batch, c.context]);
  const targets = rt.tensor(Float32Array.from(data.targets), [c.batch, c.context]);
  // A dry run compiles the step's pipelines without dispatching, so the weights stay those of step 0.
  await rt.warmup(() => model.step(tokens, targets));
  const hostTimes: number[] = [];
  const startStats = rt.stats();
  const kase: Case = {
    label: compiled ? 'compiled (rt.compile replay)' : 'eager',
    times: [],
    losses: [],
    loss: NaN,
    step: () =>
      rt.tidy(async () => {
        const started = performance.now();
        const loss = await run(tokens, targets);
        hostTimes.push(performance.now() - started);
        return (await loss.data())[0];
      }),
  };
  const finish = () => {
    try {
      const steps = hostTimes.length;
      const stats = rt.stats();
      return {
        submissions: (stats.submissions - startStats.submissions) / steps,
        dispatches: (stats.dispatches - startStats.dispatches) / steps,
        hostMs: median(hostTimes.slice(WARMUP_STEPS)),
        adapter: describeAdapter(rt),
      };
    } finally {
      model.dispose();
      tokens.dispose();
      targets.dispose();
      rt.destroy();
    }
  };
  return { case: kase, finish };
}

/** An additive causal mask [T, T]: 0 where key ≤ query, a large negative number above the diagonal. */
export function causalMask(context: number): Float32Array {
  const mask = new Float32Array(context * context);
  for (let i = 0; i < context; i++) for (let j = i + 1; j < context; j++) mask[i * context + j] = -1e9;
  return mask;
}

/**
 * TF.js: the same model with tf ops (activations kept as [B·T, C] rows, heads as [B, H, T, Dh] for batched matMul),
 * tf.variableGrads for the gradients, SGD's applyGradients for the update.
 */
async function tfjsCase(ctx: BenchContext, c: TransformerConfig, data: TransformerData) {
  const tf = ctx.tf as typeof tfjs | undefined;
  if (!tf) return null;
  if (!(await registerTfjsGradients(ctx, 'transformer'))) return null;
  const p: Record<string, tfjs.Variable> = {};
  for (const s of data.params) p[s.name] = tf.variable(tf.tensor(s.data, s.shape), true, `transformer.${s.name}`);
  const { batch: B, context: T, dModel: C, heads: H, vocab: V } = c;
  const n = B * T;
  const tokens = tf.tensor2d(data.tokens, [B, T], 'int32');
  const labels = tf.keep(tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(data.targets, 'int32'), V), 'float32')));
  const mask = tf.tensor2d(causalMask(T), [T, T]);
  const opt = tf.train.sgd(c.lr);
  const linear = (x: tfjs.Tensor, name: string) =>
    tf.add(tf.matMul(x as tfjs.Tensor2D, p[`${name}.w`] as tfjs.Tensor2D), p[`${name}.b`]);
  const norm = (x: tfjs.Tensor, name: string) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, c.eps))), p[`${name}.g`]), p[`${name}.b`]);
  };
  const gelu = (x: tfjs.Tensor) =>
    tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), GELU_C))));
  const split = (x: tfjs.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, C / H]), [0, 2, 1, 3]);
  const attention = (q: tfjs.Tensor, k: tfjs.Tensor, v: tfjs.Tensor) => {
    const scores = tf.add(
      tf.mul(tf.matMul(split(q) as tfjs.Tensor4D, split(k) as tfjs.Tensor4D, false, true), 1 / Math.sqrt(C / H)),
      mask,
    );
    const out = tf.matMul(tf.softmax(scores) as tfjs.Tensor4D, split(v) as tfjs.Tensor4D);
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [n, C]);
  };
  const forward = () => {
    let x = tf.reshape(tf.add(tf.gather(p.wte, tokens), p.wpe), [n, C]);
    for (let l = 0; l < c.layers; l++) {
      const h = norm(x, `h${l}.ln1`);
      x = tf.add(x, linear(attention(linear(h, `h${l}.q`), linear(h, `h${l}.k`), linear(h, `h${l}.v`)), `h${l}.o`));
      x = tf.add(x, linear(gelu(linear(norm(x, `h${l}.ln2`), `h${l}.fc1`)), `h${l}.fc2`));
    }
    return tf.losses.softmaxCrossEntropy(labels, linear(norm(x, 'lnf'), 'head')) as tfjs.Scalar;
  };
  return tfjsStepCase(tf, forward, opt, [...Object.values(p), tokens, labels, mask]);
}

/** jax-js: the whole step (value, gradients and the SGD update) under one `jit`. */
function jaxCase(ctx: BenchContext, c: TransformerConfig, data: TransformerData) {
  if (!ctx.jax) return null;
  const model = jaxTransformerStep(ctx.jax as Parameters<typeof jaxTransformerStep>[0], c, data, causalMask(c.context));
  const kase: Case = { label: 'jax-js (jit)', times: [], losses: [], loss: NaN, step: () => model.step() };
  return { case: kase, dispose: () => model.dispose() };
}

export interface TransformerOptions {
  /** Leave webgrad out: only the peers and the reference (to check them while webgrad lacks an op). */
  webgrad?: boolean;
}

export async function transformerCases(ctx: BenchContext, options: TransformerOptions = {}): Promise<BenchRow[]> {
  const c = TRANSFORMER;
  // Short enough for the table's 44-character name column.
  const name = `transformer ${c.layers}L d${c.dModel} ${c.heads}h mlp${c.hidden} B${c.batch} T${c.context} V${c.vocab}`;
  const data = makeTransformerData(c);
  const reference = referenceTransformerLoss(c, data);
  const tf = await tfjsCase(ctx, c, data);
  const jax = jaxCase(ctx, c, data);
  const withWebgrad = options.webgrad ?? true;
  const eager = withWebgrad ? await webgradCase(ctx, c, data, false) : null;
  const compiled = withWebgrad ? await webgradCase(ctx, c, data, true) : null;
  const cases = [tf?.case, jax?.case, eager?.case, compiled?.case].filter((k): k is Case => k !== undefined);
  try {
    await timeInterleaved(ctx.reps, cases);
  } finally {
    tf?.dispose();
    jax?.dispose();
  }
  const worst = logLossAgreement(ctx, 'transformer', cases, reference);
  const tfMs = tf ? median(tf.case.times) : undefined;
  if (tf) ctx.log(`transformer: TF.js ${tfMs!.toFixed(2)} ms/step`);
  const jaxMs = jax ? median(jax.case.times) : undefined;
  if (jax) ctx.log(`transformer: jax-js ${jaxMs!.toFixed(2)} ms/step`);
  const rows: BenchRow[] = [];
  for (const webgrad of [eager, compiled]) {
    if (!webgrad) continue;
    const r = webgrad.finish();
    const k = webgrad.case;
    const ms = median(k.times);
    ctx.log(
      `transformer: webgrad ${k.label} ${ms.toFixed(2)} ms/step, ${r.submissions} submissions, ${r.dispatches} dispatches, JS ${r.hostMs.toFixed(2)} ms`,
    );
    rows.push(
      peerRow(
        'transformer',
        name,
        { label: k.label, ms, loss: k.loss, firstLoss: k.losses[0], ...r },
        { tfjs: tf?.case, jax: jax?.case, reference, lossSpread: worst },
      ),
    );
  }
  // Without webgrad there is no row to carry the peers' figures: one per peer, so the table still shows them.
  if (!withWebgrad) {
    const adapter = 'peers only';
    if (tf)
      rows.push({
        group: 'transformer',
        name,
        adapter,
        kernel: 'TF.js (no webgrad)',
        ms: tfMs!,
        timing: 'wall',
        extra: {
          loss: Number(tf.case.loss.toFixed(6)),
          referenceLoss: Number(reference.toFixed(6)),
          lossSpread: Number(worst.toExponential(2)),
        },
      });
    if (jax)
      rows.push({
        group: 'transformer',
        name,
        adapter,
        kernel: 'jax-js (no webgrad)',
        ms: jaxMs!,
        timing: 'wall',
        extra: {
          loss: Number(jax.case.loss.toFixed(6)),
          referenceLoss: Number(reference.toFixed(6)),
          lossSpread: Number(worst.toExponential(2)),
        },
      });
  }
  return rows;
}
