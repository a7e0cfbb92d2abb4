// rt.nn.embedding, multiHeadAttention, transformerBlock and N-D nn.linear on the CPU reference: shapes, PyTorch
// names and layouts (checked against plain float64 loops written here), safetensors round trips, errors, train/eval.
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type Tensor } from '../../src/index.js';
import { expectClose, randomArray, rng } from '../helpers.js';

async function cpu(seed = 0): Promise<Runtime> {
  return createRuntime({ backend: 'cpu', seed });
}

/** y[r, o] = Σ_i x[r, i]·W[o, i] + b[o], W [out, in] as PyTorch stores it. */
function affine(x: Float64Array, rows: number, w: Float64Array, b: Float64Array, inF: number, outF: number) {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  return y;
}

/**
 * PyTorch's MultiheadAttention(batch_first=True) with q = k = v = x, written out: q, k, v are the row blocks of
 * in_proj, head h uses features h·dh … (h+1)·dh − 1, scores scaled by 1/√dh.
 */
async function referenceAttention(
  mha: Record<string, Tensor>,
  x: Float64Array,
  b: number,
  t: number,
  d: number,
  heads: number,
  causal: boolean,
) {
  const [wIn, bIn, wOut, bOut] = await Promise.all(
    ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'].map((n) => mha[n].dataF64()),
  );
  const qkv = affine(x, b * t, wIn, bIn, d, 3 * d);
  const dh = d / heads;
  const merged = new Float64Array(b * t * d);
  const at = (bi: number, ti: number, block: number, feature: number) =>
    qkv[(bi * t + ti) * 3 * d + block * d + feature];
  for (let bi = 0; bi < b; bi++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < t; i++) {
        const scores: number[] = [];
        for (let j = 0; j < t; j++) {
          let s = 0;
          for (let f = h * dh; f < (h + 1) * dh; f++) s += at(bi, i, 0, f) * at(bi, j, 1, f);
          scores.push(causal && j > i ? -Infinity : s / Math.sqrt(dh));
        }
        const top = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - top));
        const z = e.reduce((a, c) => a + c, 0);
        for (let f = h * dh; f < (h + 1) * dh; f++) {
          let s = 0;
          for (let j = 0; j < t; j++) s += (e[j] / z) * at(bi, j, 2, f);
          merged[(bi * t + i) * d + f] = s;
        }
      }
  return affine(merged, b * t, wOut, bOut, d, d);
}

