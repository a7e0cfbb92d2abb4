// The Words tab's attention heatmaps, drawn with Observable Plot: one per layer and head, query × key, with the
// characters as tick labels.
import * as Plot from '@observablehq/plot';

interface Cell {
  query: number;
  key: number;
  weight: number;
}

/** One head's [t, t] weights (row-major, query × key) as a heatmap; `tokens` label both axes. */
function heatmap(weights: Float32Array, tokens: string, caption: string): SVGSVGElement | HTMLElement {
  const t = tokens.length;
  const cells: Cell[] = [];
  for (let query = 0; query < t; query++)
    for (let key = 0; key <= query; key++) cells.push({ query, key, weight: weights[query * t + key] });
  const positions = Array.from({ length: t }, (_, i) => i);
  const label = (i: number) => tokens[i];
  const side = 40 + 14 * t;
  return Plot.plot({
    width: side + 20,
    height: side,
    marginLeft: 30,
    marginBottom: 30,
    caption,
    style: { fontSize: '11px' },
    x: { domain: positions, tickFormat: label, label: 'key', tickSize: 0 },
    y: { domain: positions, tickFormat: label, label: 'query', tickSize: 0 },
    color: { type: 'linear', domain: [0, 1], scheme: 'blues' },
    marks: [
      Plot.cell(cells, {
        x: 'key',
        y: 'query',
        fill: 'weight',
        inset: 0.5,
        title: (c: Cell) => `${tokens[c.query]} (${c.query}) → ${tokens[c.key]} (${c.key}): ${c.weight.toFixed(3)}`,
      }),
    ],
  });
}

/**
 * Replaces `root`'s content with the heatmaps: a row per layer (wrapping on a narrow page), a heatmap per head.
 * `maps` is [layers][heads] of [t, t] weights for the tokens `tokens` (the end token '.' first).
 */
export function drawAttention(root: HTMLElement, maps: Float32Array[][], tokens: string): void {
  const rows = maps.map((heads, layer) => {
    const row = document.createElement('div');
    row.style.display = 'flex';
    row.style.flexWrap = 'wrap';
    row.style.gap = '4px 12px';
    row.setAttribute('data-layer', String(layer));
    heads.forEach((weights, head) => {
      const figure = heatmap(weights, tokens, `layer ${layer} · head ${head}`);
      figure.setAttribute('data-head', String(head));
      row.append(figure);
    });
    return row;
  });
  root.replaceChildren(...rows);
}
