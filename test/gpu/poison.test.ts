// The poison itself, and the fill kernel it is made of: every GPU comparison trusts that an element no kernel wrote
// reads back as NaN, so that is shown here with ops that deliberately leave their output unwritten. Then the second
// dimension of the 1-D dispatch grid, which only tensors past 65535 workgroups × 64 = 4,194,240 elements use; and
// the NaN in the unused tail of every pooled buffer, shown catching a kernel that reads past its tensor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/index.js';
import { apply, defineOp } from '../../src/tensor/tensor.js';
import { Shader } from '../../src/core/shader.js';
import { grid1d } from '../../src/core/kernel.js';
import { expectClose, gpuRuntime, read } from '../helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await gpuRuntime();
});
afterAll(() => rt?.destroy());

/** Writes `value` to the even elements of out only, as a kernel with an indexing bug would leave gaps. */
const evenOnlyShader = new Shader(
  'even_only',
  /* wgsl */ `
struct Params { size: u32, value: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params.size || i % 2u == 1u) { return; }
  out[i] = bitcast<f32>(params.value);
}
`,
);

const writesNothing = defineOp<{ shape: number[] }>({
  name: 'writesNothing',
  shape: (_inputs, { shape }) => shape,
  cpu: (_inputs, _p, shape) => new Float64Array(shape.reduce((a, b) => a * b, 1)),
  gpu() {
    // The bug being simulated: no dispatch at all.
  },
});

const writesEvens = defineOp<{ shape: number[] }>({
  name: 'writesEvens',
  shape: (_inputs, { shape }) => shape,
  cpu: (_inputs, _p, shape) => new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(2),
  gpu(gpu, _inputs, _p, out) {
    const size = out.shape.reduce((a, b) => a * b, 1);
    const bits = new Uint32Array(Float32Array.of(2).buffer)[0];
    gpu.dispatch(
      { name: 'even_only', shader: evenOnlyShader },
      { out, params: { size, value: bits } },
      grid1d(Math.ceil(size / 64)),
    );
  },
});

describe('poisoned outputs', () => {
  it('an op whose GPU side dispatches nothing reads back as all NaN, and expectClose rejects it', async () => {
    // Recycle buffers first, so that without the poison the output would hold stale finite values, not NaN.
    const ones = rt.ones([5, 13]);
    await ones.data();
    ones.dispose();
    const out = await read(apply(rt, writesNothing, [], { shape: [5, 13] }));
    expect(out.length).toBe(65);
    expect(Array.from(out).every(Number.isNaN)).toBe(true);
    expect(() => expectClose(out, new Float64Array(65), 1e30, 'unwritten')).toThrow(/NaN: an element no kernel wrote/);
  });

  it('a kernel that skips every other element leaves NaN exactly there', async () => {
    const out = await read(apply(rt, writesEvens, [], { shape: [3, 67] }));
    out.forEach((v, i) => {
      if (i % 2 === 0) expect(v).toBe(2);
      else expect(v, `element ${i}`).toBeNaN();
    });
    expect(() => expectClose(out, new Float64Array(out.length).fill(2), 1e-3, 'gaps')).toThrow(/element \d+ is NaN/);
  });

  it('a poisoned output a real op then writes in full holds no NaN (the poison precedes the kernel)', async () => {
    const out = await read(rt.add(rt.full([7, 9], 1.5), rt.ones([9])));
    expect(Array.from(out)).toEqual(new Array(63).fill(2.5));
  });
});