describe('rt.nn.embedding', () => {
  it('weight [vocab, dim]; forward gathers rows for indices of any shape, as arrays, Int32Array or tensors', async () => {
    const rt = await cpu();
    const emb = rt.nn.embedding(7, 4, { seed: 3 });
    expect(Object.keys(emb.namedParams())).toEqual(['weight']);
    expect(emb.weight.shape).toEqual([7, 4]);
    const w = await emb.weight.dataF64();
    expect(w.some((v) => v !== 0)).toBe(true);
    const indices = [
      [6, 0, 2],
      [2, 2, 5],
    ];
    const expected = indices.flat().flatMap((i) => Array.from(w.subarray(i * 4, i * 4 + 4)));
    const fromArray = emb.forward(indices);
    expect(fromArray.shape).toEqual([2, 3, 4]);
    expect(Array.from(await fromArray.dataF64())).toEqual(expected);
    expect(Array.from(await emb.forward(Int32Array.from(indices.flat())).dataF64())).toEqual(expected);
    expect(Array.from(await emb.forward(rt.tensor(indices)).dataF64())).toEqual(expected);
    expect(emb.forward(3).shape).toEqual([4]);
    // The same seed makes the same table; the default seeds differ from one another.
    expect(await rt.nn.embedding(7, 4, { seed: 3 }).weight.dataF64()).toEqual(w);
    expect(await rt.nn.embedding(7, 4).weight.dataF64()).not.toEqual(await rt.nn.embedding(7, 4).weight.dataF64());
  });

  it('round-trips through safetensors, and train()/eval() only set the flag (an embedding has no dropout)', async () => {
    const rt = await cpu();
    const emb = rt.nn.embedding(6, 3, { seed: 4 });
    const loaded = rt.loadSafetensors(await rt.saveSafetensors(emb.namedParams()));
    expect(Object.keys(loaded)).toEqual(['weight']);
    expect(loaded.weight.shape).toEqual([6, 3]);
    expectClose(await loaded.weight.dataF64(), await emb.weight.dataF64(), 1e-7, 'weight');
    const before = await emb.forward([5, 0]).dataF64();
    expect(emb.eval().training).toBe(false);
    expect(await emb.forward([5, 0]).dataF64()).toEqual(before);
    expect(emb.train().training).toBe(true);
    emb.dispose();
    expect(() => emb.forward([0])).toThrow(/nn.embedding\(6, 3\)/);
  });

  it('repeated indices accumulate into the gradient of their row', async () => {
    const rt = await cpu();
    const emb = rt.nn.embedding(4, 2, { seed: 1 });
    const loss = rt.sum(emb.forward([1, 3, 1, 1]));
    const [g] = await rt.grad(loss, emb.params());
    expect(Array.from(await g.dataF64())).toEqual([0, 0, 3, 3, 0, 0, 1, 1]);
  });

  it('rejects bad sizes and indices out of the vocabulary, naming the module, and stays usable', async () => {
    const rt = await cpu();
    expect(() => rt.nn.embedding(0, 4)).toThrow(/nn.embedding: vocab must be a positive integer, got 0/);
    expect(() => rt.nn.embedding(5, 1.5)).toThrow(/nn.embedding: dim must be a positive integer, got 1.5/);
    const emb = rt.nn.embedding(5, 3, { seed: 2 });
    expect(() => emb.forward([0, 5])).toThrow(/nn.embedding\(5, 3\): gather.*5/);
    expect(() => emb.forward([-7])).toThrow(/nn.embedding\(5, 3\): gather/);
    expect(() => emb.forward(rt.tensor([1.5]))).toThrow(/nn.embedding\(5, 3\): gather/);
    expect(emb.forward([4]).shape).toEqual([1, 3]);
  });
});

describe('rt.nn.linear over N-D input', () => {
  it('[..., in] → [..., out], equal to the 2-D layer row by row, with a fused activation', async () => {
    const rt = await cpu();
    const layer = rt.nn.linear(5, 3, { activation: 'gelu', seed: 4 });
    const values = randomArray(2 * 3 * 5, rng(5));
    const y = layer.forward(rt.tensor(values, [2, 3, 5]));
    expect(y.shape).toEqual([2, 3, 3]);
    expect(await y.dataF64()).toEqual(await layer.forward(rt.tensor(values, [6, 5])).dataF64());
    expect(layer.forward(rt.tensor(values.subarray(0, 5), [5])).shape).toEqual([3]);
    expect(() => layer.forward(rt.tensor(values.subarray(0, 8), [2, 1, 4]))).toThrow(
      /nn.linear\(5, 3\): x must be \[\.\.\., 5\], got \[2,1,4\]/,
    );
    const [dw] = await rt.grad(rt.sum(layer.forward(rt.tensor(values, [2, 3, 5]))), [layer.weight]);
    const [dw2] = await rt.grad(rt.sum(layer.forward(rt.tensor(values, [6, 5]))), [layer.weight]);
    expect(await dw.dataF64()).toEqual(await dw2.dataF64());
  });
});

