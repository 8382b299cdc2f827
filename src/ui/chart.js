// Hand-drawn SVG line charts and sparklines: a few dozen lines instead of a chart library, no network.
// A chart is a <figure class="chart"> holding an <svg> and a <div class="legend">; it is redrawn whole on
// each poll (one path per series, a handful of grid lines), which costs well under a millisecond.

import { h, fill } from './format.js';

const { document } = globalThis;
const NS = 'http://www.w3.org/2000/svg';
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
const HEIGHT = 150;
const PAD = { left: 52, right: 8, top: 8, bottom: 18 };

function svgEl(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** The smallest 1, 2 or 5 × 10^k at or above v (so grid labels are round). */
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function pathOf(values, x, y) {
  let d = '';
  let pen = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || Number.isNaN(v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * Draw `series` ([{ label, values, color? }], values oldest first, null for gaps) over the last `seconds`.
 * `format` labels the y axis and the legend's latest values.
 */
export function lineChart(figure, { series, seconds, format = String }) {
  const svg = figure.querySelector('svg');
  const legend = figure.querySelector('.legend');
  const width = Math.max(240, Math.round(svg.getBoundingClientRect().width || 480));
  svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
  let max = 0;
  let n = 2;
  for (const s of series) {
    n = Math.max(n, s.values.length);
    for (const v of s.values) if (v !== null && v > max) max = v;
  }
  const top = niceCeil(max);
  const plotW = width - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (i / (n - 1)) * plotW;
  const y = (v) => PAD.top + (1 - v / top) * plotH;
  const nodes = [];
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    nodes.push(svgEl('line', { class: 'grid', x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v) }));
    const label = svgEl('text', { class: 'axis', x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' });
    label.textContent = format(v);
    nodes.push(label);
  }
  for (const [i, text, anchor] of [
    [0, `−${Math.round(seconds / 60)}m`, 'start'],
    [(n - 1) / 2, `−${Math.round(seconds / 120)}m`, 'middle'],
    [n - 1, 'now', 'end'],
  ]) {
    const label = svgEl('text', { class: 'axis', x: x(i), y: HEIGHT - 4, 'text-anchor': anchor });
    label.textContent = text;
    nodes.push(label);
  }
  series.forEach((s, i) => {
    const d = pathOf(s.values, x, y);
    if (d !== '')
      nodes.push(svgEl('path', { class: 'line', d, stroke: s.color ?? PALETTE[i % PALETTE.length] }));
  });
  svg.replaceChildren(...nodes);
  svg.dataset.points = String(n);
  if (series.length === 0) {
    fill(legend, h('span', { class: 'muted' }, 'no traffic in the window'));
    return;
  }
  fill(
    legend,
    series.map((s, i) => {
      const latest = [...s.values].reverse().find((v) => v !== null && v !== undefined);
      const swatch = h('i', { class: 'swatch' });
      swatch.style.background = s.color ?? PALETTE[i % PALETTE.length];
      return h(
        'span',
        { class: 'item' },
        swatch,
        s.label,
        ' ',
        h('b', null, latest === undefined ? '–' : format(latest)),
      );
    }),
  );
}

/** A 100×24 sparkline of `values` in an <svg class="spark">. */
export function sparkline(values, color = PALETTE[0]) {
  const svg = svgEl('svg', { class: 'spark', viewBox: '0 0 100 24', preserveAspectRatio: 'none' });
  const max = Math.max(1e-9, ...values.map((v) => v ?? 0));
  const n = Math.max(2, values.length);
  const d = pathOf(
    values,
    (i) => (i / (n - 1)) * 100,
    (v) => 22 - (v / max) * 20,
  );
  if (d !== '')
    svg.append(svgEl('path', { class: 'line', d, stroke: color, 'vector-effect': 'non-scaling-stroke' }));
  return svg;
}
