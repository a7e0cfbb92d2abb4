// The built package: `import { createRuntime } from 'webgrad'` in plain Node, from dist/, with its types beside it.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

describe('the built package', () => {
  it('exports types first and an ESM build with the WGSL inlined', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.type).toBe('module');
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types');
    expect(existsSync('dist/webgrad.js'), 'run `npm run build` first (npm test does)').toBe(true);
    expect(existsSync('dist/index.d.ts')).toBe(true);
    expect(readFileSync('dist/webgrad.js', 'utf8')).toContain('@compute');
  });

  it('loads in Node 20 and computes on the CPU backend', () => {
    const script = `
      import { createRuntime } from 'webgrad';
      const rt = await createRuntime({ backend: 'cpu' });
      const w = rt.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
      const [g] = await rt.grad(rt.sum(rt.matmul(rt.tensor([1, 1], [1, 2]), w)), [w]);
      console.log(JSON.stringify(Array.from(await g.data())));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out.trim())).toEqual([1, 1, 1, 1]);
  });
});
