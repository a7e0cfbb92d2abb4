// Small SVG charts: no library, redrawn whole (a few hundred points at most).

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export interface Point {
  step: number;
  loss: number;
  accuracy?: number;
}

/** Loss (left axis, from 0) and accuracy (right axis, 0–1) against the step. */
export function drawTrainingChart(svg: SVGSVGElement, points: Point[], totalSteps: number): void {
  const [width, height] = [520, 300];
  const pad = { left: 48, right: 44, top: 14, bottom: 30 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  svg.replaceChildren();
  const maxLoss = Math.max(1e-6, ...points.map((p) => p.loss));
  const lossTop = niceCeil(maxLoss);
  const x = (step: number) => pad.left + (plotW * step) / Math.max(1, totalSteps);
  const yLoss = (v: number) => pad.top + plotH * (1 - v / lossTop);
  const yAcc = (v: number) => pad.top + plotH * (1 - v);

  for (let i = 0; i <= 4; i++) {
    const y = pad.top + (plotH * i) / 4;
    svg.append(el('line', { x1: pad.left, x2: pad.left + plotW, y1: y, y2: y, stroke: '#eceff3' }));
    svg.append(el('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end' }, fmt(lossTop * (1 - i / 4))));
    svg.append(el('text', { x: pad.left + plotW + 6, y: y + 4 }, (1 - i / 4).toFixed(2)));
  }
  for (let i = 0; i <= 5; i++) {
    const step = Math.round((totalSteps * i) / 5);
    svg.append(el('text', { x: x(step), y: height - 10, 'text-anchor': 'middle' }, String(step)));
  }
  svg.append(el('rect', { x: pad.left, y: pad.top, width: plotW, height: plotH, fill: 'none', stroke: '#cdd2d9' }));
  svg.append(
    el(
      'text',
      {
        x: 12,
        y: pad.top + plotH / 2,
        transform: `rotate(-90 12 ${pad.top + plotH / 2})`,
        'text-anchor': 'middle',
        fill: '#e8710a',
      },
      'loss',
    ),
  );
  svg.append(
    el(
      'text',
      {
        x: width - 6,
        y: pad.top + plotH / 2,
        transform: `rotate(90 ${width - 6} ${pad.top + plotH / 2})`,
        'text-anchor': 'middle',
        fill: '#1a73e8',
      },
      'accuracy',
    ),
  );

  const path = (ys: (p: Point) => number | undefined) =>
    points
      .filter((p) => ys(p) !== undefined)
      .map((p, i) => `${i ? 'L' : 'M'}${x(p.step).toFixed(1)},${ys(p)!.toFixed(1)}`)
      .join('');
  svg.append(el('path', { d: path((p) => yLoss(p.loss)), fill: 'none', stroke: '#e8710a', 'stroke-width': 2 }));
  svg.append(
    el('path', {
      d: path((p) => (p.accuracy === undefined ? undefined : yAcc(p.accuracy))),
      fill: 'none',
      stroke: '#1a73e8',
      'stroke-width': 2,
    }),
  );
}

export interface Bar {
  group: string;
  series: string;
  value: number;
}

/** Grouped bars: one group per shape, one bar per series; a series named `TF.js <name>` is drawn pale beside `<name>`. */
export function drawBars(svg: SVGSVGElement, bars: Bar[], unit: string): void {
  const [width, height] = [520, 260];
  const pad = { left: 48, right: 10, top: 26, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  svg.replaceChildren();
  const base = (series: string) => series.replace(/^TF\.js /, '');
  const groups = [...new Set(bars.map((b) => b.group))];
  const series = [...new Set(bars.map((b) => b.series))];
  const bases = [...new Set(bars.map((b) => base(b.series)))];
  // Each webgrad bar, then its TF.js bar.
  const ordered = bases.flatMap((b) =>
    series.filter((s) => base(s) === b).sort((x, y) => Number(x.startsWith('TF.js')) - Number(y.startsWith('TF.js'))),
  );
  const top = niceCeil(Math.max(1e-9, ...bars.map((b) => b.value)));
  const colors = ['#1a73e8', '#e8710a', '#188038', '#a142f4', '#9aa0a6', '#f9ab00', '#12b5cb', '#e52592'];
  const colorOf = (s: string) => colors[bases.indexOf(base(s)) % colors.length];
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + (plotH * i) / 4;
    svg.append(el('line', { x1: pad.left, x2: pad.left + plotW, y1: y, y2: y, stroke: '#eceff3' }));
    svg.append(el('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end' }, fmt(top * (1 - i / 4))));
  }
  svg.append(el('text', { x: 4, y: 14 }, unit));
  const groupW = plotW / Math.max(1, groups.length);
  const barW = (groupW * 0.8) / Math.max(1, ordered.length);
  bars.forEach((b) => {
    const g = groups.indexOf(b.group);
    const s = ordered.indexOf(b.series);
    const h = (plotH * b.value) / top;
    const x = pad.left + g * groupW + groupW * 0.1 + s * barW;
    const opacity = b.series.startsWith('TF.js') ? 0.35 : 1;
    svg.append(
      el('rect', {
        x,
        y: pad.top + plotH - h,
        width: barW - 1,
        height: h,
        fill: colorOf(b.series),
        'fill-opacity': opacity,
      }),
    );
  });
  groups.forEach((g, i) =>
    svg.append(el('text', { x: pad.left + (i + 0.5) * groupW, y: height - 16, 'text-anchor': 'middle' }, g)),
  );
  const legend = [...bases, ...(series.some((s) => s.startsWith('TF.js')) ? ['pale: TF.js'] : [])];
  legend.forEach((s, i) => {
    const x = pad.left + 40 + i * 78;
    if (s !== 'pale: TF.js') svg.append(el('rect', { x, y: 4, width: 10, height: 10, fill: colorOf(s) }));
    svg.append(el('text', { x: s === 'pale: TF.js' ? x : x + 14, y: 13 }, s));
  });
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}
