import { defineInPlaceOp, elementwiseGrid, type Bindings, type CpuOperand, type Dispatcher } from '../core/kernel.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../core/shape.js';
import { Shader } from '../core/shader.js';
import source from '../../shaders/optimizer.wgsl?raw';
import elemF32 from '../../shaders/elem_f32.wgsl?raw';
import elemVec4 from '../../shaders/elem_vec4.wgsl?raw';

/** The updates over f32 elements, and over vec4s for sizes that are a multiple of 4. */
const shaders = {
  f32: new Shader('optimizer', elemF32 + source),
  vec4: new Shader('optimizer_vec4', elemVec4 + source),
};

/** One update kernel over the parameter's elements, four per invocation when the size allows (said in the trace). */
function dispatchUpdate(gpu: Dispatcher, entry: string, bindings: Bindings, shape: Shape): void {
  const perInvocation = sizeOf(shape) % 4 === 0 ? 4 : 1;
  const shader = perInvocation === 4 ? shaders.vec4 : shaders.f32;
  gpu.dispatch({ name: entry, shader, entry }, bindings, elementwiseGrid(sizeOf(shape) / perInvocation), {
    perInvocation,
  });
}

/** Every operand has the parameter's shape: the update is elementwise. */
function checkSameShapes(op: string, names: string[], shapes: Shape[]): void {
  shapes.forEach((s, i) => {
    if (!sameShape(s, shapes[0])) {
      throw new Error(`${op}: ${names[i]} ${formatShape(s)} does not match the parameter ${formatShape(shapes[0])}`);
    }
  });
}

/** optimizer.wgsl's one `params` struct serves every entry; the fields an update does not read are 0. */
function uniform(shape: Shape, values: Partial<SgdUpdate & AdamUpdate>) {
  const zero = { lr: 0, momentum: 0, beta1: 0, beta2: 0, eps: 0, weightDecay: 0, firstStep: 0 };
  return { ...zero, ...values, size: sizeOf(shape) };
}

export interface SgdUpdate {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/** Plain SGD: [param, grad]; param ← param − lr·(grad + λ·param). */
export const sgdUpdate = defineInPlaceOp<SgdUpdate>({
  name: 'sgd',
  check: (shapes) => checkSameShapes('sgd', ['parameter', 'gradient'], shapes),
  cpu([param, grad]: CpuOperand[], { lr, weightDecay }) {
    const p = param.data;
    for (let i = 0; i < p.length; i++) p[i] -= lr * (grad.data[i] + weightDecay * p[i]);
  },
  gpu(gpu, [param, grad], { lr, momentum, weightDecay }) {
    const params = uniform(param.shape, { lr, momentum, weightDecay });
    dispatchUpdate(gpu, 'sgd', { param, grad, params }, param.shape);
  },
});

/** SGD with momentum: [param, velocity, grad]; u ← μ·u + grad + λ·param, param ← param − lr·u. */
export const sgdMomentumUpdate = defineInPlaceOp<SgdUpdate>({
  name: 'sgdMomentum',
  check: (shapes) => checkSameShapes('sgd', ['parameter', 'velocity', 'gradient'], shapes),
  cpu([param, velocity, grad], { lr, momentum, weightDecay }) {
    const p = param.data;
    const u = velocity.data;
    for (let i = 0; i < p.length; i++) {
      u[i] = momentum * u[i] + grad.data[i] + weightDecay * p[i];
      p[i] -= lr * u[i];
    }
  },
  gpu(gpu, [param, velocity, grad], { lr, momentum, weightDecay }) {
    dispatchUpdate(
      gpu,
      'sgd_momentum',
      { param, velocity, grad, params: uniform(param.shape, { lr, momentum, weightDecay }) },
      param.shape,
    );
  },
});

export interface AdamUpdate {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** The optimizer's step count when this parameter took its first step: its step t = stepCount − firstStep + 1. */
  firstStep: number;
}

/**
 * Adam, AdamW when weightDecay > 0 (decoupled decay): [param, m, v, grad, stepCount]. The step count is read from
 * a device tensor, so that a replayed recording of the step corrects its bias for the right step.
 */
export const adamUpdate = defineInPlaceOp<AdamUpdate>({
  name: 'adam',
  check: (shapes) =>
    checkSameShapes('adam', ['parameter', 'first moment', 'second moment', 'gradient'], shapes.slice(0, 4)),
  cpu([param, m, v, grad, stepCount], { lr, beta1, beta2, eps, weightDecay, firstStep }) {
    const t = stepCount.data[0] - firstStep + 1;
    const correction1 = 1 - beta1 ** t;
    const correction2 = 1 - beta2 ** t;
    const p = param.data;
    for (let i = 0; i < p.length; i++) {
      const g = grad.data[i];
      m.data[i] = beta1 * m.data[i] + (1 - beta1) * g;
      v.data[i] = beta2 * v.data[i] + (1 - beta2) * g * g;
      const mHat = m.data[i] / correction1;
      const vHat = v.data[i] / correction2;
      p[i] = p[i] * (1 - lr * weightDecay) - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  },
  gpu(gpu, [param, m, v, grad, stepCount], update) {
    dispatchUpdate(gpu, 'adam', { param, m, v, grad, stepCount, params: uniform(param.shape, update) }, param.shape);
  },
});

/** stepCount[0] += 1: [stepCount], after a step's updates. */
export const countStep = defineInPlaceOp<undefined>({
  name: 'countStep',
  check([count]) {
    if (count.length !== 1 || count[0] !== 1)
      throw new Error(`countStep: the counter must be [1], got ${formatShape(count)}`);
  },
  cpu([count]) {
    count.data[0] += 1;
  },
  gpu(gpu, [stepCount]) {
    gpu.dispatch({ name: 'count_step', shader: shaders.f32, entry: 'count_step' }, { stepCount }, [1]);
  },
});
