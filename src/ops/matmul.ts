import { defineOp, type OpDef } from '../tensor/tensor.js';
import { apply, type Tensor } from '../tensor/tensor.js';
import { broadcastStrides, formatShape, sizeOf, type Shape } from '../core/shape.js';
import { BATCH_SLOTS, dispatchMatmul, type MatmulBatch } from './matmul-kernels.js';
import { sumTo } from './reduce.js';

export interface MatmulOptions {
  /** Use Aᵀ: A is stored [..., K, M]. */
  transposeA?: boolean;
  /** Use Bᵀ: B is stored [..., N, K]. */
  transposeB?: boolean;
}

interface MatmulParams {
  transposeA: boolean;
  transposeB: boolean;
  /**
   * Internal (weight gradients of a folded product): A [..., R, M] and B [..., R, N] with the same leading
   * dimensions; their batches fold into the contraction, K = (batch)·R, as one Aᵀ·B.
   */
  foldK?: boolean;
}

/**
 * How a product runs: M, K, N of each matrix; the output's batch dimensions with each operand's stride per batch
 * dimension (0 where broadcast); `foldM` when A's batch folds into M (B is 2-D, A not transposed), so one 2-D
 * product covers the whole batch with no copy.
 */
interface Layout {
  m: number;
  k: number;
  n: number;
  batchShape: number[];
  aStrides: number[];
  bStrides: number[];
  foldM: boolean;
  outShape: number[];
}

function operand(name: string, shape: Shape, transposed: boolean): string {
  if (!transposed) return `${name} ${formatShape(shape)}`;
  const used = [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]];
  return `${name}ᵀ ${formatShape(shape)} (used as ${formatShape(used)})`;
}

function layout(a: Shape, b: Shape, p: MatmulParams): Layout {
  if (a.length < 2 || b.length < 2) {
    throw new Error(`matmul: operands must have rank 2 or more, got ${formatShape(a)} and ${formatShape(b)}`);
  }
  const rows = (s: Shape) => s[s.length - 2];
  const cols = (s: Shape) => s[s.length - 1];
  if (p.foldK) {
    const lead = (s: Shape) => s.slice(0, -1);
    if (!p.transposeA || p.transposeB || formatShape(lead(a)) !== formatShape(lead(b))) {
      throw new Error(`matmul: cannot fold the batch of ${formatShape(a)} and ${formatShape(b)} into K`);
    }
    const m = cols(a);
    const n = cols(b);
    return { m, k: sizeOf(lead(a)), n, batchShape: [], aStrides: [], bStrides: [], foldM: false, outShape: [m, n] };
  }
  const [m, k] = p.transposeA ? [cols(a), rows(a)] : [rows(a), cols(a)];
  const [kb, n] = p.transposeB ? [cols(b), rows(b)] : [rows(b), cols(b)];
  if (k !== kb) {
    throw new Error(
      `matmul: inner dimensions differ: ${operand('A', a, p.transposeA)} · ${operand('B', b, p.transposeB)}: ${k} ≠ ${kb}`,
    );
  }
  const batchA = a.slice(0, -2);
  const batchB = b.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const batchShape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = batchA[batchA.length - rank + i] ?? 1;
    const db = batchB[batchB.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `matmul: batch dimensions do not broadcast: ${operand('A', a, p.transposeA)} · ${operand('B', b, p.transposeB)} (batch dimension ${i}: ${da} vs ${db})`,
      );
    }
    batchShape.push(Math.max(da, db));
  }
  const aStrides = broadcastStrides(batchA, batchShape).map((s) => s * m * k);
  const bStrides = broadcastStrides(batchB, batchShape).map((s) => s * k * n);
  const foldM = batchA.length > 0 && batchB.length === 0 && !p.transposeA;
  return { m, k, n, batchShape, aStrides, bStrides, foldM, outShape: [...batchShape, m, n] };
}

/** Drops batch dimensions of 1 and merges neighbours both operands step through alike (fewer to decode per invocation). */
function mergedBatch(l: Layout): MatmulBatch {
  const shape: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  l.batchShape.forEach((d, i) => {
    if (d === 1) return;
    const last = shape.length - 1;
    if (last >= 0 && aStrides[last] === l.aStrides[i] * d && bStrides[last] === l.bStrides[i] * d) {
      shape[last] *= d;
      aStrides[last] = l.aStrides[i];
      bStrides[last] = l.bStrides[i];
      return;
    }
    shape.push(d);
    aStrides.push(l.aStrides[i]);
    bStrides.push(l.bStrides[i]);
  });
  if (shape.length > BATCH_SLOTS) {
    throw new Error(
      `matmul: batch ${formatShape(l.batchShape)} needs ${shape.length} batch dimensions; the kernels take ${BATCH_SLOTS}`,
    );
  }
  return { count: sizeOf(l.batchShape), shape, aStrides, bStrides };
}