describe('tensors past the first dimension of the dispatch grid (more than 4,194,240 elements)', () => {
  // 2048×2048 = 4,194,304 elements: 65,536 workgroups of 64, one more than fits in x.
  const [M, N] = [2048, 2048];
  const SIZE = M * N;
  // Small integers and halves, so that every result below is exact in float32 and compared for equality.
  const pattern = (i: number) => (i % 13) - 6;

  /** The first index whose value differs from expected(i), or −1. */
  function firstMismatch(values: ArrayLike<number>, expected: (i: number) => number): number {
    for (let i = 0; i < values.length; i++) if (!(values[i] === expected(i))) return i;
    return -1;
  }

  it('full, zeros and ones fill every element, the last included', async () => {
    const full = await rt.full([M, N], 0.5).data();
    expect(full.length).toBe(SIZE);
    expect(firstMismatch(full, () => 0.5)).toBe(-1);
    expect(firstMismatch(await rt.zeros([M, N]).data(), () => 0)).toBe(-1);
    expect(firstMismatch(await rt.ones([SIZE + 3]).data(), () => 1)).toBe(-1);
  });

  it('elementwise kernels (unary, binary, broadcast) write every element, against closed forms', async () => {
    const x = rt.tensor(
      Float32Array.from({ length: SIZE }, (_, i) => pattern(i)),
      [M, N],
    );
    const y = rt.tensor(
      Float32Array.from({ length: SIZE }, (_, i) => i % 4),
      [M, N],
    );
    const row = rt.tensor(
      Float32Array.from({ length: N }, (_, j) => j % 8),
      [N],
    );
    expect(
      firstMismatch(await rt.add(x, y).data(), (i) => pattern(i) + (i % 4)),
      'add',
    ).toBe(-1);
    expect(
      firstMismatch(await rt.relu(x).data(), (i) => Math.max(0, pattern(i))),
      'relu',
    ).toBe(-1);
    expect(
      firstMismatch(await rt.scale(x, 0.5).data(), (i) => pattern(i) * 0.5),
      'scale',
    ).toBe(-1);
    expect(
      firstMismatch(await rt.sub(x, row).data(), (i) => pattern(i) - ((i % N) % 8)),
      'sub row',
    ).toBe(-1);
    [x, y, row].forEach((t) => t.dispose());
  });

  it('an SGD step and an Adam step update every element in place, against closed forms', async () => {
    const p = rt.tensor(
      Float32Array.from({ length: SIZE }, (_, i) => pattern(i)),
      [M, N],
      { requiresGrad: true },
    );
    const g = rt.tensor(
      Float32Array.from({ length: SIZE }, (_, i) => (i % 7) - 3),
      [M, N],
    );
    rt.optim.sgd({ lr: 0.5 }).step([p], [g]);
    expect(
      firstMismatch(await p.data(), (i) => pattern(i) - 0.5 * ((i % 7) - 3)),
      'sgd',
    ).toBe(-1);

    // Adam's first step moves each parameter by lr·g/(|g| + ε) (the bias corrections cancel): lr·sign(g), or 0.
    // The betas and 1 − β₂ = 0.001 are rounded to float32 on the device, about 1e-5 relative; a skipped
    // element is off by the whole step, lr.
    const q = rt.tensor(
      Float32Array.from({ length: SIZE }, (_, i) => pattern(i)),
      [M, N],
      { requiresGrad: true },
    );
    rt.optim.adam({ lr: 0.25, eps: 1e-8 }).step([q], [g]);
    const values = await q.data();
    const expected = (i: number) => pattern(i) - 0.25 * Math.sign((i % 7) - 3);
    let worst = -1;
    for (let i = 0; i < SIZE; i++) if (!(Math.abs(values[i] - expected(i)) <= 1e-4 * 0.25)) worst = i;
    expect(worst, worst >= 0 ? `element ${worst} is ${values[worst]}, expected ${expected(worst)}` : '').toBe(-1);
    [p, q, g].forEach((t) => t.dispose());
  });
});

/** Sums a[0..size] inclusive: one element past the end of its input, the bug a missing bounds check makes. */
const overReadShader = new Shader(
  'over_read',
  /* wgsl */ `
struct Params { size: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(1)
fn main() {
  var total = 0.0;
  for (var i = 0u; i <= params.size; i++) { total += a[i]; }
  out[0] = total;
}
`,
);

const sumReadingOnePast = defineOp<Record<string, never>>({
  name: 'sumReadingOnePast',
  shape: () => [1],
  cpu: ([a]) => Float64Array.of(a.data.reduce((s, v) => s + v, 0)),
  gpu(gpu, [a], _p, out) {
    const size = a.shape.reduce((x, y) => x * y, 1);
    gpu.dispatch({ name: 'over_read', shader: overReadShader }, { a, out, params: { size } }, [1]);
  },
});

describe('poisoned buffer tails (a pooled buffer is rounded up to its size class)', () => {
  const values = [0.5, 1.5, -2, 3, 0.25];

  /** A [5] tensor (a 32-byte buffer, three floats of tail) in a buffer a [8] tensor of zeros held before. */
  async function overRead(runtime: Runtime): Promise<Float64Array> {
    const zeros = runtime.zeros([8]);
    await zeros.data();
    zeros.dispose();
    await runtime.sync();
    return read(apply(runtime, sumReadingOnePast, [runtime.tensor(values, [5])], {}));
  }

  it('without them, a kernel reading past its tensor gets stale data and passes the comparison', async () => {
    rt.debug = { poisonOutputs: true };
    try {
      const out = await overRead(rt);
      expectClose(out, [3.25], 1e-6, 'the over-read adds a stale 0');
    } finally {
      rt.debug = { poisonOutputs: true, poisonTails: true };
    }
  });

  it('with them (gpuRuntime sets them), the same over-read reads NaN and the comparison fails', async () => {
    expect(rt.debug.poisonTails).toBe(true);
    const out = await overRead(rt);
    expect(out[0]).toBeNaN();
    expect(() => expectClose(out, [3.25], 1e-6, 'over-read')).toThrow(/element 0 is NaN/);
    // A kernel that stays inside its tensor is not affected: the same values through sum.
    expectClose(await read(rt.sum(rt.tensor(values, [5]))), [3.25], 1e-6, 'sum');
  });
});
