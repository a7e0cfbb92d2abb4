import type { KernelDef } from '../core/kernel.js';
import type { Tensor } from './tensor.js';

/** One op, defined once: its shape rule, its CPU reference, its GPU dispatch and its VJP. */
export interface OpDef<P> extends KernelDef<P> {
  /**
   * Gradients of the inputs given the gradient of the output, written with ops so that they run on either backend.
   * Returns null for an input that has no gradient. Omitted for ops that are not differentiable.
   */
  vjp?(grad: Tensor, inputs: Tensor[], params: P, output: Tensor): (Tensor | null)[];
}

export function defineOp<P = undefined>(def: OpDef<P>): OpDef<P> {
  return def;
}
