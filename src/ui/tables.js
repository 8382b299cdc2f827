// The dashboard's tables: models, pools and their endpoints, keys and teams, budgets, and the last
// routing decisions with the picker's scores. Each function rebuilds one <tbody> (or container) from the
// latest /admin/dashboard payload.

import { sparkline, PALETTE } from './chart.js';
import {
  budgetWindow,
  clock,
  DASH,
  fill,
  h,
  ms,
  num,
  pct,
  rate,
  shortEndpoint,
  span,
  usd,
} from './format.js';

const td = (text, cls = 'num') => h('td', { class: cls }, text);

/** A bar for a 0..1 value, with its percentage. */
function bar(fraction, cls = '') {
  const inner = h('i');
  inner.style.width = `${Math.max(0, Math.min(1, fraction ?? 0)) * 100}%`;
  return h(
    'span',
    { class: `bar ${cls}` },
    h('span', { class: 'track' }, inner),
    h('em', null, pct(fraction)),
  );
}

function empty(cols, text) {
  return h('tr', null, h('td', { class: 'muted', colspan: cols }, text));
}

export function renderModels(tbody, live) {
  if (live.models.length === 0) return fill(tbody, empty(13, 'No requests in the last minutes.'));
  fill(
    tbody,
    live.models.map((m, i) => {
      const s = m.summary;
      const perSecond = m.series.requests.map((v) => v / live.step);
      return h(
        'tr',
        { 'data-model': m.name },
        td(m.name, 'name'),
        td(rate(s.rps)),
        td(num(s.requests)),
        td(pct(s.error_rate), s.errors > 0 ? 'num bad' : 'num'),
        td(ms(s.latency_ms.p50)),
        td(ms(s.latency_ms.p95)),
        td(ms(s.latency_ms.p99)),
        td(ms(s.ttft_ms.p50)),
        td(ms(s.ttft_ms.p95)),
        td(ms(s.ttft_ms.p99)),
        td(`${num(s.input_tokens)} / ${num(s.output_tokens)}`),
        td(usd(s.cost_usd)),
        h('td', null, sparkline(perSecond, PALETTE[i % PALETTE.length])),
      );
    }),
  );
}

function endpointState(e) {
  if (e.ejected) return h('span', { class: 'badge bad' }, 'ejected');
  if (e.health === 'unhealthy') return h('span', { class: 'badge bad' }, 'unhealthy');
  if (e.stale) return h('span', { class: 'badge warn' }, 'stale');
  return h('span', { class: e.health === 'healthy' ? 'badge ok' : 'badge' }, e.health);
}

export function renderPools(container, status, live) {
  const pools = status?.pools ?? [];
  if (pools.length === 0) return fill(container, h('p', { class: 'muted' }, 'No endpoint pools configured.'));
  fill(
    container,
    pools.map((p) => {
      const queue = Object.entries(p.queue ?? {})
        .map(([cls, depth]) => `${cls} ${depth}`)
        .join(' · ');
      const rows = p.endpoints.map((e) => {
        const seen = live.endpoints.find(
          (x) => x.endpoint === e.id && (x.pool === p.name || x.pool === null),
        );
        return h(
          'tr',
          { 'data-endpoint': e.id },
          td(shortEndpoint(e.id), 'name'),
          h('td', null, endpointState(e)),
          td(num(e.waiting)),
          td(num(e.running)),
          h('td', null, bar(e.kv_usage, e.kv_usage > 0.9 ? 'hot' : '')),
          // Only where the endpoint's metrics page reports it (Triton, NIM, DCGM).
          e.gpu_utilization == null
            ? td(DASH, 'muted gpu')
            : h('td', { class: 'gpu' }, bar(e.gpu_utilization, e.gpu_utilization > 0.95 ? 'hot' : '')),
          td(num(e.in_flight)),
          h('td', null, bar(seen?.share ?? 0, 'share')),
          td(seen === undefined ? '0' : num(seen.requests)),
          td(ms(e.ttft_ewma_ms)),
        );
      });
      return h(
        'div',
        { class: 'pool', 'data-pool': p.name },
        h(
          'h3',
          null,
          p.name,
          ' ',
          h('span', { class: p.saturated ? 'badge bad' : 'badge ok' }, p.saturated ? 'saturated' : 'ok'),
          h('span', { class: 'muted queue' }, `queue: ${queue || DASH}`),
        ),
        h(
          'table',
          null,
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ...[
                'endpoint',
                'state',
                'waiting',
                'running',
                'KV cache',
                'GPU',
                'in flight',
                'share (60 s)',
                'req (60 s)',
                'TTFT ewma',
              ].map((t) => h('th', null, t)),
            ),
          ),
          h('tbody', null, ...rows),
        ),
      );
    }),
  );
}

