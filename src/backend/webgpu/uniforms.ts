import { Usage } from './buffers.js';

const CACHE_LIMIT = 4096;

/**
 * Uniform buffers, one per distinct content, so that a loop with the same shapes creates none after its first step.
 * Compiled steps pin the buffers their bind groups use: the cache may forget a pinned buffer, but it is destroyed
 * only once no step holds it.
 */
export class UniformCache {
  private readonly byContent = new Map<string, GPUBuffer>();
  private readonly cached = new Set<GPUBuffer>();
  private readonly pins = new Map<GPUBuffer, number>();
  /** Buffers created so far (for the allocation counter). */
  created = 0;
  /** Destroyed after the next submission, which may still read them. */
  private retired: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {}

  get(bytes: ArrayBuffer): GPUBuffer {
    const key = Array.from(new Uint32Array(bytes)).join(',');
    let buffer = this.byContent.get(key);
    if (buffer) return buffer;
    if (this.byContent.size >= CACHE_LIMIT) this.evictAll();
    this.created++;
    buffer = this.device.createBuffer({
      size: bytes.byteLength,
      usage: Usage.UNIFORM,
      mappedAtCreation: true,
      label: 'uniform',
    });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(bytes));
    buffer.unmap();
    this.byContent.set(key, buffer);
    this.cached.add(buffer);
    return buffer;
  }

  pin(buffer: GPUBuffer): void {
    this.pins.set(buffer, (this.pins.get(buffer) ?? 0) + 1);
  }

  unpin(buffer: GPUBuffer): void {
    const count = (this.pins.get(buffer) ?? 1) - 1;
    if (count > 0) {
      this.pins.set(buffer, count);
      return;
    }
    this.pins.delete(buffer);
    if (!this.cached.has(buffer)) this.retired.push(buffer);
  }

  /** Called after each submission. */
  destroyRetired(): void {
    for (const b of this.retired.splice(0)) b.destroy();
  }

  destroy(): void {
    for (const b of [...this.cached, ...this.pins.keys(), ...this.retired]) b.destroy();
    this.byContent.clear();
    this.cached.clear();
    this.pins.clear();
    this.retired = [];
  }

  private evictAll(): void {
    for (const b of this.cached) if (!this.pins.has(b)) this.retired.push(b);
    this.byContent.clear();
    this.cached.clear();
  }
}
