import type { BackendInput, Recorder, Recording, Storage } from '../../core/backend.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import type { BufferPool } from './buffers.js';
import type { Command } from './scheduler.js';
import type { UniformCache } from './uniforms.js';

/** What the recorder needs from the backend. */
export interface RecorderHost {
  readonly pool: BufferPool;
  readonly uniforms: UniformCache;
  allocate(op: string, shape: Shape): GPUBuffer;
  /** Queues a copy without recording it. */
  enqueueCopy(src: GPUBuffer, dst: GPUBuffer, bytes: number, op: string): void;
  enqueueAll(commands: readonly Command[]): void;
  checkAlive(op: string): void;
}

/** What one recording is collecting. */
class Capture {
  readonly commands: Command[] = [];
  /** Buffers made while recording: the recording owns them. */
  readonly owned = new Set<GPUBuffer>();
  /** Owned buffers no tensor holds any more: their bytes count as the step's. */
  readonly released = new Set<GPUBuffer>();
  /** Buffers bound but not owned: parameters and other tensors from outside. */
  readonly external = new Set<GPUBuffer>();
  readonly uniforms = new Set<GPUBuffer>();
  /** Set when an external buffer was freed while recording. */
  broken = false;

  constructor(readonly inputs: GPUBuffer[]) {}
}

class GpuRecording implements Recording {
  valid = true;
  disposed = false;
  readonly dispatches: number;

  constructor(
    readonly capture: Capture,
    private readonly recorder: GpuRecorder,
  ) {
    this.dispatches = capture.commands.filter((c) => c.kind === 'dispatch').length;
  }

  owns(storage: Storage): boolean {
    return this.capture.owned.has((storage as { buffer: GPUBuffer }).buffer);
  }

  dispose(): void {
    this.recorder.release(this);
  }
}

/**
 * Records the commands of one call of a step, and replays them later with the same buffers, bind groups and
 * pipelines. Buffers made while recording stay with the recording (freeing their tensors does not return them to
 * the pool), so a replay finds them untouched; buffers it binds from outside (parameters) are watched, and freeing
 * one marks the recording stale.
 */
export class GpuRecorder implements Recorder {
  recordings = 0;
  replays = 0;
  private capture: Capture | null = null;
  private readonly ownerOf = new Map<GPUBuffer, GpuRecording>();
  private readonly usersOf = new Map<GPUBuffer, Set<GpuRecording>>();

  constructor(private readonly host: RecorderHost) {}

  get recording(): boolean {
    return this.capture !== null;
  }

  begin(inputs: BackendInput[]): Storage[] {
    this.host.checkAlive('compile');
    if (this.capture) throw new Error('compile: a step is already being recorded; record one step at a time');
    const copies = inputs.map((input) => {
      const buffer = this.host.allocate('compile', input.shape);
      const { buffer: src } = input.storage as { buffer: GPUBuffer };
      this.host.enqueueCopy(src, buffer, sizeOf(input.shape) * 4, 'compile: input');
      this.host.pool.hold(buffer);
      return buffer;
    });
    this.capture = new Capture(copies);
    for (const b of copies) {
      this.capture.owned.add(b);
      this.capture.released.add(b);
    }
    return copies.map((buffer) => ({ buffer }));
  }

  end(): Recording {
    const capture = this.capture;
    if (!capture) throw new Error('compile: no step is being recorded');
    this.capture = null;
    const recording = new GpuRecording(capture, this);
    for (const b of capture.owned) this.ownerOf.set(b, recording);
    for (const b of capture.external) {
      let users = this.usersOf.get(b);
      if (!users) this.usersOf.set(b, (users = new Set()));
      users.add(recording);
    }
    for (const u of capture.uniforms) this.host.uniforms.pin(u);
    recording.valid = !capture.broken;
    this.recordings++;
    return recording;
  }

  replay(recording: Recording, inputs: BackendInput[]): void {
    this.host.checkAlive('compile');
    const rec = recording as GpuRecording;
    if (this.capture) throw new Error('compile: cannot replay a step while another is being recorded');
    if (!rec.valid)
      throw new Error('compile: this recording is stale (a tensor it used was freed); record the step again');
    inputs.forEach((input, i) => {
      const { buffer } = input.storage as { buffer: GPUBuffer };
      this.host.enqueueCopy(buffer, rec.capture.inputs[i], sizeOf(input.shape) * 4, 'compile: input');
    });
    this.host.enqueueAll(rec.capture.commands);
    this.replays++;
  }

  // ---- called by the backend -------------------------------------------------------------------

  allocated(buffer: GPUBuffer): void {
    this.capture?.owned.add(buffer);
  }

  /** A command was queued: while recording, it becomes part of the step. */
  queued(command: Command, storage: GPUBuffer[], uniforms: GPUBuffer[]): void {
    const capture = this.capture;
    if (!capture) return;
    capture.commands.push(command);
    for (const b of storage) if (!capture.owned.has(b)) capture.external.add(b);
    for (const u of uniforms) capture.uniforms.add(u);
  }

  /** A tensor's buffer is being freed. Returns true when a recording keeps it (so it must not go back to the pool). */
  freed(buffer: GPUBuffer): boolean {
    const capture = this.capture?.owned.has(buffer) ? this.capture : this.ownerOf.get(buffer)?.capture;
    if (capture) {
      if (!capture.released.has(buffer)) {
        capture.released.add(buffer);
        this.host.pool.hold(buffer);
      }
      return true;
    }
    for (const user of this.usersOf.get(buffer) ?? []) user.valid = false;
    if (this.capture?.external.has(buffer)) this.capture.broken = true;
    return false;
  }

  release(rec: GpuRecording): void {
    if (rec.disposed) return;
    rec.disposed = true;
    rec.valid = false;
    const { owned, released, external, uniforms } = rec.capture;
    for (const b of owned) {
      if (this.ownerOf.get(b) !== rec) continue;
      this.ownerOf.delete(b);
      // A buffer still held by a tensor goes back to the pool when that tensor is freed.
      if (released.has(b)) this.host.pool.unhold(b);
    }
    owned.clear();
    for (const b of external) this.usersOf.get(b)?.delete(rec);
    for (const u of uniforms) this.host.uniforms.unpin(u);
    uniforms.clear();
  }
}
