import { apply, defineOp, type Tensor } from '../tensor/tensor.js';
import { formatShape } from '../core/shape.js';
import { binary } from './elementwise.js';
import { sum } from './reduce.js';
import { matmul } from './matmul.js';
import { dispatchMatmul } from './matmul-kernels.js';
import { activationRow, resolveActivation, type Activation, type ActivationKind } from './activation.js';

export type { Activation };

export interface LinearOptions {
  /** w is stored [out, in] (as nn layers keep it) and used as wᵀ, without a copy. */
  transposeW?: boolean;
}

interface LinearParams {
  activation: ActivationKind;
  transposeW: boolean;
}

/**
 * y = act(x·w + b): x [batch, in], w [in, out] (or [out, in] with transposeW), b [out] (optional).
 * The GPU applies b and act in the matmul kernel's epilogue.
 */
export const linearOp = defineOp<LinearParams>({
  name: 'linear',
  shape([x, w, b], { activation, transposeW }) {
    resolveActivation('linear', activation);
    if (x.length !== 2 || w.length !== 2)
      throw new Error(`linear: x and w must be 2-D, got ${formatShape(x)} and ${formatShape(w)}`);
    const [inputs, outputs] = transposeW ? [w[1], w[0]] : [w[0], w[1]];
    if (x[1] !== inputs) {
      throw new Error(
        `linear: x ${formatShape(x)} has ${x[1]} features but w${transposeW ? 'ᵀ' : ''} ${formatShape(w)} expects ${inputs}`,
      );
    }
    if (b && (b.length !== 1 || b[0] !== outputs)) {
      throw new Error(
        `linear: bias ${formatShape(b)} must be [${outputs}], one value per output of w ${formatShape(w)}`,
      );
    }
    return [x[0], outputs];
  },
  cpu([x, w, b], { activation, transposeW }, [m, n]) {
    const k = x.shape[1];
    const f = activationRow(activation).cpu;
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = b ? b.data[j] : 0;
        for (let r = 0; r < k; r++) acc += x.data[i * k + r] * w.data[transposeW ? j * k + r : r * n + j];
        out[i * n + j] = f(acc);
      }
    }
    return out;
  },
  gpu(gpu, [x, w, bias], { activation, transposeW }, out) {
    const [m, n] = out.shape;
    dispatchMatmul(gpu, {
      a: x,
      b: w,
      bias,
      out,
      m,
      n,
      k: x.shape[1],
      transposeA: false,
      transposeB: transposeW,
      activation,
    });
  },
  // Y = act(Z), Z = X·W + b; G = ∂L/∂Y [B,out]. First dZ = G ⊙ act'(Z), then the matmul VJP with dZ.
  vjp(g, [x, w, b], p, y) {
    const dz = activationGrad(g, y, [x, w, b], p);
    const dx = () => (p.transposeW ? matmul(dz, w) : matmul(dz, w, { transposeB: true }));
    const dw = () => (p.transposeW ? matmul(dz, x, { transposeA: true }) : matmul(x, dz, { transposeA: true }));
    return [
      x.requiresGrad ? dx() : null, // dX = dZ·Wᵀ [B,out]·[in,out]ᵀ → [B,in]     (W stored [out,in]: dZ·W)
      w.requiresGrad ? dw() : null, // dW = Xᵀ·dZ [B,in]ᵀ·[B,out] → [in,out]    (W stored [out,in]: dZᵀ·X)
      b?.requiresGrad ? sum(dz, 0) : null, // db = Σ_rows dZ → [out]
    ];
  },
});

/** G ⊙ act'(Z), from the output Y where act' can be written in Y, else from Z recomputed. */
function activationGrad(g: Tensor, y: Tensor, [x, w, b]: Tensor[], p: LinearParams): Tensor {
  const grad = activationRow(p.activation).grad;
  if (!grad) return g;
  // Recomputing Z costs one more forward matmul but stores no pre-activation.
  return binary(grad.op, g, grad.from === 'output' ? y : linear(x, w, b, 'identity', p));
}

export function linear(
  x: Tensor,
  w: Tensor,
  bias?: Tensor | null,
  activation: Activation = 'identity',
  options: LinearOptions = {},
): Tensor {
  const kind = resolveActivation('linear', activation);
  return apply(x.owner, linearOp, bias ? [x, w, bias] : [x, w], {
    activation: kind,
    transposeW: options.transposeW ?? false,
  });
}
