// The Switchyard dashboard: asks for the admin token once (or takes it from #token=… in the URL), keeps
// it in sessionStorage, polls GET /admin/dashboard every second and redraws. No framework, no build step,
// no request leaves the gateway's origin.

import { lineChart, PALETTE } from './chart.js';
import { clock, ms, num, pct, rate, usd } from './format.js';
import { renderBudgets, renderDecisions, renderModels, renderPools, renderSubjects } from './tables.js';

const { document, sessionStorage, location, history, fetch, setTimeout, AbortSignal } = globalThis;
const TOKEN_KEY = 'switchyard.admin-token';
const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);

function takeTokenFromUrl() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m === null) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  // Keep the secret out of the address bar, history and any copied link.
  history.replaceState(null, '', location.pathname + location.search);
}

function showLogin(message) {
  $('board').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message ?? '';
  $('token').focus();
}

function setConnection(state, text) {
  const el = $('conn');
  el.className = `badge ${state}`;
  el.textContent = text;
}

const perSecond = (values, step) => values.map((v) => (v === null ? null : v / step));
const perMinute = (values, step) => values.map((v) => (v === null ? null : (v / step) * 60));
const sum = (values) => values.reduce((a, v) => a + (v ?? 0), 0);

function renderKpis(live, status) {
  const t = live.totals;
  const kpi = (name, value) => {
    document.querySelector(`[data-kpi="${name}"]`).textContent = value;
  };
  kpi('rps', rate(t.rps));
  kpi('error_rate', pct(t.error_rate));
  kpi('p50', ms(t.latency_ms.p50));
  kpi('p95', ms(t.latency_ms.p95));
  kpi('p99', ms(t.latency_ms.p99));
  kpi('ttft_p95', ms(t.ttft_ms.p95));
  kpi('tokens', rate((t.input_tokens + t.output_tokens) / live.recent_seconds));
  kpi('cost', usd(sum(live.series.cost_usd)));
  kpi('in_flight', num(status?.in_flight ?? 0));
  kpi('observed', num(live.observed));
  $('generation').textContent = status === null ? '' : `config generation ${status.generation}`;
}

function renderCharts(live) {
  const { step, seconds } = live;
  const s = live.series;
  lineChart($('chart-requests'), {
    seconds,
    format: rate,
    series: [
      { label: 'requests/s', values: perSecond(s.requests, step), color: PALETTE[0] },
      { label: 'errors/s', values: perSecond(s.errors, step), color: PALETTE[2] },
      { label: 'rejected/s', values: perSecond(s.rejected, step), color: PALETTE[1] },
    ],
  });
  lineChart($('chart-latency'), {
    seconds,
    format: ms,
    series: [
      { label: 'p50', values: s.latency_p50_ms, color: PALETTE[3] },
      { label: 'p95', values: s.latency_p95_ms, color: PALETTE[1] },
      { label: 'p99', values: s.latency_p99_ms, color: PALETTE[2] },
      { label: 'TTFT p95', values: s.ttft_p95_ms, color: PALETTE[4] },
    ],
  });
  const byModel = (pick, scale) =>
    live.models.map((m) => ({ label: m.name, values: scale(pick(m.series), step) }));
  lineChart($('chart-model-tokens'), {
    seconds,
    format: rate,
    series: byModel((x) => x.input_tokens.map((v, i) => v + x.output_tokens[i]), perSecond),
  });
  lineChart($('chart-model-cost'), { seconds, format: usd, series: byModel((x) => x.cost_usd, perMinute) });
  for (const [id, rows] of [
    ['key', live.keys],
    ['team', live.teams],
  ]) {
    const series = (pick, scale) => rows.map((r) => ({ label: r.name, values: scale(pick(r.series), step) }));
    lineChart($(`chart-${id}-tokens`), { seconds, format: rate, series: series((x) => x.tokens, perSecond) });
    lineChart($(`chart-${id}-cost`), { seconds, format: usd, series: series((x) => x.cost_usd, perMinute) });
  }
}

function render(payload) {
  const { live, status, budgets } = payload;
  renderKpis(live, status);
  renderCharts(live);
  renderModels($('models'), live);
  renderPools($('pools'), status, live);
  renderSubjects($('keys'), live.keys, 'keys');
  renderSubjects($('teams'), live.teams, 'teams');
  renderBudgets($('budgets'), budgets, live.now);
  renderDecisions($('decisions'), live.decisions);
  document.body.dataset.updated = String(live.now);
}

/** Bumped by every (re)start so that only one poll loop is ever alive. */
let loop = 0;

function start() {
  loop++;
  void poll(loop);
}

async function poll(id) {
  if (id !== loop) return;
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token === null) return showLogin();
  if (document.hidden) {
    // A background tab costs the gateway nothing; the next visible poll catches up at once.
    setTimeout(() => void poll(id), POLL_MS);
    return;
  }
  try {
    const res = await fetch('/admin/dashboard?seconds=300&step=2', {
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store',
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 401 || res.status === 404) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin(
        res.status === 401 ? 'That token was refused.' : 'The admin API is disabled on this gateway.',
      );
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const payload = await res.json();
    $('login').hidden = true;
    $('board').hidden = false;
    render(payload);
    setConnection('ok', `live · ${clock(payload.live.now).slice(0, 8)}`);
  } catch (err) {
    setConnection('bad', `offline (${err instanceof Error ? err.message : String(err)})`);
  }
  setTimeout(() => void poll(id), POLL_MS);
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('token').value.trim();
  if (value === '') return;
  sessionStorage.setItem(TOKEN_KEY, value);
  $('token').value = '';
  start();
});
$('forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin('Token forgotten.');
});

takeTokenFromUrl();
start();
