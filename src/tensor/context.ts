import type { Backend } from '../core/backend.js';
import type { Tensor } from './tensor.js';

/**
 * What tensors, the tape, compiled steps and the library layers (nn, optim) need of a runtime. `Runtime`
 * implements it; nothing below the runtime layer sees the Runtime class.
 */
export interface Context {
  readonly backend: Backend;
  /** False inside `noGrad` and while gradients are computed, so that nothing records a tape. */
  gradEnabled: boolean;
  /**
   * True while VJPs run: they may read tensors whose handles a `tidy` disposed but whose values a tape node saved.
   * Everywhere else a disposed handle is an error.
   */
  inBackward: boolean;
  adopt(t: Tensor): Tensor;
  release(t: Tensor): void;
  isInCurrentScope(t: Tensor): boolean;
  /** Takes `t` out of every enclosing `tidy`. */
  keep<T extends Tensor>(t: T): T;
  tidy<T>(fn: () => T): T;
  noGrad<T>(fn: () => T): T;
  /** A tensor of row-major values (uploaded: a compiled step replays no kernel for it). */
  tensor(data: ArrayLike<number>, shape?: readonly number[], options?: { requiresGrad?: boolean }): Tensor;
}
