// The wait pacer: when a read starts its (CPU-spinning, in Node) wait on a submission, given how long the previous
// submission of the same kind took. Fake timers and a fake clock, so that the times are exact.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WaitPacer, runsInNode, type SubmittedCommand } from '../../src/backend/webgpu/wait-pacer.js';

function dispatch(workgroups: number[]): SubmittedCommand {
  return { kind: 'dispatch', workgroups };
}
const STEP = [dispatch([4, 8, 1]), dispatch([16, 1, 1])];
const OTHER_STEP = [dispatch([4, 8, 2]), dispatch([16, 1, 1])];

/** Runs one submission that the GPU finishes `gpuMs` after submit; returns when (after submit) the wait started. */
async function submitAndRead(pacer: WaitPacer, batch: SubmittedCommand[], gpuMs: number): Promise<number> {
  const submittedAt = performance.now();
  pacer.submitted(batch);
  let waitStarted = -1;
  const paced = pacer.beforeWait().then(() => (waitStarted = performance.now() - submittedAt));
  await vi.advanceTimersByTimeAsync(0);
  while (waitStarted < 0) await vi.advanceTimersByTimeAsync(1);
  await paced;
  // Whatever was left of the GPU's run, the poll waits for it.
  if (waitStarted < gpuMs) vi.advanceTimersByTime(gpuMs - waitStarted);
  pacer.waited();
  return waitStarted;
}

describe('WaitPacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits at once on a kind it has not seen, then sleeps 85% of what the same kind took', async () => {
    const pacer = new WaitPacer(true);
    expect(await submitAndRead(pacer, STEP, 40)).toBe(0);
    expect(await submitAndRead(pacer, STEP, 40)).toBeCloseTo(34, 0);
    // A different kind of submission (other grids) is a new kind.
    expect(await submitAndRead(pacer, OTHER_STEP, 100)).toBe(0);
    expect(await submitAndRead(pacer, OTHER_STEP, 100)).toBeCloseTo(85, 0);
    expect(await submitAndRead(pacer, STEP, 40)).toBeCloseTo(34, 0);
  });

  it('follows a submission that got faster: a run the GPU had finished while it slept counts half', async () => {
    const pacer = new WaitPacer(true);
    await submitAndRead(pacer, STEP, 100);
    // Slept to 85 ms for a 20 ms run: counted as 42.5, so the next sleep is 85% of that.
    expect(await submitAndRead(pacer, STEP, 20)).toBeCloseTo(85, 0);
    expect(await submitAndRead(pacer, STEP, 20)).toBeCloseTo(36.125, 0);
    let started = 0;
    for (let i = 0; i < 20; i++) started = await submitAndRead(pacer, STEP, 20);
    expect(started).toBeCloseTo(17, 0);
  });

  it('one slow run does not make the next ones sleep longer: the guess is the least of the last few', async () => {
    const pacer = new WaitPacer(true);
    for (let i = 0; i < 3; i++) await submitAndRead(pacer, STEP, 40);
    expect(await submitAndRead(pacer, STEP, 200)).toBeCloseTo(34, 0);
    expect(await submitAndRead(pacer, STEP, 40)).toBeCloseTo(34, 0);
  });

  it('never sleeps for short submissions, nor when disabled', async () => {
    const fast = new WaitPacer(true);
    await submitAndRead(fast, STEP, 3);
    expect(await submitAndRead(fast, STEP, 3)).toBe(0);
    const off = new WaitPacer(false);
    await submitAndRead(off, STEP, 50);
    expect(await submitAndRead(off, STEP, 50)).toBe(0);
  });

  it('measures each submission once, however many reads wait on it', async () => {
    const pacer = new WaitPacer(true);
    await submitAndRead(pacer, STEP, 40);
    pacer.submitted(STEP);
    vi.advanceTimersByTime(40);
    pacer.waited();
    vi.advanceTimersByTime(500);
    pacer.waited();
    expect(await submitAndRead(pacer, STEP, 40)).toBeCloseTo(34, 0);
  });

  it('is on by default in Node, where Dawn polls', () => {
    expect(runsInNode()).toBe(true);
  });
});
