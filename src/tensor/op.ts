import type { Shape } from '../core/shape.js';
import type { Tensor } from './tensor.js';
import type { Dispatcher, GpuOperand } from '../core/kernel.js';

export interface CpuOperand {
  data: Float64Array;
  shape: Shape;
}

/**
 * One op, defined once: its shape rule, its CPU reference, its GPU dispatch and its VJP.
 * `P` carries the op's static parameters (axes, transpose flags, constants).
 */
export interface OpDef<P> {
  name: string;
  /** Validates the input shapes and returns the output shape; throws an Error naming the op and the shapes. */
  shape(inputs: Shape[], params: P): Shape;
  /** The reference: plain loops, float64 accumulation. */
  cpu(inputs: CpuOperand[], params: P, outShape: Shape): Float64Array;
  gpu(gpu: Dispatcher, inputs: GpuOperand[], params: P, out: GpuOperand): void;
  /**
   * Gradients of the inputs given the gradient of the output, written with ops so that they run on either backend.
   * Returns null for an input that has no gradient. Omitted for ops that are not differentiable.
   */
  vjp?(grad: Tensor, inputs: Tensor[], params: P, output: Tensor): (Tensor | null)[];
}

export function defineOp<P = undefined>(def: OpDef<P>): OpDef<P> {
  return def;
}

/**
 * An op that overwrites some of its inputs instead of making an output (an optimizer's update), so that a
 * parameter keeps its storage, and its identity, across steps. On the GPU it is one ordinary recorded dispatch
 * on existing buffers, so a recorded step can replay it.
 */
export interface InPlaceOpDef<P> {
  name: string;
  /** Validates the operands' shapes; throws an Error naming the op and the shapes. */
  check(inputs: Shape[], params: P): void;
  /** The reference: overwrites the operands it updates, in float64. */
  cpu(inputs: CpuOperand[], params: P): void;
  gpu(gpu: Dispatcher, inputs: GpuOperand[], params: P): void;
}

export function defineInPlaceOp<P>(def: InPlaceOpDef<P>): InPlaceOpDef<P> {
  return def;
}