describe('rt.nn.multiHeadAttention', () => {
  for (const causal of [false, true]) {
    it(`${causal ? 'causal' : 'full'}: PyTorch names and shapes, and the output of nn.MultiheadAttention written out`, async () => {
      const rt = await cpu();
      const [b, t, d, heads] = [2, 3, 8, 2];
      const mha = rt.nn.multiHeadAttention(d, heads, { causal, seed: 9 });
      const named = mha.namedParams();
      expect(Object.keys(named)).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
      expect(Object.values(named).map((p) => p.shape)).toEqual([[3 * d, d], [3 * d], [d, d], [d]]);
      // Non-zero biases, so that a bias applied to the wrong block or head would show.
      const random = rng(10);
      rt.assign(mha.inProjBias, rt.tensor(randomArray(3 * d, random), [3 * d]));
      rt.assign(mha.outProj.bias!, rt.tensor(randomArray(d, random), [d]));
      const x = randomArray(b * t * d, random);
      const y = mha.forward(rt.tensor(x, [b, t, d]));
      expect(y.shape).toEqual([b, t, d]);
      const expected = await referenceAttention(named, x, b, t, d, heads, causal);
      expectClose(await y.dataF64(), expected, 1e-12, 'attention');
      const unbatched = mha.forward(rt.tensor(x.subarray(0, t * d), [t, d]));
      expect(unbatched.shape).toEqual([t, d]);
      expectClose(await unbatched.dataF64(), expected.subarray(0, t * d), 1e-12, 'unbatched');
    });
  }

  it('round-trips through safetensors; dropout on its output while training, none after eval()', async () => {
    const rt = await cpu(3);
    const mha = rt.nn.multiHeadAttention(8, 4, { dropout: 0.5, seed: 6 });
    const plain = rt.nn.multiHeadAttention(8, 4, { seed: 7 });
    const x = rt.tensor(randomArray(2 * 5 * 8, rng(7)), [2, 5, 8]);
    const loaded = rt.loadSafetensors(await rt.saveSafetensors(mha.namedParams()));
    for (const [name, p] of Object.entries(plain.namedParams())) rt.assign(p, loaded[name]);
    mha.eval();
    const reference = await plain.forward(x).dataF64();
    expectClose(await mha.forward(x).dataF64(), reference, 1e-6, 'eval output after reload');
    mha.train();
    expect(mha.outProj.training).toBe(true);
    const dropped = await mha.forward(x).dataF64();
    const zeros = dropped.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(20);
    expect(zeros).toBeLessThan(60);
  });

  it('causal: an output never depends on later positions', async () => {
    const rt = await cpu();
    const mha = rt.nn.multiHeadAttention(4, 2, { causal: true, seed: 1 });
    const x = randomArray(3 * 4, rng(2));
    const changed = Float64Array.from(x, (v, i) => (i >= 8 ? v + 1 : v));
    const a = await mha.forward(rt.tensor(x, [1, 3, 4])).dataF64();
    const c = await mha.forward(rt.tensor(changed, [1, 3, 4])).dataF64();
    expect(Array.from(c.subarray(0, 8))).toEqual(Array.from(a.subarray(0, 8)));
    expect(c[8]).not.toBe(a[8]);
  });

  it('rejects heads that do not divide dModel, bad dropout and bad input shapes', async () => {
    const rt = await cpu();
    expect(() => rt.nn.multiHeadAttention(10, 4)).toThrow(
      /nn.multiHeadAttention: heads \(4\) must divide dModel \(10\)/,
    );
    expect(() => rt.nn.multiHeadAttention(8, 0)).toThrow(/nn.multiHeadAttention: heads must be a positive integer/);
    expect(() => rt.nn.multiHeadAttention(8, 2, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\), got 1/);
    const mha = rt.nn.multiHeadAttention(8, 2);
    expect(() => mha.forward(rt.zeros([2, 3, 6]))).toThrow(/nn.multiHeadAttention: x must be \[B, T, 8\].*\[2,3,6\]/);
    expect(() => mha.forward(rt.zeros([1, 2, 3, 8]))).toThrow(/\[1,2,3,8\]/);
    expect(mha.forward(rt.ones([1, 2, 8])).shape).toEqual([1, 2, 8]);
  });
});

const BLOCK_NAMES = [
  'ln1.weight',
  'ln1.bias',
  'attn.in_proj_weight',
  'attn.in_proj_bias',
  'attn.out_proj.weight',
  'attn.out_proj.bias',
  'ln2.weight',
  'ln2.bias',
  'mlp.0.weight',
  'mlp.0.bias',
  'mlp.2.weight',
  'mlp.2.bias',
];

