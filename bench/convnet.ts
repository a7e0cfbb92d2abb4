// Per-step time of a small MNIST-shaped ConvNet's training step (forward, backward, SGD update) four ways: webgrad
// eager, webgrad compiled (rt.compile), TF.js and jax-js (jit), from the same initial weights and the same batch,
// alternated step by step. The losses of all four are printed side by side, with a float64 reference of the first
// one: they train the same model only if they agree. Also one compiled step under rt.profile, per kernel.
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
import { jaxConvnetStep } from './jax.js';

export interface ConvnetConfig {
  batch: number;
  /** The images are 1 × size × size. */
  size: number;
  /** Output channels of the two 3×3 convolutions (padding 1, each followed by relu and a 2×2 max pool). */
  channels: [number, number];
  classes: number;
  lr: number;
}

export const CONVNET: ConvnetConfig = { batch: 32, size: 28, channels: [8, 16], classes: 10, lr: 0.05 };

export interface ConvnetData {
  /** conv1.w [8,1,3,3], conv1.b, conv2.w [16,8,3,3], conv2.b, fc.w [784,10], fc.b, in this order. */
  params: ParamSpec[];
  /** [batch, 1, size, size], NCHW. */
  images: Float32Array;
  /** [batch] class indices. */
  labels: Int32Array;
}

/** The flattened features entering the linear layer: channels × (size/4)². */
const features = (c: ConvnetConfig) => c.channels[1] * (c.size / 4) ** 2;

/**
 * The initial weights and the batch, from the public seeded generator: every parameter, biases included, uniform
 * in ±1/√fan-in as PyTorch initialises Conv2d and Linear; the images uniform in [0, 1), the labels uniform classes.
 */
export function makeConvnetData(c: ConvnetConfig, seed = 10): ConvnetData {
  const next = uniformRandom(seed);
  const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => (2 * next() - 1) * scale);
  const params: ParamSpec[] = [];
  const add = (name: string, shape: number[], fanIn: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    params.push({ name, shape, data: uniform(n, 1 / Math.sqrt(fanIn)) });
  };
  const [c1, c2] = c.channels;
  add('conv1.w', [c1, 1, 3, 3], 9);
  add('conv1.b', [c1], 9);
  add('conv2.w', [c2, c1, 3, 3], c1 * 9);
  add('conv2.b', [c2], c1 * 9);
  add('fc.w', [features(c), c.classes], features(c));
  add('fc.b', [c.classes], features(c));
  const images = Float32Array.from({ length: c.batch * c.size * c.size }, () => next());
  const labels = Int32Array.from({ length: c.batch }, () => Math.floor(next() * c.classes));
  return { params, images, labels };
}

/**
 * The loss of the model in float64 with plain loops (a direct convolution, not an im2col): the reference the four
 * implementations' first loss is checked against. Activations are NCHW, flattened in that order.
 */
export function referenceConvnetLoss(c: ConvnetConfig, data: ConvnetData): number {
  const p = new Map(data.params.map((s) => [s.name, s.data]));
  const N = c.batch;
  // 3×3, padding 1, stride 1, then relu: [N, C, H, H] → [N, O, H, H].
  const convRelu = (x: Float64Array, C: number, H: number, O: number, name: string) => {
    const w = p.get(`${name}.w`)!;
    const b = p.get(`${name}.b`)!;
    const y = new Float64Array(N * O * H * H);
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let i = 0; i < H; i++)
          for (let j = 0; j < H; j++) {
            let s = b[o];
            for (let ch = 0; ch < C; ch++)
              for (let di = 0; di < 3; di++)
                for (let dj = 0; dj < 3; dj++) {
                  const r = i + di - 1;
                  const col = j + dj - 1;
                  if (r < 0 || r >= H || col < 0 || col >= H) continue;
                  s += x[((n * C + ch) * H + r) * H + col] * w[((o * C + ch) * 3 + di) * 3 + dj];
                }
            y[((n * O + o) * H + i) * H + j] = Math.max(s, 0);
          }
    return y;
  };
  // 2×2 max pool, stride 2: [N, C, H, H] → [N, C, H/2, H/2].
  const pool = (x: Float64Array, C: number, H: number) => {
    const h = H / 2;
    const y = new Float64Array(N * C * h * h);
    for (let nc = 0; nc < N * C; nc++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < h; j++) {
          let m = -Infinity;
          for (let di = 0; di < 2; di++)
            for (let dj = 0; dj < 2; dj++) m = Math.max(m, x[(nc * H + 2 * i + di) * H + 2 * j + dj]);
          y[(nc * h + i) * h + j] = m;
        }
    return y;
  };
  const [c1, c2] = c.channels;
  const H = c.size;
  const x = Float64Array.from(data.images);
  const h = pool(convRelu(pool(convRelu(x, 1, H, c1, 'conv1'), c1, H), c1, H / 2, c2, 'conv2'), c2, H / 2);
  const F = features(c);
  const w = p.get('fc.w')!;
  const b = p.get('fc.b')!;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const logits = Array.from({ length: c.classes }, (_, k) => {
      let s = b[k];
      for (let f = 0; f < F; f++) s += h[n * F + f] * w[f * c.classes + k];
      return s;
    });
    const max = Math.max(...logits);
    loss += Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0)) + max - logits[data.labels[n]];
  }
  return loss / N;
}

