import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../core/shape.js';
import type { DebugOptions, Recording, Storage } from '../core/backend.js';
import { checkTensors } from '../tensor/tensor.js';
import type { Context } from '../tensor/tensor.js';

/** What a compiled step needs of its runtime. */
export interface CompileHost extends Context {
  readonly debug: DebugOptions;
  /** The recording in progress: a runtime records one step at a time, and other calls wait for it. */
  recordingInProgress: Promise<unknown> | null;
}

/**
 * A compiled training step (`rt.compile(fn)`): call it like the function it was made from; it always returns a
 * promise.
 *
 * Compiling: The first call (for each set of input shapes) runs `fn` and records every dispatch
 * it makes; later calls copy the new inputs in and replay those dispatches with the same buffers, bind groups and
 * pipelines, running no op code at all. Results equal the eager path's exactly.
 *
 * The contract:
 * - `fn` takes tensors and returns a tensor, or an array or plain object of tensors (other values are returned as
 *   they were at recording). Each call returns fresh copies the caller owns, without a tape.
 * - Everything `fn` makes and does not return is freed (it runs inside `tidy`).
 * - Tensors `fn` uses from outside (parameters, optimizer state) are bound by buffer. Updating them in place
 *   (`opt.step`, `rt.assign`) replays correctly; disposing one makes the step record again on its next call.
 * - Values taken from JavaScript while recording are fixed: numbers, `rt.tensor(data)` made inside `fn`,
 *   hyperparameters. Pass per-step data as input tensors.
 * - `fn` must not read tensor data (`await t.data()`); return what you want to read.
 * - While a step records (its first call), other work on the same runtime would be recorded with it: await that
 *   call before starting other work. Calls of compiled steps wait for a recording in progress by themselves.
 * - Every kernel `fn` dispatched is replayed, including any that made state on the first call (`rt.zeros`):
 *   make lasting state before compiling, or by upload (`rt.tensor`), as the optimizers do.
 *
 * On the CPU reference backend, and with `debug.checkNumerics`, each call simply runs `fn` inside `tidy`.
 */
export interface CompiledStep<A extends Tensor[], R> {
  (...inputs: A): Promise<R>;
  /** Frees the buffers its recordings hold. The step records again if called afterwards. */
  dispose(): void;
  /** How many times it has recorded (once per distinct input shapes, and again after a parameter was replaced). */
  readonly recordings: number;
  /** Recordings held now: at most `maxRecordings`. */
  readonly kept: number;
}

/** An output tensor's place in the returned value. */
class Slot {
  constructor(readonly index: number) {}
}

/** The returned value with every tensor replaced by its Slot. */
type Template = unknown;

interface Entry {
  recording: Recording;
  template: Template;
  outputs: { storage: Storage; shape: readonly number[] }[];
}

/** Options of `rt.compile(fn, options)`. */
export interface CompileOptions {
  /**
   * Recordings kept, one per set of input shapes; default 8. Past it, the one replayed least recently is freed
   * (its buffers go back to the pool) and records again if its shapes come back.
   */
  maxRecordings?: number;
}

const DEFAULT_MAX_RECORDINGS = 8;

/**
 * `rt.compile(fn)`: the contract is {@link CompiledStep}'s. On a backend without a recorder (the CPU reference)
 * each call runs `fn` eagerly inside `tidy`.
 */
