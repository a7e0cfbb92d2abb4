// The activations of the fused matmul epilogue (rt.linear, rt.nn), in one table: the CPU function, how the
// gradient is formed, and the ACTIVATION code of shaders/activation.wgsl, which is generated from it.
import { codesOf, wgslCodes } from '../core/shader.js';
import type { BinaryName } from './elementwise.js';
import { gelu } from './scalar.js';
import activationSource from '../../shaders/activation.wgsl?raw';

interface ActivationRow {
  cpu: (z: number) => number;
  /**
   * G ⊙ act'(Z) as one binary op applied to (G, from), where `from` is the activation's output Y when act' can be
   * written in Y, else its input Z (then recomputed). None for the identity, whose gradient is G itself.
   */
  grad?: { op: BinaryName; from: 'output' | 'input' };
}

// Row order is the ACTIVATION code, and identity must stay code 0: the override's default in every matmul kernel.
const ACTIVATIONS = {
  identity: { cpu: (z) => z },
  relu: { cpu: (z) => Math.max(z, 0), grad: { op: 'reluGrad', from: 'output' } }, // Y > 0 exactly where Z > 0
  tanh: { cpu: Math.tanh, grad: { op: 'tanhGrad', from: 'output' } }, // 1 − Y²
  gelu: { cpu: gelu, grad: { op: 'geluGrad', from: 'input' } }, // GELU is not invertible
} satisfies Record<string, ActivationRow>;

/** An activation as the kernels know it. */
export type ActivationKind = keyof typeof ACTIVATIONS;

/** An activation as the API accepts it: `'none'` is another name for `'identity'` (nn's spelling). */
export type Activation = ActivationKind | 'none';

export const ACTIVATION_CODES = codesOf(ACTIVATIONS);

/** shaders/activation.wgsl with its codes, to append to a matmul kernel's source. */
export const activationWgsl = activationSource + wgslCodes(ACTIVATION_CODES);

export function activationRow(kind: ActivationKind): ActivationRow {
  return ACTIVATIONS[kind];
}

/** The kind an accepted name stands for; throws, naming `op`, for anything else. */
export function resolveActivation(op: string, activation: unknown): ActivationKind {
  if (activation === 'none') return 'identity';
  if (typeof activation === 'string' && Object.hasOwn(ACTIVATIONS, activation)) return activation as ActivationKind;
  const names = Object.keys(ACTIVATIONS).join(', ');
  throw new Error(
    `${op}: activation must be one of ${names} or 'none' (the identity), got ${JSON.stringify(activation)}`,
  );
}