/**
 * The model in webgrad's public ops. `step(images, labels)` runs one training step and returns the loss. `fused`
 * writes each block as one conv2d with its relu and 2×2 max pool as options (the kernels fuse them); otherwise as
 * three ops, conv2d → relu → maxPool2d. Both compute the same values.
 */
export function webgradConvnet(rt: Runtime, c: ConvnetConfig, data: ConvnetData, fused = true) {
  const p: Record<string, Tensor> = {};
  for (const s of data.params) p[s.name] = rt.keep(rt.tensor(s.data, s.shape, { requiresGrad: true }));
  const params = data.params.map((s) => p[s.name]);
  const opt = rt.optim.sgd({ lr: c.lr });
  const block = (x: Tensor, name: string) =>
    fused
      ? rt.conv2d(x, p[`${name}.w`], p[`${name}.b`], { padding: 1, activation: 'relu', maxPool: 2 })
      : rt.maxPool2d(rt.relu(rt.conv2d(x, p[`${name}.w`], p[`${name}.b`], { padding: 1 })), 2);
  const step = async (images: Tensor, labels: Tensor) => {
    // NCHW flattened as PyTorch's nn.Flatten does: a view, no copy.
    const h = rt.reshape(block(block(images, 'conv1'), 'conv2'), [c.batch, features(c)]);
    const loss = rt.softmaxCrossEntropy(rt.linear(h, p['fc.w'], p['fc.b']), labels);
    opt.step(params, await rt.grad(loss, params));
    return loss;
  };
  return { step, dispose: () => params.forEach((t) => t.dispose()) };
}

export interface KernelShare {
  kernel: string;
  count: number;
  ms: number;
  share: number;
}

/** The profiled kernels summed by name, the most expensive first. */
function kernelTable(kernels: { name: string; ms: number }[]): KernelShare[] {
  const byName = new Map<string, KernelShare>();
  for (const k of kernels) {
    const row = byName.get(k.name) ?? { kernel: k.name, count: 0, ms: 0, share: 0 };
    row.count++;
    row.ms += k.ms;
    byName.set(k.name, row);
  }
  const total = kernels.reduce((s, k) => s + k.ms, 0);
  const rows = [...byName.values()].sort((a, b) => b.ms - a.ms);
  for (const r of rows) r.share = total > 0 ? r.ms / total : 0;
  return rows;
}

