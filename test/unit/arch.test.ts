// The layers of src/ and who may import whom (README, "Layout"): every import points down, and nothing cycles.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** What each layer may import, besides itself. `index.ts` (the package entry) may import anything. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  tensor: ['core'],
  backend: ['core'],
  ops: ['core', 'tensor'],
  nn: ['core', 'tensor', 'ops'],
  optim: ['core', 'tensor', 'ops'],
  data: ['core'],
  io: ['core', 'tensor'],
  runtime: ['core', 'tensor', 'backend', 'ops', 'nn', 'optim', 'data', 'io'],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? filesUnder(path)
      : /\.ts$/.test(name) && !name.endsWith('.d.ts')
        ? [path]
        : [];
  });
}

/** The relative imports of a file (value and type imports, re-exports and dynamic imports), resolved to .ts paths. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [
    ...source.matchAll(/(?:from\s*|import\s*\(\s*|^import\s+)['"](\.[^'"?]+)(?:\?[^'"]*)?['"]/gm),
  ].map((m) => m[1]);
  return specifiers.map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

const layerOf = (file: string): string => {
  const [top, next] = relative(join(root, 'src'), file).split('/');
  return next === undefined ? top.replace(/\.ts$/, '') : top;
};

const srcFiles = filesUnder(join(root, 'src'));
const graph = new Map(srcFiles.map((f) => [f, importsOf(f).filter((t) => t.startsWith(join(root, 'src')))]));

/** Strongly connected components with more than one file (or a file importing itself): the import cycles. */
export function cycles(edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture', () => {
  it('src/ has no import cycle, type-only imports included', () => {
    const named = cycles(graph).map((c) => c.map((f) => relative(root, f)).sort());
    expect(named).toEqual([]);
  });

  it('finds a planted cycle (the check itself works)', () => {
    const planted = new Map(graph);
    const a = join(root, 'src/core/shape.ts');
    planted.set(a, [...(graph.get(a) ?? []), join(root, 'src/runtime/runtime.ts')]);
    expect(cycles(planted).length).toBeGreaterThan(0);
  });

  it('every import points down the layers', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      if (from === 'index') continue;
      const allowed = MAY_IMPORT[from];
      if (!allowed) {
        violations.push(`${relative(root, file)}: layer '${from}' has no rule in MAY_IMPORT`);
        continue;
      }
      for (const target of targets) {
        const to = layerOf(target);
        if (to !== from && !allowed.includes(to))
          violations.push(`${relative(root, file)} → ${relative(root, target)} (${from} may not import ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('demo/ and bench/ import the package entry only, and the demo never imports bench/', () => {
    const violations: string[] = [];
    for (const dir of ['demo', 'bench']) {
      for (const file of filesUnder(join(root, dir))) {
        for (const target of importsOf(file)) {
          const inside = relative(root, target);
          const intoSrc = inside.startsWith('src/') && inside !== 'src/index.ts';
          const demoIntoBench = dir === 'demo' && inside.startsWith('bench/');
          if (intoSrc || demoIntoBench) violations.push(`${relative(root, file)} → ${inside}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
