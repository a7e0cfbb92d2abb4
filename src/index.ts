import { Runtime, cpuRuntime, type RuntimeOptions } from './runtime.js';
import { openDevice } from './backend/webgpu/device.js';
import { WebGpuBackend } from './backend/webgpu/backend.js';

/**
 * Creates a runtime on the WebGPU backend (the GPU, with the adapter's full limits) or the CPU reference backend.
 * `gpu` defaults to `navigator.gpu`; in Node pass `create([])` from the `webgpu` package.
 */
export async function createRuntime(options: RuntimeOptions = { backend: 'webgpu' }): Promise<Runtime> {
  if (options.backend === 'cpu') return cpuRuntime();
  if (options.backend !== 'webgpu') {
    throw new Error(`createRuntime: backend must be 'webgpu' or 'cpu', got ${JSON.stringify(options.backend)}`);
  }
  const gpu = options.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
  const opened = await openDevice(gpu);
  return new Runtime(new WebGpuBackend(opened), opened.info);
}

export { Runtime } from './runtime.js';
export { Tensor } from './tensor.js';
export type { RuntimeOptions, RuntimeInfo, TensorOptions } from './runtime.js';
export type { MatmulOptions } from './ops/matmul.js';
export type { MemoryStats, DispatchRecord, DebugOptions } from './backend/backend.js';
// Scheduling: batched submission, compiled steps, profiling, device loss.
export type { SchedulerStats, KernelTime, LostInfo } from './backend/backend.js';
export type { CompiledStep } from './compile.js';
export type { ProfileResult } from './scheduling.js';
export type { GpuInfo, AdapterInfo } from './backend/webgpu/device.js';
// Matmul: the fused linear epilogue and kernel tuning.
// FusedActivation is Activation under its older name.
export type { Activation as FusedActivation, LinearOptions as FusedLinearOptions } from './ops/linear.js';
export type { TuneResult } from './ops/matmul-tune.js';
export type { MatmulShape } from './ops/matmul-plan.js';
export type { Shape } from './shape.js';
// Training: layers, optimizers, data sets, safetensors.
export { Nn, Linear, Mlp, type Activation, type LinearOptions, type Module, type Initializer } from './nn/index.js';
export { initialWeights } from './nn/init.js';
export type { ValueAndGrad } from './nn/functional.js';
export { Optimizer, Sgd, Adam, type SgdOptions, type AdamOptions } from './optim/optimizer.js';
export * as data from './data/index.js';
export type { Dataset, Minibatch, MinibatchOptions } from './data/index.js';
export { encodeSafetensors, decodeSafetensors, type NamedArray, type SafetensorsContents } from './safetensors.js';