/** webgrad, eager or compiled, on its own runtime; `finish` profiles one more step, reports and frees it. */
async function webgradCase(ctx: BenchContext, c: ConvnetConfig, data: ConvnetData, compiled: boolean, fused = true) {
  const rt = await createRuntime({ backend: 'webgpu', gpu: ctx.gpu });
  const model = webgradConvnet(rt, c, data, fused);
  const run = compiled ? rt.compile(model.step) : model.step;
  // Uploaded once: the batch is the same every step (as in the peers).
  const images = rt.tensor(data.images, [c.batch, 1, c.size, c.size]);
  const labels = rt.tensor(Float32Array.from(data.labels), [c.batch]);
  // A dry run compiles the step's pipelines without dispatching, so the weights stay those of step 0.
  await rt.warmup(() => model.step(images, labels));
  const hostTimes: number[] = [];
  const startStats = rt.stats();
  const kase: Case = {
    label: (compiled ? 'compiled (rt.compile replay)' : 'eager') + (fused ? '' : ', separate relu and pool ops'),
    times: [],
    losses: [],
    loss: NaN,
    step: () =>
      rt.tidy(async () => {
        const started = performance.now();
        const loss = await run(images, labels);
        hostTimes.push(performance.now() - started);
        return (await loss.data())[0];
      }),
  };
  const finish = async () => {
    try {
      const steps = hostTimes.length;
      const stats = rt.stats();
      const submissions = (stats.submissions - startStats.submissions) / steps;
      const dispatches = (stats.dispatches - startStats.dispatches) / steps;
      // Three more steps, profiled, after the timed ones so that profiling does not disturb them; the one with the
      // least kernel time is kept, since a shared machine's load only ever adds time.
      let profile: { kernels: { name: string; ms: number }[]; totalMs: number; wallMs: number; timing: string } | null =
        null;
      for (let i = 0; i < 3; i++) {
        const result = await rt.tidy(async () => {
          const r = await rt.profile(() => run(images, labels));
          await r.value.data();
          return { kernels: r.kernels, totalMs: r.totalMs, wallMs: r.wallMs, timing: r.timing };
        });
        if (!profile || result.totalMs < profile.totalMs) profile = result;
      }
      return {
        submissions,
        dispatches,
        hostMs: median(hostTimes.slice(WARMUP_STEPS)),
        profile: profile!,
        adapter: describeAdapter(rt),
      };
    } finally {
      model.dispose();
      images.dispose();
      labels.dispose();
      rt.destroy();
    }
  };
  return { case: kase, finish };
}

/**
 * TF.js: the same model in its own layout (NHWC activations, filters [kh, kw, C, O]), tf.variableGrads for the
 * gradients, SGD's applyGradients for the update. The weights are rearranged once, here, rather than in every step:
 * the filters transposed, and the linear weight's rows permuted from NCHW's (c, h, w) flatten order to NHWC's
 * (h, w, c), so that it computes the same logits as the NCHW models without a transpose per step.
 */
async function tfjsCase(ctx: BenchContext, c: ConvnetConfig, data: ConvnetData) {
  const tf = ctx.tf as typeof tfjs | undefined;
  if (!tf) return null;
  if (!(await registerTfjsGradients(ctx, 'convnet'))) return null;
  const spec = new Map(data.params.map((s) => [s.name, s]));
  // [O, C, kh, kw] → [kh, kw, C, O].
  const filters = (s: ParamSpec) => {
    const [O, C, kh, kw] = s.shape;
    const out = new Float32Array(s.data.length);
    for (let o = 0; o < O; o++)
      for (let ch = 0; ch < C; ch++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) out[((i * kw + j) * C + ch) * O + o] = s.data[((o * C + ch) * kh + i) * kw + j];
    return tf.tensor4d(out, [kh, kw, C, O]);
  };
  // fc.w rows in (c, h, w) order → (h, w, c) order.
  const fcRows = (s: ParamSpec) => {
    const C = c.channels[1];
    const S = c.size / 4;
    const K = c.classes;
    const out = new Float32Array(s.data.length);
    for (let ch = 0; ch < C; ch++)
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++)
          out.set(
            s.data.subarray(((ch * S + i) * S + j) * K, ((ch * S + i) * S + j + 1) * K),
            ((i * S + j) * C + ch) * K,
          );
    return tf.tensor2d(out, s.shape as [number, number]);
  };
  const variable = (name: string, t: tfjs.Tensor) => tf.variable(t, true, `convnet.${name}`);
  const p = {
    w1: variable('conv1.w', filters(spec.get('conv1.w')!)),
    b1: variable('conv1.b', tf.tensor1d(spec.get('conv1.b')!.data)),
    w2: variable('conv2.w', filters(spec.get('conv2.w')!)),
    b2: variable('conv2.b', tf.tensor1d(spec.get('conv2.b')!.data)),
    fw: variable('fc.w', fcRows(spec.get('fc.w')!)),
    fb: variable('fc.b', tf.tensor1d(spec.get('fc.b')!.data)),
  };
  // One input channel: NCHW and NHWC hold the images in the same order.
  const images = tf.tensor4d(data.images, [c.batch, c.size, c.size, 1]);
  const labels = tf.keep(tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(data.labels, 'int32'), c.classes), 'float32')));
  const opt = tf.train.sgd(c.lr);
  // Padding 1 on H and W only, as explicit pairs (TF's 'same' would do the same for 3×3, stride 1).
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];
  const block = (x: tfjs.Tensor4D, w: tfjs.Variable, b: tfjs.Variable): tfjs.Tensor4D => {
    const y = tf.relu(tf.add(tf.conv2d(x, w as tfjs.Tensor4D, 1, padding), b)) as tfjs.Tensor4D;
    return tf.maxPool(y, 2, 2, 'valid');
  };
  const forward = () => {
    const h = tf.reshape(block(block(images, p.w1, p.b1), p.w2, p.b2), [c.batch, features(c)]) as tfjs.Tensor2D;
    const logits = tf.add(tf.matMul(h, p.fw as tfjs.Tensor2D), p.fb);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tfjs.Scalar;
  };
  return tfjsStepCase(tf, forward, opt, [...Object.values(p), images, labels]);
}

