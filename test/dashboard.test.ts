import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { closeFleet, startFleet, type SimServer } from '../src/sim/index.ts';
import type { RequestContext } from '../src/contracts/request.ts';
import { adminAuthorized } from '../src/server/admin/admin.ts';
import { governanceBudgets, handleDashboard } from '../src/server/admin/dashboard-api.ts';
import { LiveStats } from '../src/telemetry/live-stats.ts';
import { serveUi } from '../src/ui/serve.ts';
import { basicConfig, startGateway, type TestGateway } from './harness.ts';

// The dashboard at /ui in Debian's Chromium, driven by Playwright, against a gateway in front of a
// simulated fleet with two keys in two teams: it loads with the admin token, shows live numbers that
// change as traffic flows, the pool's endpoints, keys, budgets and routing decisions with scores, and
// leaves a screenshot in artifacts/dashboard.png. Until the gateway itself serves /ui and
// /admin/dashboard, a small loopback server wires serveUi and the dashboard API to a LiveStats fed from
// the gateway's access log; the test uses the gateway directly as soon as it answers /admin/dashboard.

const CHROMIUM = '/usr/bin/chromium';
const NO_BROWSER = existsSync(CHROMIUM)
  ? false
  : `Debian's Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
const ADMIN = 'admin-token-for-dashboard-tests';
const KEYS = { alpha: 'sy-alpha-secret-for-dashboard', beta: 'sy-beta-secret-for-dashboard' } as const;
const TEAMS: Record<string, string> = { alpha: 'red', beta: 'blue' };
const SCREENSHOT = new URL('../artifacts/dashboard.png', import.meta.url);

function yaml(endpoints: string): string {
  return `
metrics: { process: false }
governance:
  state: memory
  prices: { sim-model: { input: 0.5, output: 1.5 } }
  keys:
    - { id: alpha, secret: ${KEYS.alpha}, team: red, budgets: [{ tokens: 1000000, window: day }] }
    - { id: beta, secret: ${KEYS.beta}, team: blue }
policies:
  - type: auth
  - type: budget
    params: { budgets: [{ scope: team, id: blue, usd: 5, window: month }] }
  - type: cost
providers:
  - name: pool
    type: pool
    engine: vllm
    endpoints: "${endpoints}"
    scrape: { interval: 50ms, stale_after: 2s }
models:
  - name: sim-model
    targets: [{ provider: pool }]
admin:
  token: \${SWITCHYARD_ADMIN_TOKEN}
