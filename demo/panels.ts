// The panels every tab shares, drawn from plain values: the stats row, the per-kernel times of one step and the
// gradient check.
import type { GradientCheck, ProfileResult } from '../src/index.js';

const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;

/** One box per statistic (step, loss, accuracy, steps/s, …), each marked `data-stat=<name>`. */
export function renderStats(stats: Record<string, string>): void {
  const entries = Object.entries(stats);
  $('#stats').replaceChildren(
    ...(entries.length ? entries : [['step', '0']]).map(([name, value]) => {
      const box = document.createElement('div');
      box.dataset.stat = name;
      const b = document.createElement('b');
      b.textContent = value;
      const span = document.createElement('span');
      span.textContent = name;
      box.append(b, span);
      return box;
    }),
  );
}

/** The kernels of one profiled step, summed by name and shapes, slowest first. */
export function renderKernels(title: string, result: ProfileResult<unknown>): void {
  const byKernel = new Map<string, { name: string; shape: string; ms: number; count: number }>();
  for (const k of result.kernels) {
    const key = `${k.name}  ${k.shape}`;
    const entry = byKernel.get(key) ?? { name: k.name, shape: k.shape, ms: 0, count: 0 };
    entry.ms += k.ms;
    entry.count++;
    byKernel.set(key, entry);
  }
  const rows = [...byKernel.values()].sort((a, b) => b.ms - a.ms);
  $('#kernel-source').textContent =
    `(${title}, per kernel, rt.profile: ${result.timing === 'timestamp-query' ? 'GPU timestamps' : result.timing})`;
  // ms before the shapes, so that a narrow window still shows the times.
  const table = $<HTMLTableElement>('#kernels');
  table.innerHTML = '<thead><tr><th>kernel</th><th>ms</th><th>shapes</th></tr></thead>';
  const body = table.createTBody();
  for (const v of rows.slice(0, 12)) {
    const tr = body.insertRow();
    tr.insertCell().textContent = v.name;
    tr.insertCell().textContent = v.ms.toFixed(3);
    tr.insertCell().textContent = `${v.shape}${v.count > 1 ? ` ×${v.count}` : ''}`;
  }
}

/** Per parameter: the largest relative difference from the reference beside its bound, and whether it holds. */
export function renderGradientCheck(check: GradientCheck | undefined, error?: string): void {
  const panel = $('[data-test=gradient-check]');
  const table = $<HTMLTableElement>('#gradients');
  panel.dataset.ok = check ? String(check.ok) : '';
  if (!check) {
    table.innerHTML = error ? '' : '<tbody><tr><td>Not checked yet.</td></tr></tbody>';
    $('#gradient-source').textContent = error ? `failed: ${error}` : '';
    return;
  }
  $('#gradient-source').textContent =
    `K = ${check.reduction}, loss ${check.loss.toFixed(6)} here vs ${check.referenceLoss.toFixed(6)} on the reference: ` +
    (check.ok ? '✓ every parameter within its bound' : '✗ outside the bound');
  table.innerHTML =
    '<thead><tr><th>parameter</th><th>shape</th><th>max rel. diff</th><th>bound c·K·2⁻²⁴</th><th></th></tr></thead>';
  const body = table.createTBody();
  for (const p of check.parameters) {
    const tr = body.insertRow();
    tr.className = p.ok ? 'ok' : 'bad';
    const relativeBound = p.maxRef > 0 ? p.bound / p.maxRef : p.bound;
    for (const v of [p.name, `[${p.shape.join(',')}]`, p.relativeDiff.toExponential(2), relativeBound.toExponential(2)])
      tr.insertCell().textContent = v;
    tr.insertCell().textContent = p.ok ? '✓' : '✗';
  }
}
