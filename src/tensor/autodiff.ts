import { Tensor, type TapeNode } from './tensor.js';
import { formatShape } from '../core/shape.js';
import { binary } from '../ops/elementwise.js';
import { full } from '../ops/fill.js';
import type { Runtime } from '../runtime/runtime.js';

/** Tensors that `loss` depends on through the tape, each after all its inputs: an iterative DFS, so deep graphs are fine. */
function topologicalOrder(loss: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: { tensor: Tensor; expanded: boolean }[] = [{ tensor: loss, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.tensor);
      continue;
    }
    if (visited.has(top.tensor)) continue;
    visited.add(top.tensor);
    stack.push({ tensor: top.tensor, expanded: true });
    for (const input of top.tensor.node?.inputs ?? []) {
      if (input.requiresGrad && !visited.has(input)) stack.push({ tensor: input, expanded: false });
    }
  }
  return order;
}

/**
 * Reverse-mode gradients of a scalar `loss` with respect to `params`.
 * Gradients of tensors used more than once accumulate; intermediate gradients are freed as soon as they are spent.
 */
export function gradients(rt: Runtime, loss: Tensor, params: Tensor[]): Tensor[] {
  rt.checkOwned('grad', [loss]);
  if (loss.size !== 1) {
    throw new Error(`grad: the loss must be a scalar (one element), got shape ${formatShape(loss.shape)}`);
  }
  if (!Array.isArray(params)) throw new Error('grad: params must be an array of tensors');
  rt.checkOwned('grad', params);
  params.forEach((p, i) => {
    if (!p.requiresGrad) {
      throw new Error(`grad: parameter ${i} ${formatShape(p.shape)} was not created with { requiresGrad: true }, so it has no gradient`);
    }
  });

  const wanted = new Set(params);
  return rt.noGrad(() =>
    rt.tidy(() => {
      const grads = new Map<Tensor, Tensor>([[loss, full(rt, loss.shape, 1)]]);
      const isHeld = (t: Tensor) => {
        for (const g of grads.values()) if (g === t) return true;
        return false;
      };
      // Gradients made here and no longer referenced go at once; the caller's tensors are never touched.
      const spend = (t: Tensor) => {
        if (rt.isInCurrentScope(t) && !isHeld(t)) t.dispose();
      };

      for (const tensor of topologicalOrder(loss).reverse()) {
        const node: TapeNode | null = tensor.node;
        const g = grads.get(tensor);
        if (!node || !g) continue;
        const inputGrads = rt.tidy(() => node.op.vjp!(g, node.inputs, node.params, tensor));
        if (!wanted.has(tensor)) grads.delete(tensor);
        node.inputs.forEach((input, i) => {
          const gi = inputGrads[i];
          if (!gi || !input.requiresGrad) return;
          const previous = grads.get(input);
          grads.set(input, previous ? binary('add', previous, gi) : gi);
          if (previous) {
            spend(previous);
            spend(gi);
          }
        });
        spend(g);
      }
      return params.map((p) => grads.get(p) ?? full(rt, p.shape, 0));
    }),
  );
}
