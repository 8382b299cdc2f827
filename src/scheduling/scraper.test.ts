import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointSet } from './endpoint-set.ts';
import { isSaturated } from './saturation.ts';
import { Scraper } from './scraper.ts';

// The scraper against real loopback HTTP servers serving vLLM metric text: updates, failure → stale →
// saturated → unhealthy and back, per-scrape timeout, no overlapping scrapes, join/leave and stop.

type Mode = 'ok' | 'error' | 'hang' | 'slow';

interface Fake {
  readonly server: Server;
  readonly url: string;
  mode: Mode;
  waiting: number;
  hits: number;
  active: number;
  maxActive: number;
}

const fakes: Fake[] = [];
after(async () => {
  for (const f of fakes) {
    f.server.closeAllConnections();
    await new Promise((r) => f.server.close(r));
  }
});

function page(waiting: number): string {
  return `# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m"} ${waiting}
vllm:num_requests_running{model_name="m"} 3
vllm:kv_cache_usage_perc{model_name="m"} 0.5
vllm:cache_config_info{block_size="16",num_gpu_blocks="1024"} 1
`;
}

async function fake(): Promise<Fake> {
  const f = { mode: 'ok', waiting: 1, hits: 0, active: 0, maxActive: 0 } as Fake;
  const server = createServer((req, res) => {
    f.hits++;
    f.maxActive = Math.max(f.maxActive, ++f.active);
    const done = () => f.active--;
    res.on('close', done);
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    if (f.mode === 'error') return void res.writeHead(500).end('boom');
    if (f.mode === 'hang') return;
    const send = () =>
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(page(f.waiting));
    if (f.mode === 'slow') setTimeout(send, 40);
    else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  Object.assign(f, { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  fakes.push(f);
  return f;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const T = { queueDepth: 5, kvUsage: 0.9 };

describe('scraper', () => {
  it('keeps telemetry fresh; failure makes it stale (saturated), then unhealthy; recovery clears both', async () => {
    const f = await fake();
    const set = new EndpointSet({ engine: 'vllm', staleAfterMs: 120 });
    set.upsert({ url: f.url });
    const e = set.all()[0]!;
    assert.equal(e.stale, true, 'never scraped = stale');
    const scraper = new Scraper(set, { intervalMs: 10, timeoutMs: 200, unhealthyAfter: 3 });
    scraper.start();
    await until(() => e.health === 'healthy');
    assert.deepEqual([e.waiting, e.running, e.kvUsage, e.blockSize, e.kvBlocks], [1, 3, 0.5, 16, 1024]);
    assert.equal(e.stale, false);
    assert.equal(isSaturated(e, T), false);
    e.dispatchedSinceScrape = 4;
    f.waiting = 2;
    await until(() => e.waiting === 2);
    assert.equal(e.dispatchedSinceScrape, 0, 'a scrape resets the sent-since-scrape count');

    f.mode = 'error';
    await until(() => e.stale);
    assert.equal(isSaturated(e, T), true, 'stale telemetry counts as saturated, not idle');
    await until(() => e.health === 'unhealthy');
    assert.equal(e.waiting, 2, 'old figures are kept, not zeroed');

    f.mode = 'ok';
    await until(() => e.health === 'healthy' && !e.stale);
    await scraper.stop();
  });

  it('times out a hanging scrape and never overlaps scrapes of one endpoint', async () => {
    const hang = await fake();
    const slow = await fake();
    hang.mode = 'hang';
    slow.mode = 'slow';
    const set = new EndpointSet({ engine: 'vllm', staleAfterMs: 1000 });
    set.upsert({ url: hang.url });
    set.upsert({ url: slow.url });
    const [h, s] = set.all();
    const scraper = new Scraper(set, { intervalMs: 5, timeoutMs: 50 });
    scraper.start();
    await until(() => h!.consecutiveFailures >= 2 && s!.health === 'healthy');
    await until(() => slow.hits >= 4);
    assert.equal(slow.maxActive, 1);
    assert.equal(hang.maxActive, 1);
    await scraper.stop();
  });

  it('follows endpoints joining and leaving, and stops', async () => {
    const a = await fake();
    const b = await fake();
    const set = new EndpointSet({ engine: 'vllm', staleAfterMs: 1000 });
    set.upsert({ url: a.url });
    const scraper = new Scraper(set, { intervalMs: 5, timeoutMs: 200 });
    scraper.start();
    set.upsert({ url: b.url });
    await until(() => a.hits > 0 && b.hits > 0);
    set.remove(new URL(a.url).origin);
    await new Promise((r) => setTimeout(r, 20));
    const aHits = a.hits;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(a.hits, aHits, 'a removed endpoint is no longer scraped');
    await scraper.stop();
    const bHits = b.hits;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(b.hits, bHits, 'nothing after stop');
  });
});
