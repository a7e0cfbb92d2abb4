// Per-step time of an MLP training step (forward, backward, SGD update) three ways: webgrad eager, webgrad
// compiled (rt.compile: recorded once, replayed), and TF.js (tf.variableGrads + SGD), in the same process, from the
// same initial weights and data. Also the submissions, allocations and dispatches per step.
// Runs in Node (Dawn) and in a page: nothing Node-only is imported.
import type * as tfjs from '@tensorflow/tfjs-core';
import { createRuntime, uniformRandom, type Runtime, type Tensor } from '../src/index.js';
import type { BenchContext, BenchRow } from './types.js';
import {
  describeAdapter,
  median,
  registerTfjsGradients,
  tfjsStepCase,
  timeInterleaved,
  WARMUP_STEPS,
  type Case,
} from './peers.js';
import { jaxMlpStep } from './jax.js';

const LEARNING_RATE = 0.01;

interface Shape {
  batch: number;
  inputs: number;
  hidden: number;
  classes: number;
}

function makeData({ batch, inputs, hidden, classes }: Shape) {
  const next = uniformRandom(1);
  const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => (2 * next() - 1) * scale);
  const labels = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) labels[i * classes + Math.floor(next() * classes)] = 1;
  return {
    x: uniform(batch * inputs, 1),
    labels,
    // Weights stored [in, out] for both libraries, Glorot-uniform scale.
    w1: uniform(inputs * hidden, Math.sqrt(6 / (inputs + hidden))),
    w2: uniform(hidden * classes, Math.sqrt(6 / (hidden + classes))),
  };
}

type Data = ReturnType<typeof makeData>;

function webgradModel(rt: Runtime, shape: Shape, data: Data) {
  const w1 = rt.keep(rt.tensor(data.w1, [shape.inputs, shape.hidden], { requiresGrad: true }));
  const b1 = rt.keep(rt.zeros([shape.hidden], { requiresGrad: true }));
  const w2 = rt.keep(rt.tensor(data.w2, [shape.hidden, shape.classes], { requiresGrad: true }));
  const b2 = rt.keep(rt.zeros([shape.classes], { requiresGrad: true }));
  const params = [w1, b1, w2, b2];
  const opt = rt.optim.sgd({ lr: LEARNING_RATE });
  const step = async (x: Tensor, y: Tensor) => {
    // rt.linear, as rt.nn.linear writes a layer: the bias and the ReLU in the product's epilogue.
    const hiddenOut = rt.linear(x, w1, b1, 'relu');
    const loss = rt.softmaxCrossEntropy(rt.linear(hiddenOut, w2, b2), y);
    opt.step(params, await rt.grad(loss, params));
    return loss;
  };
  return { step, dispose: () => params.forEach((p) => p.dispose()) };
}

/** webgrad, eager or compiled, on its own runtime; `finish` reports the counters per step and frees it. */
async function webgradCase(ctx: BenchContext, shape: Shape, data: Data, compiled: boolean) {
  const rt = await createRuntime({ backend: 'webgpu', gpu: ctx.gpu });
  const model = webgradModel(rt, shape, data);
  const run = compiled ? rt.compile(model.step) : model.step;
  const x = rt.tensor(data.x, [shape.batch, shape.inputs]);
  const y = rt.tensor(data.labels, [shape.batch, shape.classes]);
  await rt.warmup(() => model.step(x, y));
  // JavaScript time to record (eager) or replay (compiled) one step, before its loss is read.
  const hostTimes: number[] = [];
  const startStats = rt.stats();
  const startMemory = rt.memory();
  const c: Case = {
    label: compiled ? 'compiled (rt.compile replay)' : 'eager',
    times: [],
    losses: [],
    loss: NaN,
    step: () =>
      rt.tidy(async () => {
        const started = performance.now();
        const loss = await run(x, y);
        hostTimes.push(performance.now() - started);
        return (await loss.data())[0];
      }),
  };
  const finish = async () => {
    try {
      const steps = hostTimes.length;
      const stats = rt.stats();
      const memory = rt.memory();
      // One more step, alone: a steady step allocates nothing.
      await c.step();
      const steadyAllocations = rt.stats().allocations - stats.allocations;
      const profile = await rt.profile(() => run(x, y));
      profile.value.dispose();
      return {
        submissions: (stats.submissions - startStats.submissions) / steps,
        dispatches: (stats.dispatches - startStats.dispatches) / steps,
        steadyAllocations,
        hostMs: median(hostTimes.slice(WARMUP_STEPS)),
        kernelMs: profile.totalMs,
        timing: profile.timing,
        // Where the time goes, heaviest first: "kernel [shapes] ms".
        kernels: [...profile.kernels]
          .sort((x, y) => y.ms - x.ms)
          .map((k) => `${k.name} ${k.shape} ${k.ms.toFixed(2)}`)
          .join('; '),
        flat: memory.liveBytes === startMemory.liveBytes && memory.liveTensors === startMemory.liveTensors,
        adapter: describeAdapter(rt),
      };
    } finally {
      model.dispose();
      rt.destroy();
    }
  };
  return { case: c, finish };
}

