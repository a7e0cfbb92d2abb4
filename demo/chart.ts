// The page's charts, drawn by Observable Plot: lines with baselines, bars, cells (confusion matrices, filters,
// attention heatmaps) from one declarative API. Named imports only, so that the bundle keeps just these marks.
import { barX, barY, cell, line, plot, ruleY, text, tip, type PlotOptions } from '@observablehq/plot';

export interface SeriesPoint {
  step: number;
  value: number;
}

const COLORS = ['#e8710a', '#1a73e8', '#188038', '#a142f4', '#9aa0a6', '#f9ab00', '#12b5cb', '#e52592'];

function draw(root: Element, options: PlotOptions): void {
  root.replaceChildren(plot({ style: { fontSize: '11px', background: 'transparent' }, ...options }));
}

/**
 * The shared training chart: every series against the step (losses from 0, accuracies on their own 0–1 chart
 * below), and each baseline as a dashed horizontal line with its name.
 */
export function drawTrainingChart(
  losses: Element,
  accuracies: Element,
  series: Record<string, SeriesPoint[]>,
  baselines: Record<string, number>,
  totalSteps: number,
): void {
  const rows = (pick: (name: string) => boolean) =>
    Object.entries(series)
      .filter(([name]) => pick(name))
      .flatMap(([name, points]) => points.map((p) => ({ ...p, series: name })));
  const isAccuracy = (name: string) => /accuracy/.test(name);
  const lossRows = rows((n) => !isAccuracy(n));
  const accuracyRows = rows(isAccuracy);
  const names = Object.keys(series);
  const color = { domain: names, range: names.map((_, i) => COLORS[i % COLORS.length]), legend: names.length > 0 };
  const baselineRows = Object.entries(baselines).map(([name, value]) => ({ name, value }));
  const lastStep = Math.max(totalSteps, ...lossRows.map((r) => r.step), 1);
  draw(losses, {
    width: 520,
    height: 240,
    x: { domain: [0, lastStep], label: 'step' },
    y: { grid: true, zero: true, label: 'loss' },
    color,
    marks: [
      ruleY(baselineRows, { y: 'value', stroke: '#5f6368', strokeDasharray: '4 3' }),
      text(baselineRows, { y: 'value', x: lastStep, text: 'name', textAnchor: 'end', dy: -6, fill: '#5f6368' }),
      line(lossRows, { x: 'step', y: 'value', stroke: 'series', strokeWidth: 2 }),
    ],
  });
  accuracies.toggleAttribute('hidden', accuracyRows.length === 0);
  if (accuracyRows.length === 0) return;
  draw(accuracies, {
    width: 520,
    height: 140,
    x: { domain: [0, lastStep], label: 'step' },
    y: { grid: true, domain: [0, 1], label: 'accuracy' },
    color: { ...color, legend: false },
    marks: [line(accuracyRows, { x: 'step', y: 'value', stroke: 'series', strokeWidth: 2 })],
  });
}

export interface Bar {
  group: string;
  series: string;
  value: number;
}

/** Grouped vertical bars: one group per `group`, one bar per `series` inside it. */
export function drawBars(root: Element, bars: Bar[], unit: string): void {
  draw(root, {
    width: 520,
    height: 260,
    fx: { label: null },
    x: { axis: null },
    y: { grid: true, label: unit },
    color: { legend: true },
    marks: [
      barY(bars, { fx: 'group', x: 'series', y: 'value', fill: 'series' }),
      tip(bars, { fx: 'group', x: 'series', y: 'value' }),
    ],
  });
}

