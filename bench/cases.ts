// The case groups the harness runs, in Node and in a page alike.
import { createRuntime } from '../src/index.js';
import type { BenchContext, BenchRow } from './types.js';
import { matmulCases } from './matmul.js';
import { stepCases } from './step.js';
import { convnetCases } from './convnet.js';
import { transformerCases } from './transformer.js';
import { tuneCases } from './matmul-variants.js';
import { checkCases } from './matmul-check.js';

export type Group = 'matmul' | 'step' | 'transformer' | 'convnet' | 'tune' | 'check';
/** What a run without --groups runs. */
export const GROUPS: Group[] = ['matmul', 'step', 'transformer', 'convnet'];
/** Also `tune` (rt.tune() on the issue-12 shapes) and `check` (every matmul variant against the reference). */
export const ALL_GROUPS: Group[] = [...GROUPS, 'tune', 'check'];

export interface RunOptions {
  groups: Group[];
  /** Square sizes for the matmul group, instead of the adapter's default list. */
  sizes?: number[];
  /** false: the transformer group runs only its peers (TF.js, jax-js) and the float64 reference. */
  webgrad?: boolean;
  /** The matmul group also times each case under every kernel variant (bench/matmul-variants.ts). */
  variants?: boolean;
  /** The matmul group keeps only the cases whose name matches this regular expression. */
  match?: string;
}

export async function runCases(ctx: BenchContext, options: RunOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const group of options.groups) {
    ctx.log(`-- ${group}`);
    if (group === 'matmul') rows.push(...(await matmulCases(ctx, options)));
    else if (group === 'tune') rows.push(...(await tuneCases(ctx)));
    else if (group === 'check') rows.push(...(await checkCases(ctx)));
    else if (group === 'step') rows.push(...(await stepCases(ctx)));
    else if (group === 'transformer') rows.push(...(await transformerCases(ctx, { webgrad: options.webgrad })));
    else rows.push(...(await convnetCases(ctx)));
  }
  return rows;
}

/** Loads tfjs-core with the WebGPU backend set, or returns undefined (and says why) when it cannot. */
export async function loadTfjs(log: (line: string) => void): Promise<unknown> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend(webgpu) returned false');
    await tf.ready();
    return tf;
  } catch (e) {
    log(`TF.js WebGPU backend unavailable: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/**
 * The adapter's name, and whether it is a CPU rasteriser (SwiftShader and the like), which gets the scaled-down
 * sizes. The runtime decides that once for everyone; its device is released before the cases open their own.
 */
export async function probeAdapter(gpu: GPU): Promise<{ software: boolean; adapter: string }> {
  const rt = await createRuntime({ backend: 'webgpu', gpu });
  try {
    const { adapter } = rt.info;
    const name = `${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim();
    return { software: rt.info.software, adapter: name || 'none' };
  } finally {
    rt.destroy();
  }
}
