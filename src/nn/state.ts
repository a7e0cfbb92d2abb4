// A module's state by PyTorch's state_dict names: its parameters and its buffers (BatchNorm2d's running
// statistics), so that a model saved as safetensors loads with torch's `load_state_dict` and the other way round.
import { checkTensors, type Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape } from '../core/shape.js';
import type { OpsContext } from '../ops/index.js';
import type { Module } from './layers.js';

/** The parameters (`namedParams()`) and the buffers (`namedBuffers()`, where a module has them), by name. */
export function stateDict(module: Module): Record<string, Tensor> {
  return { ...module.namedParams(), ...(module.namedBuffers?.() ?? {}) };
}

export interface LoadStateDictOptions {
  /** Every name of the module must be given, and no other (PyTorch's `num_batches_tracked` aside); default true. */
  strict?: boolean;
}

/**
 * PyTorch's BatchNorm counter: webgrad always uses the given momentum, so it keeps none; a file from PyTorch may carry
 * it, and PyTorch fills it in when a file from webgrad lacks it.
 */
const IGNORED_SUFFIX = 'num_batches_tracked';

/**
 * Writes each tensor into the module's tensor of the same name, in place: parameters keep their identity (an
 * optimizer's state and a compiled step still refer to them). Every check runs before anything is written.
 */
export function loadStateDict(
  rt: OpsContext,
  module: Module,
  tensors: Record<string, Tensor>,
  options: LoadStateDictOptions = {},
): void {
  const targets = stateDict(module);
  const given = Object.entries(tensors).filter(([name]) => !name.endsWith(IGNORED_SUFFIX));
  checkTensors(
    'loadStateDict',
    rt,
    given.map(([, t]) => t),
  );
  if (options.strict ?? true) {
    const missing = Object.keys(targets).filter((name) => !(name in tensors));
    const unexpected = given.map(([name]) => name).filter((name) => !(name in targets));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new Error(
        `loadStateDict: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)} ` +
          `(the module has ${JSON.stringify(Object.keys(targets))})`,
      );
    }
  }
  const writes = given.filter(([name]) => name in targets);
  for (const [name, value] of writes) {
    const target = targets[name];
    if (!sameShape(target.shape, value.shape))
      throw new Error(
        `loadStateDict: '${name}' is ${formatShape(value.shape)}, the module's is ${formatShape(target.shape)}`,
      );
  }
  for (const [name, value] of writes) {
    const target = targets[name];
    if (value.live('loadStateDict') !== target.live('loadStateDict'))
      rt.backend.copy(value.live('loadStateDict'), value.shape, target.live('loadStateDict'));
  }
}
