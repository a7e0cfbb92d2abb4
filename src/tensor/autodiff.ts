import { checkTensors, type TapeNode, type Tensor } from './tensor.js';
import { formatShape, type Shape } from '../core/shape.js';
import type { Context } from './tensor.js';

/** The two ops the backward pass itself needs, given by the layer that defines them. */
export interface GradientOps {
  /** a + b, for gradients that meet at a tensor used more than once. */
  add(a: Tensor, b: Tensor): Tensor;
  /** A tensor of one value: the seed 1, and 0 for a parameter the loss does not depend on. */
  full(ctx: Context, shape: Shape, value: number): Tensor;
}

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
export function gradients(rt: Context, ops: GradientOps, loss: Tensor, params: Tensor[]): Tensor[] {
  checkTensors('grad', rt, [loss]);
  if (loss.size !== 1) {
    throw new Error(`grad: the loss must be a scalar (one element), got shape ${formatShape(loss.shape)}`);
  }
  if (!Array.isArray(params)) throw new Error('grad: params must be an array of tensors');
  checkTensors('grad', rt, params);
  params.forEach((p, i) => {
    if (!p.requiresGrad) {
      throw new Error(
        `grad: parameter ${i} ${formatShape(p.shape)} was not created with { requiresGrad: true }, so it has no gradient`,
      );
    }
  });

  const wanted = new Set(params);
  return whileInBackward(rt, () =>
    rt.tidy(() => {
      const grads = new Map<Tensor, Tensor>([[loss, ops.full(rt, loss.shape, 1)]]);
      // How many entries of `grads` hold each tensor: a VJP may pass its gradient through unchanged.
      const holders = new Map<Tensor, number>([[grads.get(loss)!, 1]]);
      const hold = (key: Tensor, g: Tensor) => {
        const before = grads.get(key);
        if (before) holders.set(before, holders.get(before)! - 1);
        grads.set(key, g);
        holders.set(g, (holders.get(g) ?? 0) + 1);
      };
      const drop = (key: Tensor) => {
        const g = grads.get(key)!;
        holders.set(g, holders.get(g)! - 1);
        grads.delete(key);
      };
      // Gradients made here and no longer referenced go at once; the caller's tensors are never touched.
      const spend = (t: Tensor) => {
        if (rt.isInCurrentScope(t) && !(holders.get(t)! > 0)) t.dispose();
      };

      for (const tensor of topologicalOrder(loss).reverse()) {
        const node: TapeNode | null = tensor.node;
        const g = grads.get(tensor);
        if (!node || !g) continue;
        const inputGrads = rt.tidy(() => node.op.vjp!(g, node.inputs, node.params, tensor));
        if (!wanted.has(tensor)) drop(tensor);
        // A VJP may hand one tensor to several inputs (add passes its gradient through to both): spend only after
        // every input has taken its share, or a later input would read a gradient already freed.
        const spent: Tensor[] = [];
        node.inputs.forEach((input, i) => {
          const gi = inputGrads[i];
          if (!gi || !input.requiresGrad) return;
          const previous = grads.get(input);
          hold(input, previous ? ops.add(previous, gi) : gi);
          if (previous) spent.push(previous, gi);
        });
        for (const t of new Set([...spent, g])) spend(t);
      }
      return params.map((p) => grads.get(p) ?? ops.full(rt, p.shape, 0));
    }),
  );
}

/** Runs `fn` with no tape recorded and with saved tensors readable (see `Context.inBackward`). */
function whileInBackward<T>(rt: Context, fn: () => T): T {
  const outer = rt.inBackward;
  rt.inBackward = true;
  try {
    return rt.noGrad(fn);
  } finally {
    rt.inBackward = outer;
  }
}