/** TF.js: tf.variableGrads for the loss, then SGD's applyGradients; the loss read back each step. */
async function tfjsCase(ctx: BenchContext, shape: Shape, data: Data) {
  const tf = ctx.tf as typeof tfjs | undefined;
  if (!tf) return null;
  if (!(await registerTfjsGradients(ctx, 'step'))) return null;
  const w1 = tf.variable(tf.tensor2d(data.w1, [shape.inputs, shape.hidden]));
  const b1 = tf.variable(tf.zeros([shape.hidden]));
  const w2 = tf.variable(tf.tensor2d(data.w2, [shape.hidden, shape.classes]));
  const b2 = tf.variable(tf.zeros([shape.classes]));
  const x = tf.tensor2d(data.x, [shape.batch, shape.inputs]);
  const y = tf.tensor2d(data.labels, [shape.batch, shape.classes]);
  const forward = () => {
    const hidden = tf.relu(tf.add(tf.matMul(x, w1), b1));
    return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(hidden, w2), b2)) as tfjs.Scalar;
  };
  return tfjsStepCase(tf, forward, tf.train.sgd(LEARNING_RATE), [w1, b1, w2, b2, x, y]);
}

/** jax-js: the whole step (value, gradients and the SGD update) under one `jit`. */
function jaxCase(ctx: BenchContext, shape: Shape, data: Data) {
  if (!ctx.jax) return null;
  const model = jaxMlpStep(ctx.jax as Parameters<typeof jaxMlpStep>[0], shape, data, LEARNING_RATE);
  const c: Case = { label: 'jax-js (jit)', times: [], losses: [], loss: NaN, step: () => model.step() };
  return { case: c, dispose: () => model.dispose() };
}

export async function stepCases(ctx: BenchContext): Promise<BenchRow[]> {
  const shape: Shape = ctx.small
    ? { batch: 128, inputs: 784, hidden: 256, classes: 10 }
    : { batch: 1024, inputs: 784, hidden: 2048, classes: 10 };
  const name = `MLP step ${shape.batch}×${shape.inputs}→${shape.hidden}→${shape.classes}, SGD`;
  const data = makeData(shape);
  const tf = await tfjsCase(ctx, shape, data);
  const jax = jaxCase(ctx, shape, data);
  const eager = await webgradCase(ctx, shape, data, false);
  const compiled = await webgradCase(ctx, shape, data, true);
  try {
    await timeInterleaved(ctx.reps, [...(tf ? [tf.case] : []), ...(jax ? [jax.case] : []), eager.case, compiled.case]);
  } finally {
    tf?.dispose();
    jax?.dispose();
  }
  const tfMs = tf ? median(tf.case.times) : undefined;
  if (tf) ctx.log(`step: TF.js ${tfMs!.toFixed(2)} ms/step (loss ${tf.case.loss.toFixed(4)})`);
  const jaxMs = jax ? median(jax.case.times) : undefined;
  if (jax) ctx.log(`step: jax-js ${jaxMs!.toFixed(2)} ms/step (loss ${jax.case.loss.toFixed(4)})`);
  const rows: BenchRow[] = [];
  for (const { case: c, finish } of [eager, compiled]) {
    const r = await finish();
    const ms = median(c.times);
    ctx.log(
      `step: webgrad ${c.label} ${ms.toFixed(2)} ms/step, ${r.submissions} submissions, ${r.steadyAllocations} allocations ` +
        `in a steady step, ${r.dispatches} dispatches, JS ${r.hostMs.toFixed(2)} ms, GPU kernels ${r.kernelMs.toFixed(2)} ms (${r.timing}), loss ${c.loss.toFixed(4)}`,
    );
    ctx.log(`step: webgrad ${c.label}, kernels: ${r.kernels}`);
    rows.push({
      group: 'step',
      name,
      adapter: r.adapter,
      kernel: c.label,
      ms,
      tfjsMs: tfMs,
      speedup: tfMs !== undefined ? tfMs / ms : undefined,
      timing: 'wall',
      extra: {
        submissionsPerStep: r.submissions,
        allocationsPerSteadyStep: r.steadyAllocations,
        dispatchesPerStep: r.dispatches,
        hostMs: Number(r.hostMs.toFixed(3)),
        gpuKernelMs: Number(r.kernelMs.toFixed(3)),
        gpuKernelTiming: r.timing,
        memoryFlat: r.flat ? 'yes' : 'no',
        loss: Number(c.loss.toFixed(5)),
        ...(tf ? { tfjsLoss: Number(tf.case.loss.toFixed(5)) } : {}),
        ...(jax
          ? {
              jaxMs: Number(jaxMs!.toFixed(3)),
              jaxLoss: Number(jax.case.loss.toFixed(5)),
              speedupVsJax: Number((jaxMs! / ms).toFixed(2)),
            }
          : {}),
      },
    });
  }
  return rows;
}
