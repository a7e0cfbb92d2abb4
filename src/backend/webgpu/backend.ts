import type { Backend, BackendInput, DebugOptions, DispatchRecord, Storage } from '../backend.js';
import type { InPlaceOpDef, OpDef } from '../../ops/op.js';
import { formatShape, sizeOf, type Shape } from '../../shape.js';
import { BufferPool, Usage, bufferBytes } from './buffers.js';
import type { Bindings, DeviceLimits, Dispatcher, GpuOperand, Kernel } from './dispatcher.js';
import { grid1d } from './dispatcher.js';
import { packUniform, Shader, type BindingInfo, type UniformValues } from './shader.js';
import type { GpuInfo, OpenDevice } from './device.js';
import fillSource from '../../../shaders/fill.wgsl?raw';

interface GpuStorage {
  buffer: GPUBuffer;
}

interface PipelineEntry {
  layout: GPUBindGroupLayout;
  pipeline?: GPUComputePipeline;
  ready: Promise<GPUComputePipeline>;
}

type Command =
  | { kind: 'dispatch'; pipeline: PipelineEntry; bindGroup: GPUBindGroup; workgroups: readonly number[]; label: string }
  | { kind: 'copy'; src: GPUBuffer; dst: GPUBuffer; bytes: number };

const fillShader = new Shader('fill', fillSource);
const NAN_BITS = 0x7fc00000;
const UNIFORM_CACHE_LIMIT = 4096;

const SHADER_STAGE_COMPUTE = 0x4;
const BUFFER_BINDING_TYPE = { read: 'read-only-storage', read_write: 'storage', uniform: 'uniform' } as const;

/**
 * The WebGPU backend. Ops record dispatches; nothing reaches the GPU until a result is read or `sync` is
 * called, and then everything recorded goes in one command encoder and one submission.
 */
export class WebGpuBackend implements Backend, Dispatcher {
  readonly kind = 'webgpu';
  debug: DebugOptions = {};
  trace: DispatchRecord[] | null = null;
  readonly limits: DeviceLimits;
  readonly features: ReadonlySet<string>;
  submissions = 0;

  private readonly pool: BufferPool;
  private readonly pipelines = new Map<string, PipelineEntry>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  private retiredUniforms: GPUBuffer[] = [];
  private commands: Command[] = [];
  private chain: Promise<void> = Promise.resolve();
  private currentOp = '';
  private currentShapes: Shape[] = [];
  private currentOutShape: Shape = [];

  readonly device: GPUDevice;
  readonly info: GpuInfo;
  private readonly keepAlive: OpenDevice['keepAlive'];

  constructor({ device, info, keepAlive }: OpenDevice) {
    this.device = device;
    this.info = info;
    this.keepAlive = keepAlive;
    this.limits = info.limits;
    this.features = new Set(info.features);
    this.pool = new BufferPool(device);
  }

  upload(data: ArrayLike<number>, shape: Shape): Storage {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const buffer = this.allocate('tensor', shape);
    this.device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
    return { buffer } satisfies GpuStorage;
  }

  async read(storage: Storage, shape: Shape): Promise<Float32Array> {
    const { buffer } = storage as GpuStorage;
    const bytes = sizeOf(shape) * 4;
    const staging = this.pool.acquireStaging(bufferBytes(sizeOf(shape)));
    this.commands.push({ kind: 'copy', src: buffer, dst: staging, bytes });
    await this.flush();
    await staging.mapAsync(1 /* GPUMapMode.READ */, 0, bytes);
    const result = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.pool.releaseNow(staging);
    return result;
  }

  free(storage: Storage): void {
    this.pool.release((storage as GpuStorage).buffer);
  }

