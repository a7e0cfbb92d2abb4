/** A data set in row-major arrays, ready for `rt.tensor(x, [size, features])`. */
export interface Dataset {
  name: string;
  /** Rows of features, [size, features] row-major. */
  x: Float32Array;
  /** Class indices for classification, [size]; for regression, the targets [size, targets] row-major. */
  y: Float32Array;
  size: number;
  features: number;
  /** Number of classes; 0 for regression. */
  classes: number;
}