export const matmulOp: OpDef<MatmulParams> = defineOp<MatmulParams>({
  name: 'matmul',
  shape([a, b], p) {
    const l = layout(a, b, p);
    mergedBatch(l);
    return l.outShape;
  },
  cpu([a, b], p) {
    const l = layout(a.shape, b.shape, p);
    const { m, k, n } = l;
    const count = sizeOf(l.batchShape);
    const out = new Float64Array(count * m * n);
    for (let z = 0; z < count; z++) {
      let aBase = 0;
      let bBase = 0;
      for (let d = l.batchShape.length - 1, rest = z; d >= 0; d--) {
        const i = rest % l.batchShape[d];
        rest = Math.floor(rest / l.batchShape[d]);
        aBase += i * l.aStrides[d];
        bBase += i * l.bStrides[d];
      }
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let r = 0; r < k; r++) {
            const av = p.transposeA ? a.data[aBase + r * m + i] : a.data[aBase + i * k + r];
            const bv = p.transposeB ? b.data[bBase + j * k + r] : b.data[bBase + r * n + j];
            acc += av * bv;
          }
          out[z * m * n + i * n + j] = acc;
        }
      }
    }
    return out;
  },
  gpu(gpu, [a, b], p, out) {
    const l = layout(a.shape, b.shape, p);
    const problem = {
      a,
      b,
      out,
      k: l.k,
      n: l.n,
      transposeA: p.transposeA,
      transposeB: p.transposeB,
      activation: 'identity' as const,
    };
    if (p.foldK || l.batchShape.length === 0) return dispatchMatmul(gpu, { ...problem, m: l.m });
    // A's batch is contiguous [B·M, K]: the same buffer seen as one taller matrix.
    if (l.foldM)
      return dispatchMatmul(gpu, {
        ...problem,
        a: { buffer: a.buffer, shape: [sizeOf(a.shape) / l.k, l.k] },
        m: sizeOf(a.shape) / l.k,
      });
    dispatchMatmul(gpu, { ...problem, m: l.m, batch: mergedBatch(l) });
  },
  // Z = op(A)·op(B), G = ∂L/∂Z [..., M, N]. Each gradient is one matmul whose flags absorb the transposes, nothing
  // is copied; a broadcast batch dimension sums its gradient back down.
  vjp(g, [a, b], { transposeA, transposeB, foldK }): (Tensor | null)[] {
    if (foldK) throw new Error('matmul: the folded weight-gradient product is not differentiable again');
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      const full = transposeA
        ? transposeB
          ? matmul(b, g, { transposeA: true, transposeB: true }) // dA = Bᵀ·Gᵀ      [N,K]ᵀ·[M,N]ᵀ → [K,M]
          : matmul(b, g, { transposeB: true }) //                    dA = B·Gᵀ        [K,N]·[M,N]ᵀ → [K,M]
        : transposeB
          ? matmul(g, b) //                                          dA = G·B         [M,N]·[N,K] → [M,K]
          : matmul(g, b, { transposeB: true }); //                   dA = G·Bᵀ        [M,N]·[K,N]ᵀ → [M,K]
      da = sumTo(full, a.shape);
    }
    if (b.requiresGrad) {
      // B 2-D under a batched A folded into M: the batch folds into K, one product with K = (batch)·M.
      const fold = a.rank > 2 && b.rank === 2 && !transposeA;
      if (fold) {
        db = transposeB
          ? apply(g.owner, matmulOp, [g, a], { transposeA: true, transposeB: false, foldK: true }) // dB = Gᵀ·A
          : apply(g.owner, matmulOp, [a, g], { transposeA: true, transposeB: false, foldK: true }); // dB = Aᵀ·G
      } else {
        const full = transposeB
          ? transposeA
            ? matmul(g, a, { transposeA: true, transposeB: true }) // dB = Gᵀ·Aᵀ      [M,N]ᵀ·[K,M]ᵀ → [N,K]
            : matmul(g, a, { transposeA: true }) //                    dB = Gᵀ·A        [M,N]ᵀ·[M,K] → [N,K]
          : transposeA
            ? matmul(a, g) //                                          dB = A·G         [K,M]·[M,N] → [K,N]
            : matmul(a, g, { transposeA: true }); //                   dB = Aᵀ·G        [M,K]ᵀ·[M,N] → [K,N]
        db = sumTo(full, b.shape);
      }
    }
    return [da, db];
  },
});

export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const params = { transposeA: options.transposeA ?? false, transposeB: options.transposeB ?? false };
  return apply(a.owner, matmulOp, [a, b], params);
}
