// The tolerance helpers are what every GPU comparison rests on, so their own failure modes are pinned here.
import { describe, expect, it } from 'vitest';
import { dotBound, expectBitEqual, expectClose, relBound } from '../helpers.js';

describe('expectClose', () => {
  it('passes values within the bound, scalar or per element', () => {
    expectClose([1, 2, 3], [1, 2.05, 3], 0.1);
    expectClose([1, 2, 3], [1, 2.05, 3], [0, 0.1, 0]);
  });

  it('fails a value just outside its bound, and names the element', () => {
    expect(() => expectClose([1, 2, 3], [1, 2.2, 3], 0.1, 'x')).toThrow(/x: element 1 is 2, expected 2.2/);
    expect(() => expectClose([1, 2, 3], [1, 2, 3.2], [1, 1, 0.1])).toThrow(/element 2/);
  });

  it('fails NaN on either side, whatever the bound', () => {
    expect(() => expectClose([1, NaN], [1, 2], 1e9)).toThrow(/NaN: an element no kernel wrote/);
    expect(() => expectClose([1, 2], [1, NaN], 1e9)).toThrow(/element 1/);
    expect(() => expectClose([NaN], [NaN], 1e9)).toThrow(/element 0/);
  });

  it('fails an infinite value against a finite one, and +Inf against −Inf', () => {
    expect(() => expectClose([Infinity], [1], 1e30)).toThrow(/element 0/);
    expect(() => expectClose([Infinity], [-Infinity], 1e30)).toThrow(/element 0/);
  });

  it('rejects a bound that is NaN, undefined, infinite or negative, even where the values agree', () => {
    expect(() => expectClose([1, 2], [1, 2], NaN)).toThrow(/bound for element 0 is NaN/);
    expect(() => expectClose([1, 2], [1, 2], Infinity)).toThrow(/bound for element 0 is Infinity/);
    expect(() => expectClose([1, 2], [1, 2], -1)).toThrow(/bound for element 0 is -1/);
    expect(() => expectClose([1, 2], [1, 5], [0.1, NaN])).toThrow(/bound for element 1 is NaN/);
    expect(() => expectClose([1, 2], [1, 5], [0.1, Infinity])).toThrow(/bound for element 1 is Infinity/);
    const holey: number[] = [0.1, 0.1];
    delete holey[1];
    expect(() => expectClose([1, 2], [1, 5], holey)).toThrow(/bound for element 1 is undefined/);
  });

  it('rejects a bound array of the wrong length', () => {
    expect(() => expectClose([1, 2, 3], [1, 2, 30], [0.1, 0.1])).toThrow(/bound length/);
    expect(() => expectClose([1, 2], [1, 2], [0.1, 0.1, 0.1])).toThrow(/bound length/);
  });

  it('rejects results of the wrong length', () => {
    expect(() => expectClose([1, 2], [1, 2, 3], 1)).toThrow(/length/);
  });

  it('a bound scaled by max|ref| becomes infinite when the reference overflows, and is then rejected', () => {
    const ref = [1, Infinity];
    const scale = Math.max(...ref.map(Math.abs));
    expect(() =>
      expectClose(
        [5, Infinity],
        ref,
        ref.map(() => 1e-3 * scale),
      ),
    ).toThrow(/a bound must be a finite number/);
  });

  it('dotBound and relBound grow with the reduction length and the magnitude', () => {
    const [small, large] = dotBound([1, 1], 1000, 4, 0);
    expect(small).toBeCloseTo(4 * 1000 * 2 ** -24, 15);
    expect(large).toBe(small);
    expect(dotBound([1], 10, 4, 0)[0] * 100).toBeCloseTo(dotBound([1], 1000, 4, 0)[0], 15);
    expect(Array.from(relBound([2, -4], 8, 0))).toEqual([16 * 2 ** -24, 32 * 2 ** -24]);
  });
});

describe('expectBitEqual', () => {
  it('passes identical values and fails any difference', () => {
    expectBitEqual([1, -2, 0.1], [1, -2, 0.1]);
    expect(() => expectBitEqual([1, 2], [1, 2 + 2 ** -51], 'r')).toThrow(/r: element 1/);
    expect(() => expectBitEqual([1], [1, 2])).toThrow(/length/);
  });

  it('fails NaN even when both sides are NaN (toEqual would pass them)', () => {
    expect([NaN]).toEqual([NaN]);
    expect(() => expectBitEqual([1, NaN], [1, NaN])).toThrow(/element 1 is NaN/);
  });
});