`;
}

/** Steady traffic until stopped: both keys, streams and not, some asking for the pick explanation. */
function traffic(url: string): { stop: () => Promise<void>; sent: () => number } {
  let running = true;
  let sent = 0;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const key = (i + w) % 3 === 0 ? KEYS.beta : KEYS.alpha;
      const stream = i % 2 === 0;
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
          ...(i % 3 === 0 ? { 'x-switchyard-debug': '1' } : {}),
        },
        body: JSON.stringify({
          model: 'sim-model',
          max_tokens: 8 + (i % 5) * 4,
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
          messages: [{ role: 'user', content: `worker ${w} question ${i}: ${'context '.repeat(i % 40)}` }],
        }),
      });
      await res.arrayBuffer();
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
    sent: () => sent,
  };
}

/**
 * Stand-in for the gateway's own wiring: /ui and /admin/dashboard on a loopback server, the LiveStats
 * fed from the access log (which carries what observe() reads, except the team: mapped from the key).
 */
async function localWiring(gw: TestGateway): Promise<{ url: string; close: () => Promise<void> }> {
  const live = new LiveStats();
  let seen = 0;
  const feed = setInterval(() => {
    const lines = gw.accessLogs();
    for (; seen < lines.length; seen++) live.observe(contextOf(lines[seen]));
  }, 20);
  const deps = {
    live,
    status: () => gw.gateway.status(),
    budgets: governanceBudgets(gw.gateway.governance, () => gw.gateway.config),
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (serveUi(req, res, url.pathname)) return;
    if (url.pathname === '/admin/dashboard') {
      if (!adminAuthorized(req, ADMIN)) {
        res.writeHead(401).end();
        return;
      }
      void handleDashboard(deps, res, url);
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      clearInterval(feed);
      server.close();
      server.closeAllConnections();
    },
  };
}

function contextOf(line: any): RequestContext {
  const id = line.identity;
  return {
    id: line.id,
    receivedAt: Date.now() - line.latency_ms,
    model: line.model ?? '',
    route: line.route,
    target: line.target,
    provider: line.provider,
    endpoint: line.endpoint,
    status: line.status,
    outcome: line.outcome,
    errorCode: line.error,
    stream: line.stream,
    ttftMs: line.ttft_ms,
    durationMs: line.latency_ms,
    attempts: line.attempts,
    usage: {
      inputTokens: line.input_tokens,
      outputTokens: line.output_tokens,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    },
    costUsd: line.cost_usd,
    identity: id === null ? null : { id, kind: 'api-key', team: TEAMS[id] ?? null },
    priority: 'standard',
    explain: line.explain ?? null,
  } as RequestContext;
}

const text = (page: Page, selector: string) => page.locator(selector).first().innerText();
const kpi = (page: Page, name: string) => text(page, `[data-kpi="${name}"]`);
/** "1.2k" → 1200 */
const number = (s: string) => Number(s.replace(/k$/, 'e3').replace(/M$/, 'e6'));

describe('dashboard at /ui', { skip: NO_BROWSER }, () => {
  let fleet: SimServer[];
  let gw: TestGateway;
  let base: string;
  let closeLocal: (() => Promise<void>) | null = null;
  let browser: Browser;
  let load: ReturnType<typeof traffic>;

  before(async () => {
    fleet = await startFleet(3, { timeScale: 0.1, gpuMetrics: true });
    gw = await startGateway(yaml(fleet.map((s) => s.url).join(',')), { SWITCHYARD_ADMIN_TOKEN: ADMIN });
    const wired = await fetch(`${gw.url}/admin/dashboard`, { headers: { authorization: `Bearer ${ADMIN}` } });
    await wired.arrayBuffer();
    if (wired.status === 200) base = gw.url;
    else {
      const local = await localWiring(gw);
      base = local.url;
      closeLocal = local.close;
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    load = traffic(gw.url);
  });

  after(async () => {
    await load?.stop();
    await browser?.close();
    await closeLocal?.();
    await gw?.close();
    if (fleet !== undefined) await closeFleet(fleet);
  });

  it('asks for the token, and refuses a wrong one', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/ui`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', 'not-the-token');
    await page.click('#login button[type=submit]');
    await page.locator('#login-error', { hasText: 'refused' }).waitFor();
    assert.equal(await page.locator('#board').isVisible(), false);
    await page.close();
  });

  it('shows live numbers that change as traffic flows, pools, keys, budgets and decisions', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`${base}/ui#token=${ADMIN}`);
    await page.locator('#board').waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');

    await page.locator('tr[data-model="sim-model"]').waitFor();
    await page.waitForFunction(
      () => Number((globalThis as any).document.querySelector('[data-kpi="rps"]')?.textContent) > 0,
    );
    const first = number(await kpi(page, 'observed'));
    assert.ok(first > 0);
    await page.waitForFunction(
      (n) =>
        Number((globalThis as any).document.querySelector('[data-kpi="observed"]')?.textContent) > n + 10,
      first,
    );
    assert.ok(number(await kpi(page, 'rps')) > 0, 'requests per second');
    assert.match(await kpi(page, 'p95'), /\d+(\.\d+)? m?s/);
    assert.match(await kpi(page, 'ttft_p95'), /\d+(\.\d+)? m?s/);
    assert.match(await kpi(page, 'cost'), /^\$\d/);

    // Pools: every endpoint with its state, KV use and a share of the traffic.
    const endpoints = page.locator('.pool[data-pool="pool"] tbody tr');
    assert.equal(await endpoints.count(), 3);
    await page.waitForFunction(() =>
      [...(globalThis as any).document.querySelectorAll('.pool tbody tr')].some((r: any) =>
        /[1-9]\d*%/.test(r.textContent ?? ''),
      ),
    );

    // GPU utilisation from the simulators' DCGM gauge: a percentage in every endpoint's GPU cell.
    await page.waitForFunction(() =>
      [...(globalThis as any).document.querySelectorAll('.pool tbody td.gpu')].some((c: any) =>
        /[1-9]\d*%/.test(c.textContent ?? ''),
      ),
    );
    assert.equal(await page.locator('.pool tbody td.gpu').count(), 3);

    // Keys, teams and budgets.
    await page.locator('#keys tr', { hasText: 'alpha' }).waitFor();
    await page.locator('#teams tr', { hasText: 'blue' }).waitFor();
    await page.locator('#budgets tr', { hasText: 'key alpha' }).waitFor();
    await page.locator('#budgets tr', { hasText: 'team blue' }).waitFor();

    // Decisions with the picker's candidates and the chosen one marked.
    await page.locator('#decisions .cand.chosen').first().waitFor();
    assert.ok((await page.locator('#decisions tr').count()) >= 10);
    assert.equal(
      await page.locator('#decisions .cand').first().locator('xpath=..').locator('.cand').count(),
      3,
    );

    // Charts have lines.
    for (const id of ['chart-requests', 'chart-latency', 'chart-model-tokens', 'chart-key-tokens'])
      assert.ok((await page.locator(`#${id} path.line`).count()) > 0, id);

    // Still moving a second later.
    const before = await page.getAttribute('body', 'data-updated');
    await page.waitForFunction((b) => (globalThis as any).document.body.dataset.updated !== b, before);

    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe('dashboard HTTP', () => {
  it('serves the static files with types, ETags and a strict CSP, and nothing else under /ui', async () => {
    const server = createServer((req, res) => {
      if (!serveUi(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const index = await fetch(`${url}/ui`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await index.text(), /<script type="module" src="\/ui\/app.js">/);
    const etag = index.headers.get('etag')!;
    assert.equal((await fetch(`${url}/ui/`, { headers: { 'if-none-match': etag } })).status, 304);
    for (const [file, type] of [
      ['app.js', 'text/javascript'],
      ['chart.js', 'text/javascript'],
      ['tables.js', 'text/javascript'],
      ['format.js', 'text/javascript'],
      ['style.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${url}/ui/${file}`);
      assert.equal(res.status, 200, file);
      assert.ok(res.headers.get('content-type')!.startsWith(type), file);
      await res.arrayBuffer();
    }
    for (const path of [
      '/ui/serve.ts',
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/uix',
      '/ui/constructor',
    ])
      assert.equal((await fetch(`${url}${path}`)).status, 404, path);
    server.close();
  });
  it('the gateway serves /ui and /admin/dashboard only when admin.token is set', async (t) => {
    const upstream = 'http://127.0.0.1:9'; // never called
    const on = await startGateway(basicConfig(upstream, 'admin:\n  token: ${SWITCHYARD_ADMIN_TOKEN}\n'), {
      SWITCHYARD_ADMIN_TOKEN: ADMIN,
    });
    const off = await startGateway(basicConfig(upstream));
    try {
      const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
      const dash = await fetch(`${on.url}/admin/dashboard?seconds=60&step=5`, auth);
      if (dash.status === 404) {
        await dash.arrayBuffer();
        t.skip('the gateway does not serve /admin/dashboard yet (wiring pending)');
        return;
      }
      assert.equal(dash.status, 200);
      assert.equal(dash.headers.get('cache-control'), 'no-store');
      const body = (await dash.json()) as any;
      assert.equal(body.live.seconds, 60);
      assert.equal(body.live.step, 5);
      assert.equal(typeof body.status.generation, 'number');
      assert.deepEqual(body.budgets, []);
      assert.equal((await fetch(`${on.url}/admin/dashboard`)).status, 401);
      assert.equal((await fetch(`${on.url}/admin/dashboard?step=0`, auth)).status, 400);
      const page = await fetch(`${on.url}/ui`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Switchyard/);
      for (const path of ['/ui', '/ui/app.js', '/admin/dashboard']) {
        const res = await fetch(`${off.url}${path}`, auth);
        assert.equal(res.status, 404, path);
        await res.arrayBuffer();
      }
    } finally {
      await on.close();
      await off.close();
    }
  });
});

describe('deploy/', () => {
  it('the Grafana dashboard uses only metrics the gateway exports, and every panel has a query', async () => {
    const { GatewayMetrics } = await import('../src/telemetry/metrics.ts');
    const exported = new Set(
      (await new GatewayMetrics({ process: false }).registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]),
    );
    const dashboard = JSON.parse(
      readFileSync(new URL('../deploy/grafana/switchyard-dashboard.json', import.meta.url), 'utf8'),
    );
    const panels = dashboard.panels.filter((p: any) => p.type !== 'row');
    assert.ok(panels.length >= 20);
    for (const p of panels) assert.ok(p.targets.length > 0, p.title);
    const used = new Set<string>();
    for (const p of panels)
      for (const t of p.targets)
        for (const m of t.expr.matchAll(/\bgateway_[a-z_]+/g))
          used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    for (const name of used) assert.ok(exported.has(name), `${name} is not exported`);
    for (const name of [
      'gateway_inference_duration_seconds',
      'gateway_endpoint_kv_cache_usage',
      'gateway_rejections_total',
    ])
      assert.ok(used.has(name), name);
  });
});
