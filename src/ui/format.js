// Number formatting and a tiny DOM builder for the dashboard. Text always goes in through textContent
// (never innerHTML): names on the page come from config, keys and endpoints, and must not become markup.

const { document } = globalThis;

/**
 * h('td', { class: 'num', title: 'x' }, 'text', childNode…): an element with attributes and children.
 * `null`/`undefined`/`false` children are skipped; strings and numbers become text nodes.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs)
    for (const [k, v] of Object.entries(attrs))
      if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

/** Replace an element's children (a fresh render each poll: tables are small). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export const DASH = '–';

export function num(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return DASH;
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(digits);
}

/** Requests or tokens per second: more digits when small. */
export function rate(v) {
  if (v === null || v === undefined) return DASH;
  return num(v, v !== 0 && Math.abs(v) < 10 ? 2 : v < 100 ? 1 : 0);
}

export function ms(v) {
  if (v === null || v === undefined) return DASH;
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

export function pct(v) {
  if (v === null || v === undefined) return DASH;
  return `${(v * 100).toFixed(v === 0 || v >= 0.1 ? 0 : 1)}%`;
}

export function usd(v) {
  if (v === null || v === undefined) return DASH;
  if (v === 0) return '$0';
  if (Math.abs(v) < 0.01) return `$${v.toPrecision(2)}`;
  return `$${v.toFixed(2)}`;
}

export function clock(msSinceEpoch) {
  const d = new Date(msSinceEpoch);
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Endpoint ids are origins: drop the scheme to keep columns narrow. */
export function shortEndpoint(id) {
  return id === null || id === undefined ? DASH : String(id).replace(/^[a-z]+:\/\//, '');
}

/** A duration in ms as "45s", "12m", "3h 20m" or "4d 6h". */
export function span(msLeft) {
  const s = Math.max(0, Math.round(msLeft / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${m % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** A budget window ({kind: 'calendar', unit} or {kind: 'rolling', ms}) in words. */
export function budgetWindow(w) {
  if (w === null || typeof w !== 'object') return String(w);
  return w.kind === 'calendar' ? `per ${w.unit}` : `rolling ${span(w.ms)}`;
}