export function renderSubjects(tbody, subjects, what) {
  if (subjects.length === 0) return fill(tbody, empty(6, `No ${what} in the window.`));
  fill(
    tbody,
    subjects.map((s) =>
      h(
        'tr',
        null,
        td(s.name, 'name'),
        td(num(s.requests)),
        td(num(s.errors), s.errors > 0 ? 'num bad' : 'num'),
        td(num(s.input_tokens)),
        td(num(s.output_tokens)),
        td(usd(s.cost_usd)),
      ),
    ),
  );
}

export function renderBudgets(tbody, budgets, now) {
  if (budgets === null || budgets === undefined)
    return fill(tbody, empty(7, 'Budgets are not available (no governance, or its store did not answer).'));
  if (budgets.length === 0) return fill(tbody, empty(7, 'No budget applies to the busiest keys and teams.'));
  fill(
    tbody,
    budgets.map((b) => {
      const fmt = b.metric === 'usd' ? usd : num;
      return h(
        'tr',
        null,
        td(`${b.scope} ${b.id}`, 'name'),
        td(b.metric, ''),
        td(budgetWindow(b.window), ''),
        td(`${fmt(b.used)} / ${fmt(b.limit)}`),
        td(fmt(b.remaining)),
        h('td', null, bar(b.limit > 0 ? b.used / b.limit : 0, b.remaining <= 0 ? 'hot' : '')),
        h('td', { title: new Date(b.resetAt).toISOString() }, `in ${span(b.resetAt - now)}`),
      );
    }),
  );
}

/** The picker's candidates as bars of their total score; the chosen one highlighted, scores in a tooltip. */
function pickCell(d) {
  if (d.pick === null) return td(d.endpoint === null ? DASH : 'not sampled', 'muted');
  const best = Math.max(1e-9, ...d.pick.candidates.map((c) => c.total ?? 0));
  const items = d.pick.candidates.map((c) => {
    const scores = Object.entries(c.scores)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const inner = h('i');
    inner.style.width = `${((c.total ?? 0) / best) * 100}%`;
    return h(
      'span',
      { class: c.endpoint === d.pick.chosen ? 'cand chosen' : 'cand', title: `${c.endpoint}: ${scores}` },
      h('span', { class: 'track' }, inner),
      `${shortEndpoint(c.endpoint)} ${c.total ?? DASH}`,
    );
  });
  return h('td', { class: 'pick', title: d.pick.reason ?? '' }, ...items);
}

export function renderDecisions(tbody, decisions) {
  if (decisions.length === 0) return fill(tbody, empty(10, 'No requests yet.'));
  fill(
    tbody,
    decisions.map((d) =>
      h(
        'tr',
        { 'data-id': d.id },
        td(clock(d.at), 'time'),
        td(d.model, 'name'),
        td(d.target ?? DASH, 'name'),
        td(shortEndpoint(d.endpoint), 'name'),
        td(d.error === null ? String(d.status) : `${d.status} ${d.error}`, d.status >= 400 ? 'bad' : ''),
        td(ms(d.latency_ms)),
        td(ms(d.ttft_ms)),
        td(`${num(d.input_tokens)} / ${num(d.output_tokens)}`),
        td(d.key ?? DASH, 'name'),
        pickCell(d),
      ),
    ),
  );
}
