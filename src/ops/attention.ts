// Scaled dot-product attention as a composite: S = Q·Kᵀ (one batched `nt` product), then one softmax kernel that
// scales and applies the causal mask as it reads S, then P·V. Its backward pass is therefore four batched products with transpose flags (dP = dO·Vᵀ,
// dV = Pᵀ·dO, dQ = dS·K, dK = dSᵀ·Q) and one fused softmax gradient: nothing is permuted or copied.
import { broadcastShapes, formatShape, type Shape } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { binary, unary } from './elementwise.js';
import { matmul } from './matmul.js';
import { attentionSoftmax } from './softmax.js';

export interface AttentionOptions {
  /** Query i sees key j only when j ≤ i + (S − T): the last query sees every key. */
  causal?: boolean;
  /** Added to the scores [..., T, S] before the softmax (−Infinity hides a key); broadcasts NumPy-style. */
  mask?: Tensor;
  /** Multiplies Q·Kᵀ; 1/√D by default. */
  scale?: number;
}

function broadcasts(from: Shape, to: Shape): boolean {
  return from.length <= to.length && from.every((d, i) => d === 1 || d === to[to.length - from.length + i]);
}

/** softmax(scale · Q·Kᵀ + mask) · V for q [..., T, D], k [..., S, D], v [..., S, Dv] → [..., T, Dv]. */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const shapes = `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`;
  if (q.rank < 2 || k.rank < 2 || v.rank < 2)
    throw new Error(`attention: q, k and v must be [..., tokens, dim], got ${shapes}`);
  const d = q.shape[q.rank - 1];
  if (k.shape[k.rank - 1] !== d)
    throw new Error(`attention: head dimensions differ: ${shapes}: q has ${d}, k has ${k.shape[k.rank - 1]}`);
  if (v.shape[v.rank - 2] !== k.shape[k.rank - 2]) {
    throw new Error(
      `attention: k and v hold different numbers of keys: ${shapes}: ${k.shape[k.rank - 2]} ≠ ${v.shape[v.rank - 2]}`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(scale)) throw new Error(`attention: scale must be a finite number, got ${scale} for ${shapes}`);
  const [t, s] = [q.shape[q.rank - 2], k.shape[k.rank - 2]];
  // Every check before the first op, so that a bad call records nothing.
  const scoresShape = [...broadcastShapes('attention', q.shape.slice(0, -2), k.shape.slice(0, -2)), t, s];
  if (options.mask && !broadcasts(options.mask.shape, scoresShape)) {
    throw new Error(
      `attention: mask ${formatShape(options.mask.shape)} does not broadcast to the scores ${formatShape(scoresShape)} of ${shapes}`,
    );
  }
  // The scale and the causal mask go into the softmax kernel; an explicit mask is added to the scaled scores first.
  const product = matmul(q, k, { transposeB: true });
  const scores = options.mask ? binary('add', unary('scale', product, scale), options.mask) : product;
  return matmul(attentionSoftmax(scores, options.mask ? 1 : scale, options.causal ?? false), v);
}
