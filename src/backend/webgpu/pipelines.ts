import { packUniform, type BindingInfo, type UniformValues } from '../../core/shader.js';
import type { Bindings, GpuOperand, Kernel } from '../../core/kernel.js';
import type { PipelineEntry } from './scheduler.js';
import type { UniformCache } from './uniforms.js';

const SHADER_STAGE_COMPUTE = 0x4;
const BUFFER_BINDING_TYPE = { read: 'read-only-storage', read_write: 'storage', uniform: 'uniform' } as const;

/**
 * Shader modules (one per source: variants differ only in override constants) and pipelines, cached by shader,
 * entry point and constants and compiled asynchronously; and the buffers a kernel's bindings name.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, PipelineEntry>();
  private readonly modules = new Map<Kernel['shader'], GPUShaderModule>();

  constructor(
    private readonly device: GPUDevice,
    private readonly uniforms: UniformCache,
  ) {}

  get size(): number {
    return this.pipelines.size;
  }

  async ready(): Promise<void> {
    await Promise.all([...this.pipelines.values()].map((p) => p.ready));
  }

  get(kernel: Kernel, bindings: BindingInfo[]): PipelineEntry {
    const entry = kernel.entry ?? 'main';
    const key = `${kernel.shader.name}:${entry}:${JSON.stringify(kernel.constants ?? {})}`;
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const layout = this.device.createBindGroupLayout({
      label: kernel.name,
      entries: bindings.map((b) => ({
        binding: b.binding,
        visibility: SHADER_STAGE_COMPUTE,
        buffer: { type: BUFFER_BINDING_TYPE[b.kind] },
      })),
    });
    const constants: Record<string, number> = {};
    for (const [k, v] of Object.entries(kernel.constants ?? {})) constants[k] = Number(v);
    const module = this.shaderModule(kernel.shader);
    const created: PipelineEntry = {
      layout,
      ready: this.device
        .createComputePipelineAsync({
          label: kernel.name,
          layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: entry, constants },
        })
        .then((p) => (created.pipeline = p))
        .catch(async (e: unknown) => {
          this.pipelines.delete(key);
          // The compiler's own messages, with line numbers, say what is wrong far better than "invalid module".
          const info = await module.getCompilationInfo().catch(() => null);
          const messages = (info?.messages ?? [])
            .filter((m) => m.type === 'error')
            .map((m) => `${kernel.shader.name}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}`);
          const reason = messages.length > 0 ? messages.join('; ') : e instanceof Error ? e.message : String(e);
          throw new Error(`kernel ${kernel.name}: pipeline creation failed: ${reason}`);
        }),
    };
    created.ready.catch(() => undefined);
    this.pipelines.set(key, created);
    return created;
  }

  /** The buffer bound to one of the kernel's bindings: a tensor's, or a cached uniform buffer with the values packed. */
  bindingBuffer(kernel: Kernel, binding: BindingInfo, bindings: Bindings): GPUBuffer {
    const value = bindings[binding.name];
    if (value === undefined) throw new Error(`kernel ${kernel.name}: binding '${binding.name}' was not given`);
    if (binding.kind !== 'uniform') return (value as GpuOperand).buffer;
    return this.uniforms.get(packUniform(kernel.shader.name, binding, value as UniformValues));
  }

  private shaderModule(shader: Kernel['shader']): GPUShaderModule {
    let module = this.modules.get(shader);
    if (!module) {
      module = this.device.createShaderModule({ label: shader.name, code: shader.source });
      this.modules.set(shader, module);
    }
    return module;
  }
}
