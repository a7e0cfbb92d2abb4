import { defineOp } from '../tensor/tensor.js';
import { apply, type Tensor } from '../tensor/tensor.js';
import { formatShape } from '../core/shape.js';
import { dispatchMatmul } from './matmul-kernels.js';

export interface MatmulOptions {
  /** Use Aᵀ: A is stored [K, M]. */
  transposeA?: boolean;
  /** Use Bᵀ: B is stored [N, K]. */
  transposeB?: boolean;
}

interface MatmulParams {
  transposeA: boolean;
  transposeB: boolean;
}

/** M, K, N of op(A)·op(B) for stored shapes a and b. */
function dims(a: readonly number[], b: readonly number[], p: MatmulParams) {
  const [m, k] = p.transposeA ? [a[1], a[0]] : [a[0], a[1]];
  const [kb, n] = p.transposeB ? [b[1], b[0]] : [b[0], b[1]];
  return { m, k, kb, n };
}

function operand(name: string, shape: readonly number[], transposed: boolean): string {
  return `${name}${transposed ? 'ᵀ' : ''} ${formatShape(shape)}${transposed ? ` (used as ${formatShape([shape[1], shape[0]])})` : ''}`;
}

export const matmulOp = defineOp<MatmulParams>({
  name: 'matmul',
  shape([a, b], p) {
    if (a.length !== 2 || b.length !== 2) {
      throw new Error(`matmul: operands must be 2-D, got ${formatShape(a)} and ${formatShape(b)}`);
    }
    const { m, k, kb, n } = dims(a, b, p);
    if (k !== kb) {
      throw new Error(
        `matmul: inner dimensions differ: ${operand('A', a, p.transposeA)} · ${operand('B', b, p.transposeB)}: ${k} ≠ ${kb}`,
      );
    }
    return [m, n];
  },
  cpu([a, b], p, [m, n]) {
    const { k } = dims(a.shape, b.shape, p);
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let r = 0; r < k; r++) {
          const av = p.transposeA ? a.data[r * m + i] : a.data[i * k + r];
          const bv = p.transposeB ? b.data[j * k + r] : b.data[r * n + j];
          acc += av * bv;
        }
        out[i * n + j] = acc;
      }
    }
    return out;
  },
  gpu(gpu, [a, b], p, out) {
    const [m, n] = out.shape;
    const { k } = dims(a.shape, b.shape, p);
    dispatchMatmul(gpu, { a, b, out, m, n, k, transposeA: p.transposeA, transposeB: p.transposeB, activation: 'identity' });
  },
  // Z = op(A)·op(B), G = ∂L/∂Z [M,N]. Each gradient is one matmul whose flags absorb the transposes; nothing is copied.
  vjp(g, [a, b], { transposeA, transposeB }) {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = transposeA
        ? transposeB
          ? matmul(b, g, { transposeA: true, transposeB: true }) // dA = Bᵀ·Gᵀ      [N,K]ᵀ·[M,N]ᵀ → [K,M]
          : matmul(b, g, { transposeB: true }) //                    dA = B·Gᵀ        [K,N]·[M,N]ᵀ → [K,M]
        : transposeB
          ? matmul(g, b) //                                          dA = G·B         [M,N]·[N,K] → [M,K]
          : matmul(g, b, { transposeB: true }); //                   dA = G·Bᵀ        [M,N]·[K,N]ᵀ → [M,K]
    }
    if (b.requiresGrad) {
      db = transposeB
        ? transposeA
          ? matmul(g, a, { transposeA: true, transposeB: true }) // dB = Gᵀ·Aᵀ      [M,N]ᵀ·[K,M]ᵀ → [N,K]
          : matmul(g, a, { transposeA: true }) //                    dB = Gᵀ·A        [M,N]ᵀ·[M,K] → [N,K]
        : transposeA
          ? matmul(a, g) //                                          dB = A·G         [K,M]·[M,N] → [K,N]
          : matmul(a, g, { transposeA: true }); //                   dB = Aᵀ·G        [M,K]ᵀ·[M,N] → [K,N]
    }
    return [da, db];
  },
});

export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const params = { transposeA: options.transposeA ?? false, transposeB: options.transposeB ?? false };
  return apply(a.owner, matmulOp, [a, b], params);
}
