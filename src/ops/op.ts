import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Dispatcher, GpuOperand } from '../backend/webgpu/dispatcher.js';

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
