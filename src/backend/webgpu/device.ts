import type { DeviceLimits } from '../../core/kernel.js';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface GpuInfo {
  backend: 'webgpu';
  adapter: AdapterInfo;
  limits: DeviceLimits & Record<string, number>;
  features: string[];
  /** A CPU rasteriser (SwiftShader, llvmpipe, WARP): kernels are chosen differently there. */
  software: boolean;
}

/** Decided once, here, from what the adapter says of itself. */
function isSoftwareAdapter(adapter: AdapterInfo): boolean {
  return /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i.test(
    `${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`,
  );
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const WANTED_FEATURES = ['subgroups', 'timestamp-query', 'shader-f16'] as const;

export interface OpenDevice {
  device: GPUDevice;
  info: GpuInfo;
  /**
   * The GPU entry point and adapter the device came from. Held for the device's lifetime: with Dawn in Node,
   * collecting the instance while its device lives aborts the process.
   */
  keepAlive: [GPU, GPUAdapter];
}

/** Asks for the adapter's real limits (the defaults stop at 128–256 MiB buffers) and the features we can use. */
export async function openDevice(gpu: GPU | undefined): Promise<OpenDevice> {
  if (!gpu) {
    throw new Error(
      "createRuntime({ backend: 'webgpu' }): WebGPU is not available here (no navigator.gpu). " +
        'Use a browser with WebGPU (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu), pass `gpu` ' +
        "(in Node: `create([])` from the 'webgpu' package), or use { backend: 'cpu' }.",
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      "createRuntime({ backend: 'webgpu' }): WebGPU exists but no GPU adapter was found. " +
        'Enable a GPU or a software adapter (Chromium: --enable-unsafe-webgpu; Node with Dawn: set ' +
        "VK_ICD_FILENAMES to a Vulkan driver such as SwiftShader), or use { backend: 'cpu' }.",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const limits = {} as GpuInfo['limits'];
  for (const name of WANTED_LIMITS) {
    (limits as Record<string, number>)[name] = (device.limits as unknown as Record<string, number>)[name];
  }
  const raw = adapter.info ?? ({} as GPUAdapterInfo);
  const adapterInfo: AdapterInfo = {
    vendor: raw.vendor ?? '',
    architecture: raw.architecture ?? '',
    device: raw.device ?? '',
    description: raw.description ?? '',
  };
  return {
    device,
    keepAlive: [gpu, adapter],
    info: {
      backend: 'webgpu',
      adapter: adapterInfo,
      limits,
      features: [...device.features].filter((f) => (WANTED_FEATURES as readonly string[]).includes(f)).sort(),
      software: isSoftwareAdapter(adapterInfo),
    },
  };
}