/** One horizontal bar per class: a classifier's probabilities, the most likely class darker. */
export function drawProbabilities(root: Element, probabilities: ArrayLike<number>): void {
  const rows = Array.from(probabilities, (p, digit) => ({ digit: String(digit), p }));
  const best = rows.reduce((a, b) => (b.p > a.p ? b : a), rows[0]);
  draw(root, {
    width: 260,
    height: 220,
    marginLeft: 24,
    x: { domain: [0, 1], grid: true, label: 'probability' },
    y: { domain: rows.map((r) => r.digit), label: null },
    marks: [
      barX(rows, { y: 'digit', x: 'p', fill: (r: { digit: string }) => (r === best ? '#1a73e8' : '#9ac1f5') }),
      text(rows, { y: 'digit', x: 'p', text: (r: { p: number }) => r.p.toFixed(2), textAnchor: 'start', dx: 3 }),
    ],
  });
}

/** A confusion matrix: true class down, predicted class across, counts as colour and as text. */
export function drawConfusion(root: Element, counts: number[][]): void {
  const rows = counts.flatMap((row, truth) =>
    row.map((n, predicted) => ({ truth: String(truth), predicted: String(predicted), n })),
  );
  const classes = counts.map((_, i) => String(i));
  draw(root, {
    width: 300,
    height: 300,
    marginLeft: 36,
    x: { domain: classes, label: 'predicted', axis: 'top' },
    y: { domain: classes, label: 'true' },
    color: { type: 'sqrt', scheme: 'blues' },
    marks: [
      cell(rows, { x: 'predicted', y: 'truth', fill: 'n', inset: 0.5 }),
      text(rows, {
        x: 'predicted',
        y: 'truth',
        text: (r: { n: number }) => (r.n ? String(r.n) : ''),
        fill: (r: { truth: string; predicted: string }) => (r.truth === r.predicted ? 'white' : '#b3261e'),
      }),
    ],
  });
}

/**
 * Small heatmaps side by side, one per `maps[i]` (row-major `rows`×`cols`): convolution filters, attention heads.
 * A diverging scale centred on 0 unless `sequential`.
 */
export function drawHeatmaps(
  root: Element,
  maps: { title: string; values: ArrayLike<number> }[],
  rows: number,
  cols: number,
  options: { cellSize?: number; sequential?: boolean; rowLabels?: string[]; colLabels?: string[] } = {},
): void {
  const size = options.cellSize ?? 14;
  const data = maps.flatMap((m) =>
    Array.from(m.values, (v, i) => ({
      map: m.title,
      row: options.rowLabels?.[Math.floor(i / cols)] ?? Math.floor(i / cols),
      col: options.colLabels?.[i % cols] ?? i % cols,
      v,
    })),
  );
  const columns = Math.max(1, Math.min(maps.length, Math.floor(520 / (cols * size + 12))));
  const gridRows = Math.ceil(maps.length / columns);
  const label = (labels: string[] | undefined) => (labels ? undefined : null);
  draw(root, {
    width: columns * (cols * size + 12) + 24,
    height: gridRows * (rows * size + 22) + 20,
    marginLeft: options.rowLabels ? 24 : 8,
    marginTop: 20,
    fx: { axis: null },
    fy: { axis: null },
    x: { axis: options.colLabels ? 'bottom' : null, label: label(options.colLabels), tickSize: 0 },
    y: { axis: options.rowLabels ? 'left' : null, label: label(options.rowLabels), tickSize: 0 },
    color: options.sequential ? { scheme: 'viridis' } : { type: 'diverging', scheme: 'rdbu', pivot: 0 },
    marks: [
      cell(data, {
        x: 'col',
        y: 'row',
        fx: (d: { map: string }) => maps.findIndex((m) => m.title === d.map) % columns,
        fy: (d: { map: string }) => Math.floor(maps.findIndex((m) => m.title === d.map) / columns),
        fill: 'v',
        title: (d: { map: string; v: number }) => `${d.map}: ${d.v.toFixed(3)}`,
      }),
      text(maps, {
        fx: (_: unknown, i: number) => i % columns,
        fy: (_: unknown, i: number) => Math.floor(i / columns),
        frameAnchor: 'top',
        dy: -14,
        text: 'title',
      }),
    ],
  });
}
