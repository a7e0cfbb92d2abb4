import type { Shape } from '../../shape.js';
import type { Shader, UniformValues } from './shader.js';

/** A tensor's buffer as a kernel sees it. */
export interface GpuOperand {
  buffer: GPUBuffer;
  shape: Shape;
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
  maxComputeInvocationsPerWorkgroup: number;
}

/** What an op's GPU implementation sees: record a dispatch, by binding name. */
export interface Dispatcher {
  readonly limits: DeviceLimits;
  readonly features: ReadonlySet<string>;
  dispatch(kernel: Kernel, bindings: Bindings, workgroups: readonly number[], detail?: Record<string, number | boolean | string>): void;
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
