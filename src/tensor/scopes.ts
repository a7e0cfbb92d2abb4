import { Tensor } from './tensor.js';

/** Collects the tensors in a value returned from `tidy`, so that they survive it. */
function collectTensors(value: unknown, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value instanceof Tensor) {
    into.add(value);
  } else if (value && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const v of Array.isArray(value) ? value : Object.values(value)) collectTensors(v, into, seen);
  }
}

/** A runtime's live tensors and the stack of `tidy` scopes that will dispose them. */
export class TensorScopes {
  private readonly live = new Set<Tensor>();
  private readonly stack: Set<Tensor>[] = [];

  get liveCount(): number {
    return this.live.size;
  }

  liveTensors(): Tensor[] {
    return [...this.live];
  }

  add(t: Tensor): void {
    this.live.add(t);
    this.stack[this.stack.length - 1]?.add(t);
  }

  remove(t: Tensor): void {
    this.live.delete(t);
    for (const scope of this.stack) scope.delete(t);
  }

  /** Takes `t` out of every open scope: it lives until it is disposed. */
  keep(t: Tensor): void {
    for (const scope of this.stack) scope.delete(t);
  }

  inCurrent(t: Tensor): boolean {
    return this.stack[this.stack.length - 1]?.has(t) ?? false;
  }

  /** Runs `fn`, then disposes what it made except the tensors in its result; waits for a promise first. */
  tidy<T>(fn: () => T): T {
    const scope = new Set<Tensor>();
    this.stack.push(scope);
    let closed = false;
    const close = (result: unknown) => {
      if (closed) return;
      closed = true;
      this.stack.splice(this.stack.lastIndexOf(scope), 1);
      const kept = new Set<Tensor>();
      collectTensors(result, kept);
      const parent = this.stack[this.stack.length - 1];
      for (const t of scope) {
        if (kept.has(t)) parent?.add(t);
        else t.dispose();
      }
    };
    let result: T;
    try {
      result = fn();
    } catch (e) {
      close(undefined);
      throw e;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          close(value);
          return value;
        },
        (e: unknown) => {
          close(undefined);
          throw e;
        },
      ) as T;
    }
    close(result);
    return result;
  }
}