export function compileStep<A extends Tensor[], R>(
  rt: CompileHost,
  fn: (...inputs: A) => R | Promise<R>,
  options: CompileOptions = {},
): CompiledStep<A, R> {
  if (typeof fn !== 'function') throw new Error(`compile: expected a function, got ${typeof fn}`);
  const maxRecordings = options.maxRecordings ?? DEFAULT_MAX_RECORDINGS;
  if (!Number.isInteger(maxRecordings) || maxRecordings < 1) {
    throw new Error(`compile: maxRecordings must be a positive integer, got ${String(maxRecordings)}`);
  }
  // In order of last use: the first key is the least recently used.
  const entries = new Map<string, Entry>();
  let recordings = 0;

  const forget = (key: string) => {
    entries.get(key)?.recording.dispose();
    entries.delete(key);
  };

  const record = async (key: string, inputs: A): Promise<R> => {
    const recorder = rt.backend.recorder!;
    const copies = recorder.begin(inputs.map((t) => ({ storage: t.storage!, shape: t.shape })));
    const firstMade = Tensor.created;
    let result: R;
    try {
      const placeholders = inputs.map((t, i) => new Tensor(rt, t.shape, copies[i], t.requiresGrad)) as A;
      result = await rt.tidy(() => fn(...placeholders));
    } catch (e) {
      recorder.end().dispose();
      throw e;
    }
    const recording = recorder.end();
    const outputs: Tensor[] = [];
    const template = toTemplate(result, outputs);
    const disposed = outputs.find((t) => t.disposed || t.storage === null);
    if (disposed) {
      recording.dispose();
      throw new Error(`compile: the step returned a disposed tensor ${formatShape(disposed.shape)}`);
    }
    const entry: Entry = {
      recording,
      template,
      outputs: outputs.map((t) => ({ storage: t.storage!, shape: t.shape })),
    };
    const returned = fromTemplate(rt, entry);
    // The step's own results stay with the recording; the caller gets copies. A view the step made of a tensor from
    // outside (a parameter) goes too, or it would hold that tensor's storage after the caller disposed it.
    for (const t of outputs) if (recording.owns(t.storage!) || t.serial >= firstMade) t.dispose();
    while (entries.size >= maxRecordings) forget(entries.keys().next().value!);
    entries.set(key, entry);
    recordings++;
    return returned as R;
  };

  const step = async (...inputs: A): Promise<R> => {
    checkTensors('compile', rt, inputs);
    while (rt.recordingInProgress) await rt.recordingInProgress.catch(() => undefined);
    checkTensors('compile', rt, inputs);
    if (!rt.backend.recorder || rt.debug.checkNumerics) return rt.tidy(() => fn(...inputs));
    const key = inputs.map((t) => `${formatShape(t.shape)}${t.requiresGrad ? 'g' : ''}`).join(' ');
    const entry = entries.get(key);
    if (entry && !entry.recording.valid) forget(key);
    const current = entries.get(key);
    if (!current) {
      const recorded = record(key, inputs);
      rt.recordingInProgress = recorded;
      try {
        return await recorded;
      } finally {
        rt.recordingInProgress = null;
      }
    }
    entries.delete(key);
    entries.set(key, current);
    rt.backend.recorder.replay(
      current.recording,
      inputs.map((t) => ({ storage: t.storage!, shape: t.shape })),
    );
    return fromTemplate(rt, current) as R;
  };

  Object.defineProperty(step, 'recordings', { get: () => recordings });
  Object.defineProperty(step, 'kept', { get: () => entries.size });
  return Object.assign(step, {
    dispose() {
      for (const key of [...entries.keys()]) forget(key);
    },
  }) as unknown as CompiledStep<A, R>;
}

/** Replaces each tensor in a tensor, array or plain object by its slot in `outputs`; other values stay as they are. */
function toTemplate(value: unknown, outputs: Tensor[]): Template {
  if (value instanceof Tensor) {
    let slot = outputs.indexOf(value);
    if (slot < 0) slot = outputs.push(value) - 1;
    return new Slot(slot);
  }
  if (Array.isArray(value)) return value.map((v) => toTemplate(v, outputs));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toTemplate(v, outputs)]));
  }
  return value;
}

/** The returned value: each output copied into a new tensor the caller owns. */
function fromTemplate(rt: Context, entry: Entry): unknown {
  const copies = entry.outputs.map(({ storage, shape }) => Tensor.from(rt, shape, rt.backend.copy(storage, shape)));
  const build = (t: Template): unknown => {
    if (t instanceof Slot) return copies[t.index];
    if (Array.isArray(t)) return t.map(build);
    if (t && typeof t === 'object' && Object.getPrototypeOf(t) === Object.prototype) {
      return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, build(v)]));
    }
    return t;
  };
  return build(entry.template);
}
