import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../contracts/request.ts';
import { testContext } from '../policies/governance/test-context.ts';
import { profileFrom } from '../scheduling/builtins.ts';
import { StaticDiscovery } from '../scheduling/endpoint-set.ts';
import { PoolScheduler } from '../scheduling/pool-scheduler.ts';
import type { PoolProvider } from '../upstream/pool-provider.ts';
import { LabelCap, OTHER } from './label-cap.ts';
import { GatewayMetrics } from './metrics.ts';

// Label caps on request-steered labels, and the pool gauges read at scrape time (GPU utilisation,
// per-scorer and weighted endpoint scores).

function finished(model: string, over: Partial<RequestContext> = {}): RequestContext {
  const ctx = testContext({ model, route: 'default' });
  Object.assign(ctx, { status: 200, provider: 'p', target: 'p/m', durationMs: 12, ...over });
  return ctx;
}

/** Sample lines of one metric family: `name{labels} value`. */
async function samples(m: GatewayMetrics, name: string): Promise<string[]> {
  const text = await m.registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

async function pool(
  name: string,
  urls: number,
): Promise<{ provider: PoolProvider; scheduler: PoolScheduler }> {
  const scheduler = new PoolScheduler({
    name,
    engine: 'vllm',
    profile: profileFrom('default'),
    discovery: new StaticDiscovery(
      Array.from({ length: urls }, (_, i) => ({ url: `http://10.9.0.${i + 1}:8000` })),
    ),
    scrape: null,
    saturation: { queueDepth: 100, kvUsage: 1 },
    flow: {
      enabled: false,
      maxQueue: { critical: 1, standard: 1, sheddable: 1 },
      maxWaitMs: { critical: 1, standard: 1, sheddable: 1 },
      retryAfterSeconds: 1,
    },
  });
  await scheduler.start();
  return { provider: { name, scheduler } as unknown as PoolProvider, scheduler };
}

describe('label caps', () => {
  it('LabelCap admits the first max values and folds later ones into "other"', () => {
    const cap = new LabelCap(2);
    assert.deepEqual(
      ['a', 'b', 'c', 'a', 'b', 'd'].map((v) => cap.fold(v)),
      ['a', 'b', OTHER, 'a', 'b', OTHER],
    );
    assert.equal(cap.size, 2);
  });

  it('the 101st distinct model is counted as model="other" (default cap 100)', async () => {
    const m = new GatewayMetrics({ process: false });
    for (let i = 1; i <= 101; i++) m.observe(finished(`model-${i}`));
    m.observe(finished('model-102'));
    m.observe(finished('model-1')); // admitted earlier: keeps its name
    const lines = await samples(m, 'gateway_requests_total');
    assert.equal(lines.length, 101);
    assert.ok(lines.some((l) => l.includes('model="model-100"')));
    assert.ok(!lines.some((l) => l.includes('model="model-101"')));
    assert.ok(
      lines.some((l) => /model="other".* 2$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(lines.some((l) => /model="model-1",.* 2$/.test(l)));
    // Every model-labelled family folds the same way.
    const tokens = await samples(m, 'gateway_inference_duration_seconds_count');
    assert.ok(tokens.some((l) => l.includes('model="other"')));
    const genai = await samples(m, 'gen_ai_client_operation_duration_seconds_count');
    assert.ok(genai.some((l) => l.includes('gen_ai_request_model="other"')));
    assert.ok(!genai.some((l) => l.includes('model-101')));
  });

  it('caps routes, targets and endpoints with the configured maximum', async () => {
    const m = new GatewayMetrics({ process: false, maxLabelValues: 2 });
    for (const route of ['r1', 'r2', 'r3'])
      m.observe(finished('m', { route, target: `t-${route}`, errorCode: 'rate_limited', status: 429 }));
    const lines = await samples(m, 'gateway_requests_total');
    assert.deepEqual(
      lines.map((l) => /route="([^"]+)".*target="([^"]+)"/.exec(l)!.slice(1).join(' ')),
      ['r1 t-r1', 'r2 t-r2', 'other other'],
    );
    const rejected = await samples(m, 'gateway_rejections_total');
    assert.ok(rejected.some((l) => l.includes('route="other"')));
    const events = m.upstreamEvents();
    for (const ep of ['http://a:1', 'http://b:1', 'http://c:1']) events.health('p', ep, true);
    const healthy = await samples(m, 'gateway_endpoint_healthy');
    assert.ok(healthy.some((l) => l.includes('endpoint="other"')));
  });
});

describe('pool gauges', () => {
  it('gateway_gpu_utilization_percent only where the engine reports it', async () => {
    const m = new GatewayMetrics({ process: false });
    const { provider, scheduler } = await pool('gpu', 3);
    m.poolSource = () => [provider];
    const [a, b] = scheduler.endpoints.all();
    a!.gpuUtilization = 0.63;
    b!.gpuUtilization = 1;
    const lines = await samples(m, 'gateway_gpu_utilization_percent');
    assert.deepEqual(lines, [
      'gateway_gpu_utilization_percent{pool="gpu",endpoint="http://10.9.0.1:8000"} 63',
      'gateway_gpu_utilization_percent{pool="gpu",endpoint="http://10.9.0.2:8000"} 100',
    ]);
    await scheduler.close();
  });

  it('gateway_endpoint_score and _weighted_score hold the last pick’s scores', async () => {
    const m = new GatewayMetrics({ process: false });
    const { provider, scheduler } = await pool('sc', 2);
    m.poolSource = () => [provider];
    assert.deepEqual(await samples(m, 'gateway_endpoint_score'), []); // no pick yet
    const [a, b] = scheduler.endpoints.all();
    a!.waiting = 4;
    b!.kvUsage = 0.25;
    const ctx = testContext({ model: 'm' });
    const chosen = scheduler.acquire(ctx);
    assert.equal(chosen, b);
    const scores = await samples(m, 'gateway_endpoint_score');
    assert.equal(scores.length, 8); // 2 endpoints × 4 scorers of the default profile
    assert.ok(
      scores.includes(
        'gateway_endpoint_score{pool="sc",endpoint="http://10.9.0.1:8000",scorer="queue-depth"} 0',
      ),
    );
    assert.ok(
      scores.includes(
        'gateway_endpoint_score{pool="sc",endpoint="http://10.9.0.2:8000",scorer="queue-depth"} 1',
      ),
    );
    assert.ok(
      scores.includes(
        'gateway_endpoint_score{pool="sc",endpoint="http://10.9.0.2:8000",scorer="kv-cache-utilization"} 0.75',
      ),
    );
    const weighted = await samples(m, 'gateway_endpoint_weighted_score');
    assert.deepEqual(weighted, [
      'gateway_endpoint_weighted_score{pool="sc",endpoint="http://10.9.0.1:8000"} 2',
      'gateway_endpoint_weighted_score{pool="sc",endpoint="http://10.9.0.2:8000"} 3.5',
    ]);
    await scheduler.close();
  });

  it('endpoints beyond the cap are folded: counts summed, ratios and scores maxed', async () => {
    const m = new GatewayMetrics({ process: false, maxLabelValues: 1 });
    const { provider, scheduler } = await pool('f', 3);
    m.poolSource = () => [provider];
    const [a, b, c] = scheduler.endpoints.all();
    a!.waiting = 1;
    b!.waiting = 2;
    c!.waiting = 3;
    b!.kvUsage = 0.5;
    c!.kvUsage = 0.25;
    assert.deepEqual(await samples(m, 'gateway_endpoint_queue_depth'), [
      'gateway_endpoint_queue_depth{pool="f",endpoint="http://10.9.0.1:8000"} 1',
      'gateway_endpoint_queue_depth{pool="f",endpoint="other"} 5',
    ]);
    const kv = await samples(m, 'gateway_endpoint_kv_cache_usage');
    assert.ok(kv.includes('gateway_endpoint_kv_cache_usage{pool="f",endpoint="other"} 0.5'));
    scheduler.acquire(testContext({ model: 'm' }));
    const scores = await samples(m, 'gateway_endpoint_score');
    assert.equal(scores.length, 8); // 2 label values × 4 scorers
    await scheduler.close();
  });
});
