// GPUBufferUsage values from the WebGPU spec, so that Node needs no globals installed.
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

/** GPUMapMode.READ, for the same reason. */
export const MAP_READ = 1;

const STORAGE_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;
const STAGING_USAGE = Usage.MAP_READ | Usage.COPY_DST;

/**
 * The pool's size classes: multiples of 16 bytes (every copy and binding is legal) up to 1 KiB, then eight classes
 * per power of two, so that a buffer wastes at most 12.5% and tensors of nearby sizes (a smaller last batch) share
 * buffers. Kernels never read a buffer's length: they take sizes from their uniforms.
 */
export function bufferBytes(elements: number): number {
  const bytes = Math.max(16, elements * 4);
  if (bytes <= 1024) return Math.ceil(bytes / 16) * 16;
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

/**
 * The pool's trimming window, in submissions. At the end of each window, every size class gives back to the device
 * the free buffers it never needed during the window (its free list's low-water mark): a steady loop needs the same
 * buffers every step and keeps them, while shapes that stopped coming (a shape sweep, an evicted compiled step) would
 * otherwise hold their memory for ever.
 */
export const TRIM_WINDOW = 16;

/**
 * Size-bucketed reuse of buffers. A freed buffer may still be read by recorded work that has not been
 * submitted, so it waits in `pending` until the next submission before another tensor can get it.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  /** Submissions so far, and each class's fewest free buffers since the window began. */
  private submissions = 0;
  private readonly lowWater = new Map<string, number>();
  /** Buffers given back to the device by trimming. */
  trimmed = 0;
  private pending: { key: string; buffer: GPUBuffer }[] = [];
  pooledBytes = 0;
  liveBytes = 0;
  /** Held by compiled steps: neither a live tensor's nor free for reuse. */
  heldBytes = 0;
  peakBytes = 0;
  /** Bytes freed since the last submission, waiting for it. */
  pendingBytes = 0;
  allocations = 0;

  /** `create` makes a device buffer; `label` names the op that asked, for error messages. */
  constructor(
    private readonly create: (descriptor: GPUBufferDescriptor) => GPUBuffer,
    private readonly trimWindow = TRIM_WINDOW,
  ) {}

  acquireStorage(bytes: number, label: string): GPUBuffer {
    return this.acquire(bytes, STORAGE_USAGE, label);
  }

  acquireStaging(bytes: number): GPUBuffer {
    return this.acquire(bytes, STAGING_USAGE, 'readback');
  }

  private acquire(bytes: number, usage: number, label: string): GPUBuffer {
    const key = `${usage}:${bytes}`;
    const list = this.free.get(key);
    const reused = list?.pop();
    if (list) this.lowWater.set(key, Math.min(this.lowWater.get(key) ?? 0, list.length));
    this.liveBytes += bytes;
    if (reused) {
      this.pooledBytes -= bytes;
      return reused;
    }
    this.allocations++;
    const buffer = this.create({ size: bytes, usage, label });
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes + this.pooledBytes + this.heldBytes);
    return buffer;
  }

  /** A live buffer passes to a compiled step, which keeps it until the step is disposed. */
  hold(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    this.heldBytes += buffer.size;
  }

  /** A held buffer comes back, once the work recorded so far has been submitted. */
  unhold(buffer: GPUBuffer): void {
    this.heldBytes -= buffer.size;
    this.liveBytes += buffer.size;
    this.release(buffer);
  }

  /** Returns a buffer once the work recorded so far has been submitted. */
  release(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    this.pooledBytes += buffer.size;
    this.pendingBytes += buffer.size;
    this.pending.push({ key: `${buffer.usage}:${buffer.size}`, buffer });
  }

  /** Returns a buffer that no recorded work touches any more (a mapped staging buffer), for reuse at once. */
  releaseNow(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    this.pooledBytes += buffer.size;
    this.pushFree(`${buffer.usage}:${buffer.size}`, buffer);
  }

  /** Called right after a submission: what was freed before it is now safe to hand out. */
  submitted(upTo: number): void {
    for (const { key, buffer } of this.pending.splice(0, upTo)) {
      this.pendingBytes -= buffer.size;
      this.pushFree(key, buffer);
    }
    if (++this.submissions % this.trimWindow === 0) this.trimUnneeded();
  }

  /**
   * Destroys, in each class, the free buffers no acquire needed during the window. They sit in the free list only
   * after the submission that last used them, and WebGPU lets a buffer be destroyed while submitted work reads it.
   */
  private trimUnneeded(): void {
    for (const [key, list] of this.free) {
      for (const buffer of list.splice(0, this.lowWater.get(key) ?? 0)) {
        this.pooledBytes -= buffer.size;
        buffer.destroy();
        this.trimmed++;
      }
      if (list.length === 0) {
        this.free.delete(key);
        this.lowWater.delete(key);
      } else {
        this.lowWater.set(key, list.length);
      }
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private pushFree(key: string, buffer: GPUBuffer): void {
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    // A class new to the free list keeps its buffers for the rest of this window.
    if (!this.lowWater.has(key)) this.lowWater.set(key, 0);
    list.push(buffer);
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    for (const { buffer } of this.pending) buffer.destroy();
    this.free.clear();
    this.lowWater.clear();
    this.pending = [];
    this.pooledBytes = 0;
    this.pendingBytes = 0;
  }
}