  run<P>(op: OpDef<P>, inputs: BackendInput[], params: P, outShape: Shape): Storage {
    const out: GpuOperand = { buffer: this.allocate(op.name, outShape), shape: outShape };
    this.currentOp = op.name;
    this.currentShapes = inputs.map((i) => i.shape);
    this.currentOutShape = outShape;
    if (this.debug.poisonOutputs) this.poison(out);
    const operands = inputs.map((i) => ({ buffer: (i.storage as GpuStorage).buffer, shape: i.shape }));
    op.gpu(this, operands, params, out);
    return { buffer: out.buffer } satisfies GpuStorage;
  }

  runInPlace<P>(op: InPlaceOpDef<P>, inputs: BackendInput[], params: P): void {
    this.currentOp = op.name;
    this.currentShapes = inputs.map((i) => i.shape);
    this.currentOutShape = inputs[0]?.shape ?? [];
    op.gpu(this, inputs.map((i) => ({ buffer: (i.storage as GpuStorage).buffer, shape: i.shape })), params);
  }

  dispatch(kernel: Kernel, bindings: Bindings, workgroups: readonly number[], detail: DispatchRecord['detail'] = {}): void {
    const entryName = kernel.entry ?? 'main';
    const info = kernel.shader.entry(entryName);
    const pipeline = this.pipeline(kernel, info.bindings);
    for (const name of Object.keys(bindings)) {
      if (!info.bindings.some((b) => b.name === name)) {
        throw new Error(`kernel ${kernel.name}: shader ${kernel.shader.name} has no binding '${name}'`);
      }
    }
    const entries = info.bindings.map((b) => ({ binding: b.binding, resource: { buffer: this.bindingBuffer(kernel, b, bindings) } }));
    for (const count of workgroups) {
      if (count > this.limits.maxComputeWorkgroupsPerDimension) {
        throw new Error(
          `${this.currentOp}: ${formatShape(this.currentOutShape)} needs ${count} workgroups in one dimension; the device allows ${this.limits.maxComputeWorkgroupsPerDimension}`,
        );
      }
    }
    const bindGroup = this.device.createBindGroup({ label: kernel.name, layout: pipeline.layout, entries });
    this.commands.push({ kind: 'dispatch', pipeline, bindGroup, workgroups, label: kernel.name });
    this.trace?.push({ op: this.currentOp, kernel: kernel.name, shapes: this.currentShapes, outShape: this.currentOutShape, detail });
  }

  /** Submits everything recorded so far, in order with earlier submissions. */
  flush(): Promise<void> {
    if (this.commands.length === 0) return this.chain;
    const batch = this.commands;
    this.commands = [];
    const freedBefore = this.pool.pendingCount;
    const retired = this.retiredUniforms.splice(0);
    const submitted = this.chain.then(() => this.submit(batch, freedBefore, retired));
    this.chain = submitted.catch(() => undefined);
    return submitted;
  }

  async sync(): Promise<void> {
    await this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  memory() {
    return { liveBytes: this.pool.liveBytes, pooledBytes: this.pool.pooledBytes, peakBytes: this.pool.peakBytes };
  }

  destroy(): void {
    this.pool.destroy();
    for (const b of this.uniforms.values()) b.destroy();
    this.uniforms.clear();
    this.device.destroy();
  }

  private async submit(batch: Command[], freedBefore: number, retired: GPUBuffer[]): Promise<void> {
    await Promise.all(batch.map((c) => (c.kind === 'dispatch' && !c.pipeline.pipeline ? c.pipeline.ready : null)));
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const encoder = this.device.createCommandEncoder();
    let pass: GPUComputePassEncoder | null = null;
    for (const command of batch) {
      if (command.kind === 'dispatch') {
        pass ??= encoder.beginComputePass();
        pass.setPipeline(command.pipeline.pipeline!);
        pass.setBindGroup(0, command.bindGroup);
        pass.dispatchWorkgroups(command.workgroups[0], command.workgroups[1] ?? 1, command.workgroups[2] ?? 1);
      } else {
        pass?.end();
        pass = null;
        encoder.copyBufferToBuffer(command.src, 0, command.dst, 0, command.bytes);
      }
    }
    pass?.end();
    this.device.queue.submit([encoder.finish()]);
    this.submissions++;
    this.pool.submitted(freedBefore);
    for (const b of retired) b.destroy();
    const [validation, oom] = await Promise.all([this.device.popErrorScope(), this.device.popErrorScope()]);
    const error = validation ?? oom;
    if (error) {
      const kernels = [...new Set(batch.flatMap((c) => (c.kind === 'dispatch' ? [c.label] : [])))].join(', ');
      throw new Error(`webgpu: a submission of [${kernels}] failed: ${error.message}`);
    }
  }

  private allocate(op: string, shape: Shape): GPUBuffer {
    const bytes = sizeOf(shape) * 4;
    const limit = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > limit) {
      throw new Error(`${op}: a result of shape ${formatShape(shape)} needs ${bytes} bytes; this device binds at most ${limit}`);
    }
    return this.pool.acquireStorage(bufferBytes(sizeOf(shape)), op);
  }

