// What `rt.tensor` accepts as data, and how it is read into row-major values and a shape.
import { formatShape, sizeOf, type Shape } from './shape.js';

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

/** A number, a TypedArray, or arrays of these nested to any depth (rectangular). */
export type TensorData = number | NumericArray | readonly TensorData[];

const NUMERIC_ARRAYS = [
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
];

function isNumericArray(value: unknown): value is NumericArray {
  return NUMERIC_ARRAYS.some((type) => value instanceof type);
}

/**
 * The row-major values of `data` and its shape. A flat array or a TypedArray takes `shape` when given (of the same
 * size); nested arrays give their own shape, which a given `shape` must equal. Throws an Error naming the first
 * element that is not a number, or the first row whose length differs from the first row at its depth.
 */
export function readTensorData(
  data: unknown,
  shape?: readonly number[],
): { values: ArrayLike<number>; shape: readonly number[] } {
  if (typeof data === 'number') return { values: [data], shape: shape ?? [] };
  if (isNumericArray(data)) return { values: data, shape: shape ?? [data.length] };
  if (!Array.isArray(data)) {
    const kind = ArrayBuffer.isView(data) ? data.constructor.name : describeValue(data);
    throw new Error(
      `tensor: data must be a number, an array of numbers (nested for more dimensions) or a numeric TypedArray, got ${kind}`,
    );
  }
  const inferred = inferShape(data);
  const values = new Float64Array(sizeOf(inferred));
  let next = 0;
  const visit = (value: unknown, depth: number, path: string) => {
    if (depth === inferred.length) {
      if (typeof value !== 'number') throw new Error(`tensor: element ${path} is ${describeValue(value)}`);
      values[next++] = value;
      return;
    }
    const row = rowOf(value, path, inferred[depth]);
    if (row.length !== inferred[depth]) {
      throw new Error(
        `tensor: ragged nested array: ${path} has ${row.length} elements, ${firstPath(depth)} has ${inferred[depth]}`,
      );
    }
    for (let i = 0; i < row.length; i++) visit(row[i], depth + 1, `${path}[${i}]`);
  };
  visit(data, 0, '');
  if (shape !== undefined && inferred.length > 1 && !sameDims(shape, inferred)) {
    throw new Error(
      `tensor: shape ${formatShape(shape)} does not match the nested data's shape ${formatShape(inferred)}`,
    );
  }
  return { values, shape: shape ?? inferred };
}

/** The shape read along the first element at each depth. */
function inferShape(data: readonly unknown[]): number[] {
  const shape: number[] = [];
  let current: unknown = data;
  while (Array.isArray(current) || isNumericArray(current)) {
    shape.push(current.length);
    current = current[0];
  }
  return shape;
}

function rowOf(value: unknown, path: string, expected: number): ArrayLike<unknown> {
  if (Array.isArray(value) || isNumericArray(value)) return value;
  const where = path === '' ? 'the data' : `element ${path}`;
  throw new Error(`tensor: ${where} is ${describeValue(value)}, expected an array of ${expected} elements`);
}

function firstPath(depth: number): string {
  return '[0]'.repeat(depth) || 'the data';
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `a string (${JSON.stringify(value)})`;
  if (typeof value === 'number') return `a number (${value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (Array.isArray(value)) return `an array of ${value.length} elements`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

export type { Shape };