describe('rt.nn.transformerBlock', () => {
  it('PyTorch names and shapes; forward is x + attn(ln1(x)), then + mlp(ln2(·)) with a tanh gelu', async () => {
    const rt = await cpu();
    const [d, heads] = [8, 2];
    const block = rt.nn.transformerBlock(d, heads, { mlpRatio: 3, causal: true, seed: 5 });
    const named = block.namedParams();
    expect(Object.keys(named)).toEqual(BLOCK_NAMES);
    expect(Object.values(named).map((p) => p.shape)).toEqual([
      [d],
      [d],
      [3 * d, d],
      [3 * d],
      [d, d],
      [d],
      [d],
      [d],
      [3 * d, d],
      [3 * d],
      [d, 3 * d],
      [d],
    ]);
    expect(block.params()).toEqual(Object.values(named));
    const x = rt.tensor(randomArray(2 * 3 * d, rng(6)), [2, 3, d]);
    const y = block.forward(x);
    expect(y.shape).toEqual([2, 3, d]);
    const p = named;
    const h = rt.add(x, block.attn.forward(rt.layerNorm(x, p['ln1.weight'], p['ln1.bias'])));
    const n2 = rt.reshape(rt.layerNorm(h, p['ln2.weight'], p['ln2.bias']), [6, d]);
    const hidden = rt.gelu(rt.add(rt.matmul(n2, p['mlp.0.weight'], { transposeB: true }), p['mlp.0.bias']));
    const mlp = rt.add(rt.matmul(hidden, p['mlp.2.weight'], { transposeB: true }), p['mlp.2.bias']);
    expectClose(await y.dataF64(), await rt.add(h, rt.reshape(mlp, [2, 3, d])).dataF64(), 1e-12, 'block');
  });

  it('round-trips through safetensors into a block made from another seed', async () => {
    const rt = await cpu();
    const block = rt.nn.transformerBlock(8, 4, { seed: 1 });
    // Non-default norms and biases, so that a name swapped on load would change the output.
    const random = rng(8);
    for (const p of block.params().filter((t) => t.rank === 1))
      rt.assign(p, rt.tensor(randomArray(p.size, random), p.shape));
    const bytes = await rt.saveSafetensors(block.namedParams());
    const other = rt.nn.transformerBlock(8, 4, { seed: 2 });
    const x = rt.tensor(randomArray(3 * 8, rng(9)), [1, 3, 8]);
    expect(await other.forward(x).dataF64()).not.toEqual(await block.forward(x).dataF64());
    const loaded = rt.loadSafetensors(bytes);
    expect(Object.keys(loaded).sort()).toEqual([...BLOCK_NAMES].sort());
    for (const [name, p] of Object.entries(other.namedParams())) {
      expect(loaded[name].shape, name).toEqual(p.shape);
      rt.assign(p, loaded[name]);
    }
    // Stored as float32: the block's float64 values come back rounded.
    expectClose(await other.forward(x).dataF64(), await block.forward(x).dataF64(), 1e-5, 'reloaded block');
  });

  it('dropout after the attention projection and the MLP while training; eval() is the identity there', async () => {
    const rt = await cpu(7);
    const block = rt.nn.transformerBlock(16, 2, { dropout: 0.5, seed: 3 });
    const plain = rt.nn.transformerBlock(16, 2, { seed: 3 });
    const x = rt.tensor(randomArray(4 * 16, rng(4)), [1, 4, 16]);
    const reference = await plain.forward(x).dataF64();
    expect(block.training).toBe(true);
    const trained = await block.forward(x).dataF64();
    expect(trained).not.toEqual(reference);
    expect(block.eval()).toBe(block);
    expect([block.attn.training, block.ln1.training, block.mlp[0].training]).toEqual([false, false, false]);
    expect(await block.forward(x).dataF64()).toEqual(reference);
    block.train();
    expect(block.attn.training).toBe(true);
    // Fresh masks each call while training.
    expect(await block.forward(x).dataF64()).not.toEqual(trained);
  });

  it('rejects bad configurations and inputs, and the runtime stays usable', async () => {
    const rt = await cpu();
    expect(() => rt.nn.transformerBlock(6, 4)).toThrow(/nn.transformerBlock: heads \(4\) must divide dModel \(6\)/);
    expect(() => rt.nn.transformerBlock(8, 2, { mlpRatio: 0 })).toThrow(/nn.transformerBlock: mlpRatio must be/);
    expect(() => rt.nn.transformerBlock(8, 2, { dropout: -0.1 })).toThrow(/nn.transformerBlock: dropout must be/);
    const block = rt.nn.transformerBlock(8, 2);
    expect(() => block.forward(rt.zeros([1, 3, 4]))).toThrow(/nn.transformerBlock: x must be \[B, T, 8\].*\[1,3,4\]/);
    expect(block.forward(rt.ones([1, 3, 8])).shape).toEqual([1, 3, 8]);
  });
});
