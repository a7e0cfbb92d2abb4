// Argument checks for the elementwise ops that take constants, kept apart from the op tables.
import { formatShape } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { unary } from './elementwise.js';

/** A constant an op bakes into its kernel: it must be a number (NaN is refused: it would only spread NaN). */
export function checkConstant(op: string, name: string, value: unknown, a: Tensor): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    const got = typeof value === 'number' ? 'NaN' : describe(value);
    throw new Error(`${op}: the ${name} must be a number, got ${got} (for a tensor of shape ${formatShape(a.shape)})`);
  }
  return value;
}

export function clamp(a: Tensor, lo: unknown, hi: unknown): Tensor {
  const min = checkConstant('clamp', 'min', lo, a);
  const max = checkConstant('clamp', 'max', hi, a);
  if (min > max) {
    throw new Error(`clamp: min ${min} is greater than max ${max} (for a tensor of shape ${formatShape(a.shape)})`);
  }
  return unary('clamp', a, min, max);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}