/** jax-js: the whole step (value, gradients and the SGD update) under one `jit`. */
function jaxCase(ctx: BenchContext, c: ConvnetConfig, data: ConvnetData) {
  if (!ctx.jax) return null;
  const model = jaxConvnetStep(ctx.jax as Parameters<typeof jaxConvnetStep>[0], c, data);
  const kase: Case = { label: 'jax-js (jit)', times: [], losses: [], loss: NaN, step: () => model.step() };
  return { case: kase, dispose: () => model.dispose() };
}

export async function convnetCases(ctx: BenchContext): Promise<BenchRow[]> {
  const c = CONVNET;
  // Short enough for the table's 44-character name column.
  const name = `convnet 1×${c.size}² c3·${c.channels[0]} c3·${c.channels[1]} fc${c.classes} B${c.batch}`;
  const data = makeConvnetData(c);
  const reference = referenceConvnetLoss(c, data);
  const tf = await tfjsCase(ctx, c, data);
  const jax = jaxCase(ctx, c, data);
  const eager = await webgradCase(ctx, c, data, false);
  const compiled = await webgradCase(ctx, c, data, true);
  const separate = await webgradCase(ctx, c, data, true, false);
  const cases = [tf?.case, jax?.case, eager.case, compiled.case, separate.case].filter(
    (k): k is Case => k !== undefined,
  );
  try {
    await timeInterleaved(ctx.reps, cases);
  } finally {
    tf?.dispose();
    jax?.dispose();
  }
  const worst = logLossAgreement(ctx, 'convnet', cases, reference);
  const tfMs = tf ? median(tf.case.times) : undefined;
  if (tf) ctx.log(`convnet: TF.js ${tfMs!.toFixed(2)} ms/step`);
  const jaxMs = jax ? median(jax.case.times) : undefined;
  if (jax) ctx.log(`convnet: jax-js ${jaxMs!.toFixed(2)} ms/step`);
  const rows: BenchRow[] = [];
  for (const webgrad of [eager, compiled, separate]) {
    const r = await webgrad.finish();
    const k = webgrad.case;
    const ms = median(k.times);
    ctx.log(
      `convnet: webgrad ${k.label} ${ms.toFixed(2)} ms/step, ${r.submissions} submissions, ${r.dispatches} dispatches, JS ${r.hostMs.toFixed(2)} ms`,
    );
    // The per-kernel table of the profiled step, as markdown, ready for bench/NOTES.md.
    ctx.log(
      `convnet: webgrad ${k.label}, least of 3 profiled steps (${r.profile.timing}): kernels ${r.profile.totalMs.toFixed(2)} ms, wall ${r.profile.wallMs.toFixed(2)} ms`,
    );
    ctx.log('| kernel | count | ms | share |');
    ctx.log('|---|---|---|---|');
    for (const row of kernelTable(r.profile.kernels))
      ctx.log(`| \`${row.kernel}\` | ${row.count} | ${row.ms.toFixed(2)} | ${(100 * row.share).toFixed(1)}% |`);
    rows.push(
      peerRow(
        'convnet',
        name,
        { label: k.label, ms, loss: k.loss, firstLoss: k.losses[0], ...r },
        { tfjs: tf?.case, jax: jax?.case, reference, lossSpread: worst },
      ),
    );
  }
  return rows;
}
