import { Runtime, cpuRuntime, type RuntimeOptions } from './runtime/runtime.js';
import { openDevice } from './backend/webgpu/device.js';
import { WebGpuBackend } from './backend/webgpu/backend.js';

/**
 * Creates a runtime on the WebGPU backend (the GPU, with the adapter's full limits) or the CPU reference backend.
 * `gpu` defaults to `navigator.gpu`; in Node pass `create([])` from the `webgpu` package.
 */
export async function createRuntime(options: RuntimeOptions = { backend: 'webgpu' }): Promise<Runtime> {
  if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0 || options.seed >= 2 ** 32)) {
    throw new Error(`createRuntime: seed must be an integer in [0, 2³²), got ${String(options.seed)}`);
  }
  if (options.backend === 'cpu') {
    const cpu = cpuRuntime();
    cpu.seed = options.seed ?? 0;
    return cpu;
  }
  if (options.backend !== 'webgpu') {
    throw new Error(`createRuntime: backend must be 'webgpu' or 'cpu', got ${JSON.stringify(options.backend)}`);
  }
  const gpu = options.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
  const opened = await openDevice(gpu);
  const rt = new Runtime(
    new WebGpuBackend(opened, { timing: options.timing, pacedWaits: options.pacedWaits }),
    opened.info,
  );
  rt.matmulPlan = options.matmulPlan ?? null;
  rt.seed = options.seed ?? 0;
  return rt;
}

export { Runtime } from './runtime/runtime.js';
// Gradients on this runtime against the float64 CPU reference, per parameter, within the K-scaled float32 bound.
export {
  checkGradients,
  estimateReduction,
  type GradientCheck,
  type GradientCheckLoss,
  type GradientCheckLossResult,
  type GradientCheckOptions,
  type GradientCheckParams,
  type ParameterGradientCheck,
} from './runtime/check-gradients.js';
export { Tensor } from './tensor/tensor.js';
export type { RuntimeOptions, RuntimeInfo, TensorOptions } from './runtime/runtime.js';
export type { MatmulOptions } from './ops/matmul.js';
export type { AttentionOptions } from './ops/attention.js';
export type { ClassLabels, Reduction, SoftmaxCrossEntropyOptions } from './ops/loss.js';
export type { LayerNormOptions, RmsNormOptions } from './ops/norm.js';
export type { DropoutOptions } from './ops/dropout.js';
export type { Pool2dOptions, Pool2dSize } from './ops/pool.js';
export type { BatchNorm2dOptions } from './ops/batchnorm.js';
export type { MemoryStats, DispatchRecord, DebugOptions } from './core/backend.js';
// Scheduling: batched submission, compiled steps, profiling, device loss.
export type { SchedulerStats, KernelTime, LostInfo } from './core/backend.js';
export type { CompiledStep, CompileOptions } from './runtime/compile.js';
export type { ProfileResult } from './runtime/profile.js';
export type { GpuInfo, AdapterInfo } from './backend/webgpu/device.js';
// Matmul: the fused linear epilogue and kernel tuning.
// FusedActivation is Activation under its older name.
export type { Activation as FusedActivation, LinearOptions as FusedLinearOptions } from './ops/linear.js';
export type { TuneResult } from './runtime/tune.js';
export type { TensorOps, TensorMethods } from './ops/index.js';
export type { Indices } from './ops/gather.js';
export type { MatmulShape, MatmulPlan, MatmulVariant } from './ops/matmul-plan.js';
export type { Shape } from './core/shape.js';
export type { TensorData, NumericArray } from './core/tensor-data.js';
// Seeded generators, as the initialisers and data sets use them.
export { uniformRandom, normalRandom } from './core/random.js';
// Training: layers, optimizers, data sets, safetensors.
export { Nn, Linear, Mlp, type Activation, type LinearOptions, type Module, type Initializer } from './nn/index.js';
export {
  LayerNorm,
  RmsNorm,
  Dropout,
  Sequential,
  type LayerNormModuleOptions,
  type RmsNormModuleOptions,
} from './nn/index.js';
export {
  Embedding,
  MultiHeadAttention,
  TransformerBlock,
  type EmbeddingOptions,
  type MultiHeadAttentionOptions,
  type TransformerBlockOptions,
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  BatchNorm2d,
  Flatten,
  Identity,
  type Conv2dModuleOptions,
  type Conv2dSize,
  type BatchNorm2dModuleOptions,
  type LoadStateDictOptions,
} from './nn/index.js';
export { initialWeights } from './nn/init.js';
export type { ValueAndGrad } from './nn/functional.js';
export { Optimizer, Sgd, Adam, type SgdOptions, type AdamOptions } from './optim/optimizer.js';
export * as data from './data/index.js';
export type {
  Dataset,
  Minibatch,
  MinibatchOptions,
  Digits,
  DigitsSplit,
  Words,
  WordWindows,
  WordSequences,
} from './data/index.js';
export { encodeSafetensors, decodeSafetensors, type NamedArray, type SafetensorsContents } from './io/safetensors.js';
