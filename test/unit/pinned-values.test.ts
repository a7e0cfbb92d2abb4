import { definePinnedValueTests } from '../pinned-values.js';
import { cpuRuntime } from '../helpers.js';

definePinnedValueTests('cpu', cpuRuntime);
