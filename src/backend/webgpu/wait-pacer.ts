/**
 * Sleeps through most of a submission's expected run before a read starts waiting on it.
 *
 * Why: Dawn's Node binding (the `webgpu` package) settles a pending GPU promise by re-queueing a `setImmediate` tick
 * that polls the device, so from `mapAsync` until the buffer is mapped one CPU core spins. On a software adapter
 * (SwiftShader) the GPU's threads are CPU threads, and the spinning core is one of theirs: on a 2-core machine a
 * waited-on kernel ran 20–25% slower (bench/NOTES.md). The pacer remembers how long each kind of submission took
 * from submit to mapped, and on the next one like it waits on a timer (which costs no CPU) for `PACED_SHARE` of the
 * least of its last few times before the poll starts. A wrong guess costs little: too short and the poll spins for
 * the rest; too long (the GPU was done when the poll started) and that run counts as half the time it was given, so
 * the guesses come down fast. The least of a few, not the last: one slow run (a busy machine, a collection) would
 * otherwise make the next runs sleep longer than they need, each a little less (measured: 70, 60, 51, 43, … ms for
 * a 27 ms step).
 */
export class WaitPacer {
  /** Submit-to-done milliseconds of the last few submissions of each kind, oldest first. */
  private readonly took = new Map<string, number[]>();
  private last: { kind: string; at: number; waitFrom: number | null; measured: boolean } | null = null;

  constructor(readonly enabled: boolean) {}

  /** Call right after `queue.submit`. */
  submitted(batch: readonly SubmittedCommand[]): void {
    if (!this.enabled) return;
    this.last = { kind: submissionKind(batch), at: performance.now(), waitFrom: null, measured: false };
  }

  /** Resolves when it is time to start waiting on the latest submission. */
  async beforeWait(): Promise<void> {
    const last = this.last;
    if (!last) return;
    const times = this.took.get(last.kind);
    if (!times) return;
    const expected = Math.min(...times);
    if (expected < MIN_PACED_MS) return;
    const sleep = last.at + PACED_SHARE * expected - performance.now();
    if (sleep < 1) return;
    await new Promise((resolve) => setTimeout(resolve, sleep));
    last.waitFrom = performance.now();
  }

  /** Call once the wait that followed `beforeWait` is over: the latest submission has run. */
  waited(): void {
    const last = this.last;
    if (!last || last.measured) return;
    last.measured = true;
    const now = performance.now();
    const overslept = last.waitFrom !== null && now - last.waitFrom < OVERSLEPT_MS;
    const ms = (now - last.at) * (overslept ? 0.5 : 1);
    if (this.took.size >= MAX_KINDS && !this.took.has(last.kind)) this.took.clear();
    const times = this.took.get(last.kind) ?? [];
    times.push(ms);
    if (times.length > REMEMBERED_RUNS) times.shift();
    this.took.set(last.kind, times);
  }
}

/** Below this a timer's own granularity (~1 ms) would cost more than the poll. */
const MIN_PACED_MS = 4;
/** Wake early enough that run-to-run jitter rarely leaves the GPU done before the poll starts. */
const PACED_SHARE = 0.85;
/** A wait this short after waking means the GPU had finished while the pacer slept. */
const OVERSLEPT_MS = 0.5;
/** How many runs of a kind the guess looks back on. */
const REMEMBERED_RUNS = 8;
/** A training loop has a handful of kinds; a program that makes new ones forever only forgets them. */
const MAX_KINDS = 256;

/** Submissions of one kind run the same kernels over the same grids: the same step, eager or replayed. */
/** What the pacer reads of a scheduler command (src/backend/webgpu/scheduler.ts imports this file, not the reverse). */
export type SubmittedCommand =
  { kind: 'dispatch'; workgroups: readonly number[] } | { kind: 'copy'; bytes: number } | { kind: 'clear' };

function submissionKind(batch: readonly SubmittedCommand[]): string {
  let invocations = 0;
  let copied = 0;
  for (const command of batch) {
    if (command.kind === 'dispatch') invocations += command.workgroups.reduce((x, y) => x * y, 1);
    else if (command.kind === 'copy') copied += command.bytes;
  }
  return `${batch.length}/${invocations}/${copied}`;
}

/** Node (where Dawn's wait polls) rather than a browser (where the wait sleeps in another process). */
export function runsInNode(): boolean {
  const scope = globalThis as { process?: { versions?: { node?: string } }; window?: unknown };
  return scope.window === undefined && typeof scope.process?.versions?.node === 'string';
}
