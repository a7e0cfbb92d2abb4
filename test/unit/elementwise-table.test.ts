// The op tables in TypeScript and the `switch`es in WGSL name the same ops: a code is generated for every row and
// every code has a `case`, so no op can fall through to the `default` (which returns a NaN).
import { describe, expect, it } from 'vitest';
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { BINARY_CODES, UNARY_CODES, binaryShader, unaryShader } from '../../src/ops/elementwise.js';
import { ACTIVATION_CODES, activationWgsl } from '../../src/ops/activation.js';
import { TERNARY_CODES, ternaryShader } from '../../src/ops/where.js';
import { Shader, wgslConstName } from '../../src/core/shader.js';

/** The `case` labels of the `switch` on `selector`, and what its `default` returns. */
function switchOn(source: string, selector: string) {
  const start = source.indexOf(`switch ${selector} {`);
  expect(start, `no switch on ${selector}`).toBeGreaterThanOrEqual(0);
  const body = source.slice(start, source.indexOf('\n  }\n', start));
  const cases = [...body.matchAll(/case (\w+):/g)].map((m) => m[1]);
  const fallback = /default: \{ return ([^;]+); \}/.exec(body)?.[1];
  return { cases, fallback };
}

/** The generated `const NAME = Nu;` lines, as NAME → N. */
function constants(source: string): Map<string, number> {
  return new Map([...source.matchAll(/^const (\w+) = (\d+)u;$/gm)].map((m) => [m[1], Number(m[2])]));
}

const tables = [
  { name: 'unary', source: unaryShader.source, selector: 'OP', codes: UNARY_CODES },
  { name: 'binary', source: binaryShader.source, selector: 'OP', codes: BINARY_CODES },
  { name: 'ternary', source: ternaryShader.source, selector: 'OP', codes: TERNARY_CODES },
  {
    name: 'activation',
    source: new Shader('activation', activationWgsl).source,
    selector: 'ACTIVATION',
    codes: ACTIVATION_CODES,
  },
];

describe('op tables and their WGSL switches', () => {
  for (const { name, source, selector, codes } of tables) {
    it(`${name}: every row has a distinct code and a case, every case a row, and the default fails loudly`, () => {
      const rows = Object.entries(codes).map(([op, code]) => [wgslConstName(op), code] as const);
      const declared = constants(source);
      for (const [constName, code] of rows) expect(declared.get(constName), constName).toBe(code);
      expect(new Set(rows.map(([, code]) => code)).size).toBe(rows.length);

      const { cases, fallback } = switchOn(source, selector);
      expect([...cases].sort()).toEqual(rows.map(([constName]) => constName).sort());
      expect(fallback).toBe('unknownOpCode()');
    });
  }

  it('the generated sources parse, prelude included', () => {
    for (const shader of [unaryShader, binaryShader]) {
      const reflect = new WgslReflect(shader.source);
      expect(reflect.entry.compute.map((e) => e.name)).toEqual(['main']);
      expect(shader.source).toContain('fn flatIndex(');
    }
  });

  it('turns camelCase op names into WGSL constant names', () => {
    expect(wgslConstName('reluGrad')).toBe('RELU_GRAD');
    expect(wgslConstName('tanh')).toBe('TANH');
  });
});
