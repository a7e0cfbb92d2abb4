// Every op of the op list names the test that checks its gradient against finite differences (or says it has
// none) and the test that checks it on the GPU against the CPU reference. The table is keyed by the op list, so a
// new op without an entry is a type error; each entry must point at a file that really exercises the op.
// Elementwise rows are covered by the tables of gradcheck.test.ts and gpu/ops.test.ts, keyed by their own table.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TensorOps } from '../../src/index.js';
import type { BinaryMethodName, UnaryMethodName } from '../../src/ops/elementwise.js';

interface Coverage {
  /** A file of test/unit with the op's finite-difference checks, or 'no gradient' for ops that have none. */
  gradcheck: string;
  /** A file of test/gpu that runs the op against the CPU reference. */
  gpu: string;
}

type CoveredOp = Exclude<keyof TensorOps, UnaryMethodName | BinaryMethodName>;

const COVERAGE: Record<CoveredOp, Coverage> = {
  matmul: { gradcheck: 'transformer-ops.test.ts', gpu: 'matmul-batched.test.ts' },
  linear: { gradcheck: 'gradcheck.test.ts', gpu: 'linear.test.ts' },
  transpose: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  permute: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  reshape: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  flatten: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  expandDims: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  squeeze: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  broadcastTo: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  where: { gradcheck: 'views-gradcheck.test.ts', gpu: 'views.test.ts' },
  scale: { gradcheck: 'gradcheck.test.ts', gpu: 'ops.test.ts' },
  pow: { gradcheck: 'gradcheck.test.ts', gpu: 'elementwise-ops.test.ts' },
  clamp: { gradcheck: 'gradcheck.test.ts', gpu: 'elementwise-ops.test.ts' },
  leakyRelu: { gradcheck: 'gradcheck.test.ts', gpu: 'elementwise-ops.test.ts' },
  sum: { gradcheck: 'reductions.test.ts', gpu: 'reductions.test.ts' },
  mean: { gradcheck: 'reductions.test.ts', gpu: 'reductions.test.ts' },
  max: { gradcheck: 'reductions.test.ts', gpu: 'reductions.test.ts' },
  min: { gradcheck: 'reductions.test.ts', gpu: 'reductions.test.ts' },
  logSumExp: { gradcheck: 'reductions.test.ts', gpu: 'reductions.test.ts' },
  variance: { gradcheck: 'reductions.test.ts', gpu: 'reductions.test.ts' },
  argmax: { gradcheck: 'no gradient', gpu: 'reductions.test.ts' },
  argmin: { gradcheck: 'no gradient', gpu: 'reductions.test.ts' },
  mseLoss: { gradcheck: 'gradcheck.test.ts', gpu: 'ops.test.ts' },
  softmaxCrossEntropy: { gradcheck: 'transformer-ops.test.ts', gpu: 'transformer-ops.test.ts' },
  softmax: { gradcheck: 'transformer-ops.test.ts', gpu: 'transformer-ops.test.ts' },
  logSoftmax: { gradcheck: 'transformer-ops.test.ts', gpu: 'transformer-ops.test.ts' },
  attention: { gradcheck: 'transformer-ops.test.ts', gpu: 'transformer-ops.test.ts' },
  layerNorm: { gradcheck: 'gradcheck.test.ts', gpu: 'norms.test.ts' },
  rmsNorm: { gradcheck: 'gradcheck.test.ts', gpu: 'norms.test.ts' },
  dropout: { gradcheck: 'gradcheck.test.ts', gpu: 'norms.test.ts' },
  slice: { gradcheck: 'slicing.test.ts', gpu: 'slicing.test.ts' },
  pad: { gradcheck: 'slicing.test.ts', gpu: 'slicing.test.ts' },
  concat: { gradcheck: 'slicing.test.ts', gpu: 'slicing.test.ts' },
  stack: { gradcheck: 'slicing.test.ts', gpu: 'slicing.test.ts' },
  split: { gradcheck: 'slicing.test.ts', gpu: 'slicing.test.ts' },
  gather: { gradcheck: 'slicing.test.ts', gpu: 'slicing.test.ts' },
  conv2d: { gradcheck: 'conv.test.ts', gpu: 'conv.test.ts' },
  conv1d: { gradcheck: 'conv.test.ts', gpu: 'conv.test.ts' },
  maxPool2d: { gradcheck: 'pool.test.ts', gpu: 'pool.test.ts' },
  avgPool2d: { gradcheck: 'pool.test.ts', gpu: 'pool.test.ts' },
  batchNorm2d: { gradcheck: 'batchnorm.test.ts', gpu: 'batchnorm.test.ts' },
};

const testDir = resolve(import.meta.dirname, '..');
const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : null);
// A call `.op(`, or the op's name as a key or a string (for tables of cases).
const mentions = (text: string, op: string) => new RegExp(`\\.${op}\\(|\\b${op}:|'${op}'`).test(text);

describe('every op of the op list is checked', () => {
  for (const [op, { gradcheck, gpu }] of Object.entries(COVERAGE)) {
    it(op, () => {
      if (gradcheck !== 'no gradient') {
        const text = read(resolve(testDir, 'unit', gradcheck));
        expect(text, `test/unit/${gradcheck} exists`).not.toBeNull();
        expect(/gradcheck/.test(text!), `test/unit/${gradcheck} runs finite-difference checks`).toBe(true);
        expect(mentions(text!, op), `test/unit/${gradcheck} exercises ${op}`).toBe(true);
      }
      const text = read(resolve(testDir, 'gpu', gpu));
      expect(text, `test/gpu/${gpu} exists`).not.toBeNull();
      expect(mentions(text!, op), `test/gpu/${gpu} exercises ${op}`).toBe(true);
    });
  }
});
