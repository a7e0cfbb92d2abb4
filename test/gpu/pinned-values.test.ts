import { definePinnedValueTests } from '../pinned-values.js';
import { gpuRuntime } from '../helpers.js';

definePinnedValueTests('webgpu', gpuRuntime);
