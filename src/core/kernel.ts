import type { Shape } from './shape.js';
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

/** Splits a 1-D count of workgroups into (x, y) so that neither passes the per-dimension limit. */
export function grid1d(workgroups: number, maxPerDimension = 65535): [number, number] {
  if (workgroups <= maxPerDimension) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  return [Math.ceil(workgroups / y), y];
}