  private poison(out: GpuOperand): void {
    const op = this.currentOp;
    this.currentOp = 'poison';
    const size = sizeOf(out.shape);
    this.dispatch({ name: 'poison', shader: fillShader }, { out, params: { size, value: NAN_BITS } }, grid1d(Math.ceil(size / 64)));
    this.currentOp = op;
  }

  private pipeline(kernel: Kernel, bindings: BindingInfo[]): PipelineEntry {
    const entry = kernel.entry ?? 'main';
    const key = `${kernel.shader.name}:${entry}:${JSON.stringify(kernel.constants ?? {})}`;
    let cached = this.pipelines.get(key);
    if (cached) return cached;
    const layout = this.device.createBindGroupLayout({
      label: kernel.name,
      entries: bindings.map((b) => ({ binding: b.binding, visibility: SHADER_STAGE_COMPUTE, buffer: { type: BUFFER_BINDING_TYPE[b.kind] } })),
    });
    const constants: Record<string, number> = {};
    for (const [k, v] of Object.entries(kernel.constants ?? {})) constants[k] = Number(v);
    const module = this.device.createShaderModule({ label: kernel.shader.name, code: kernel.shader.source });
    const entryCached: PipelineEntry = {
      layout,
      ready: this.device
        .createComputePipelineAsync({
          label: kernel.name,
          layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
          compute: { module, entryPoint: entry, constants },
        })
        .then((p) => (entryCached.pipeline = p))
        .catch((e: unknown) => {
          this.pipelines.delete(key);
          throw new Error(`kernel ${kernel.name}: pipeline creation failed: ${e instanceof Error ? e.message : String(e)}`);
        }),
    };
    this.pipelines.set(key, entryCached);
    return entryCached;
  }

  private bindingBuffer(kernel: Kernel, binding: BindingInfo, bindings: Bindings): GPUBuffer {
    const value = bindings[binding.name];
    if (value === undefined) throw new Error(`kernel ${kernel.name}: binding '${binding.name}' was not given`);
    if (binding.kind !== 'uniform') return (value as GpuOperand).buffer;
    const bytes = packUniform(kernel.shader.name, binding, value as UniformValues);
    const key = `${binding.size}:${Array.from(new Uint32Array(bytes)).join(',')}`;
    let buffer = this.uniforms.get(key);
    if (!buffer) {
      if (this.uniforms.size >= UNIFORM_CACHE_LIMIT) {
        this.retiredUniforms.push(...this.uniforms.values());
        this.uniforms.clear();
      }
      buffer = this.device.createBuffer({ size: bytes.byteLength, usage: Usage.UNIFORM, mappedAtCreation: true, label: 'uniform' });
      new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(bytes));
      buffer.unmap();
      this.uniforms.set(key, buffer);
    }
    return buffer;
  }
}
