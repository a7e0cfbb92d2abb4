// What the step benchmarks share: timing cases alternated step by step, the adapter's name, the agreement of the
// losses, TF.js's gradients, and the rows that compare webgrad with its peers.
import type * as tfjs from '@tensorflow/tfjs-core';
import type { Runtime } from '../src/index.js';
import type { BenchContext, BenchRow } from './types.js';

export const WARMUP_STEPS = 3;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One way of running the step: `step` runs one training step and returns its loss, read back. */
export interface Case {
  label: string;
  step(): Promise<number>;
  times: number[];
  /** Every step's loss, warm-up included, so that the cases can be compared step for step. */
  losses: number[];
  /** The last step's loss. */
  loss: number;
}

/**
 * Warms each case up, then runs them in turn, one step each per round, so that all three see the same machine
 * load (a shared machine's load moves a lot between minutes). Each case's time is the median over the rounds.
 */
export async function timeInterleaved(reps: number, cases: Case[]): Promise<void> {
  for (const c of cases) for (let i = 0; i < WARMUP_STEPS; i++) c.losses.push((c.loss = await c.step()));
  for (let r = 0; r < reps; r++) {
    for (const c of cases) {
      const started = performance.now();
      c.loss = await c.step();
      c.times.push(performance.now() - started);
      c.losses.push(c.loss);
    }
  }
  for (const c of cases)
    if (!Number.isFinite(c.loss)) throw new Error(`bench step (${c.label}): the loss is ${c.loss}`);
}

export function describeAdapter(rt: Runtime): string {
  const { vendor, architecture, description, device } = rt.info.adapter;
  return description || [vendor, architecture, device].filter(Boolean).join(' ') || 'unknown adapter';
}

/** One parameter: its name (the key in every implementation), shape and initial values. */
export interface ParamSpec {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The largest relative difference between any two of the losses (Infinity when one is not finite). */
export function spread(losses: number[]): number {
  const finite = losses.filter(Number.isFinite);
  if (finite.length < losses.length) return Infinity;
  return (Math.max(...finite) - Math.min(...finite)) / Math.abs(Math.min(...finite));
}

/** Losses further apart than this (relative) mean that two implementations do not train the same model. */
export const LOSS_TOLERANCE = 1e-3;

/**
 * Logs the cases' losses side by side (the first step's with the float64 reference, after the warm-up, and at the
 * end), flagging a mismatch; returns the largest spread.
 */
export function logLossAgreement(ctx: BenchContext, group: string, cases: Case[], reference: number): number {
  ctx.log(`${group}: float64 reference loss of the initial weights ${reference.toFixed(6)}`);
  const at = (label: string, index: number) => {
    const values = cases.map((k) => k.losses[index]);
    const worst = spread(index === 0 ? [reference, ...values] : values);
    const row = cases.map((k, i) => `${k.label} ${values[i].toFixed(6)}`).join(', ');
    const flag = worst > LOSS_TOLERANCE ? ' — MISMATCH' : '';
    ctx.log(`${group}: loss ${label}: ${row}; spread ${worst.toExponential(2)}${flag}`);
    return worst;
  };
  const steps = cases[0]?.losses.length ?? 0;
  return Math.max(
    at('at step 0', 0),
    at(`after warm-up (step ${WARMUP_STEPS})`, WARMUP_STEPS),
    at(`at the end (step ${steps - 1})`, steps - 1),
  );
}

/** tfjs-core registers no gradients by itself; variableGrads needs them (a side-effect import, idempotent). */
export async function registerTfjsGradients(ctx: BenchContext, group: string): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
    return true;
  } catch (e) {
    ctx.log(
      `${group}: TF.js gradients could not be registered (${e instanceof Error ? e.message : String(e)}); skipping TF.js`,
    );
    return false;
  }
}

/** A row for one webgrad way of a model step, with TF.js's and jax-js's times and losses beside it. */
export function peerRow(
  group: string,
  name: string,
  webgrad: {
    label: string;
    ms: number;
    loss: number;
    firstLoss: number;
    adapter: string;
    submissions: number;
    dispatches: number;
    hostMs: number;
  },
  peers: { tfjs?: Case; jax?: Case; reference: number; lossSpread: number },
): BenchRow {
  const tfMs = peers.tfjs ? median(peers.tfjs.times) : undefined;
  const jaxMs = peers.jax ? median(peers.jax.times) : undefined;
  return {
    group,
    name,
    adapter: webgrad.adapter,
    kernel: webgrad.label,
    ms: webgrad.ms,
    tfjsMs: tfMs,
    speedup: tfMs !== undefined ? tfMs / webgrad.ms : undefined,
    timing: 'wall',
    extra: {
      submissionsPerStep: webgrad.submissions,
      dispatchesPerStep: webgrad.dispatches,
      hostMs: Number(webgrad.hostMs.toFixed(3)),
      referenceLoss: Number(peers.reference.toFixed(6)),
      firstLoss: Number(webgrad.firstLoss.toFixed(6)),
      loss: Number(webgrad.loss.toFixed(6)),
      lossSpread: Number(peers.lossSpread.toExponential(2)),
      ...(peers.tfjs ? { tfjsLoss: Number(peers.tfjs.loss.toFixed(6)) } : {}),
      ...(peers.jax
        ? {
            jaxMs: Number(jaxMs!.toFixed(3)),
            jaxLoss: Number(peers.jax.loss.toFixed(6)),
            speedupVsJax: Number((jaxMs! / webgrad.ms).toFixed(2)),
          }
        : {}),
    },
  };
}

/**
 * A TF.js training step as a case: tf.variableGrads of `forward`, the optimizer's applyGradients, the loss read
 * back. `dispose` frees the optimizer and `owned` (the variables and the data).
 */
export function tfjsStepCase(
  tf: typeof tfjs,
  forward: () => tfjs.Scalar,
  opt: tfjs.Optimizer,
  owned: tfjs.Tensor[],
): { case: Case; dispose: () => void } {
  const kase: Case = {
    label: 'TF.js',
    times: [],
    losses: [],
    loss: NaN,
    step: async () => {
      const { value, grads } = tf.variableGrads(forward);
      opt.applyGradients(grads);
      tf.dispose(Object.values(grads));
      const loss = (await value.data())[0];
      value.dispose();
      return loss;
    },
  };
  const dispose = () => {
    tf.dispose(owned);
    opt.dispose();
  };
  return { case: kase, dispose };
}
