// The kernel-authoring API: what an op sees of a backend. An op is defined once (shape rule, float64 CPU
// reference, GPU dispatch); tensor/op.ts adds its VJP.
import type { Shape } from './shape.js';
import type { Shader, UniformValues } from './shader.js';

export interface CpuOperand {
  data: Float64Array;
  shape: Shape;
}

/** A tensor's buffer as a kernel sees it. */
export interface GpuOperand {
  buffer: GPUBuffer;
  shape: Shape;
}

/**
 * An op's forward part, which is all a backend needs: its shape rule, its CPU reference and its GPU dispatch.
 * `P` carries the op's static parameters (axes, transpose flags, constants).
 */
export interface KernelDef<P> {
  name: string;
  /** Validates the input shapes and returns the output shape; throws an Error naming the op and the shapes. */
  shape(inputs: Shape[], params: P): Shape;
  /** The reference: plain loops, float64 accumulation. */
  cpu(inputs: CpuOperand[], params: P, outShape: Shape): Float64Array;
  gpu(gpu: Dispatcher, inputs: GpuOperand[], params: P, out: GpuOperand): void;
}

/**
 * An op that overwrites some of its inputs instead of making an output (an optimizer's update), so that a
 * parameter keeps its storage, and its identity, across steps. On the GPU it is one ordinary recorded dispatch
 * on existing buffers, so a recorded step can replay it.
 */
export interface InPlaceKernelDef<P> {
  name: string;
  /** Validates the operands' shapes; throws an Error naming the op and the shapes. */
  check(inputs: Shape[], params: P): void;
  /** The reference: overwrites the operands it updates, in float64. */
  cpu(inputs: CpuOperand[], params: P): void;
  gpu(gpu: Dispatcher, inputs: GpuOperand[], params: P): void;
}

export function defineInPlaceOp<P>(def: InPlaceKernelDef<P>): InPlaceKernelDef<P> {
  return def;
}

/** A pipeline: a shader entry point with its override constants. */
export interface Kernel {
  /** Encodes the variant, e.g. `matmul_tn`, for traces and profiles. */
  name: string;
  shader: Shader;
  entry?: string;
  constants?: Record<string, number | boolean>;
}

export type Bindings = Record<string, GpuOperand | UniformValues>;

export interface DeviceLimits {
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
}

/** What an op's GPU implementation sees: record a dispatch, by binding name. */
export interface Dispatcher {
  readonly limits: DeviceLimits;
  readonly features: ReadonlySet<string>;
  /** A CPU rasteriser (SwiftShader, llvmpipe): barriers are expensive there, registers cheap. */
  readonly software: boolean;
  dispatch(
    kernel: Kernel,
    bindings: Bindings,
    workgroups: readonly number[],
    detail?: Record<string, number | boolean | string>,
  ): void;
  /**
   * A pooled buffer of at least `elements` floats for the op being run (split-K partial sums, say). It goes back
   * to the pool when the op has recorded its dispatches; later dispatches run after these, so reuse is safe.
   */
  scratch(elements: number): GpuOperand;
  /** State a kernel family keeps per device (tuned plans, say), made by `init` on first use. */
  familyState<T>(family: string, init: () => T): T;
}

/** Invocations per workgroup of every 1-D kernel; WGSL's WORKGROUP_SIZE in shaders/prelude.wgsl. */
export const WORKGROUP_SIZE = 64;

/** The grid of a kernel with one invocation per item: `count` items in WORKGROUP_SIZE-wide workgroups. */
export function elementwiseGrid(count: number): [number, number] {
  return grid1d(Math.ceil(count / WORKGROUP_SIZE));
}

/** Splits a 1-D count of workgroups into (x, y) so that neither passes the per-dimension limit. */
export function grid1d(workgroups: number, maxPerDimension = 65535): [number, number] {
  if (workgroups <= maxPerDimension) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  return [Math.ceil(workgroups / y), y];
}
