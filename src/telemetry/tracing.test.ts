import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.ts';
import { emptyUsage } from '../core/usage.ts';
import type { JsonObject, RequestContext } from '../contracts/request.ts';
import type { AttemptTarget } from '../contracts/tracing.ts';
import type { Endpoint } from '../contracts/upstream.ts';
import { createContext } from '../server/context.ts';
import { parseTraceparent } from './traceparent.ts';
import { createTracing, NO_TRACING, tracingSchema } from './tracing.ts';

// Tracing against a real loopback OTLP/HTTP collector (JSON encoding): what is exported, how spans link,
// how traceparent flows in from the client and out to upstreams, and that off or unsampled exports nothing.

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  status?: { code?: number };
  attributes: Record<string, unknown>;
  events?: { name: string }[];
}

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};

function valueOf(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

/** A node:http OTLP/HTTP receiver keeping every span it is sent. */
class Collector {
  readonly spans: OtlpSpan[] = [];
  posts = 0;
  headers: IncomingHttpHeaders = {};
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.posts++;
      this.headers = req.headers;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) {
            const attributes: Record<string, unknown> = {};
            for (const a of s.attributes ?? []) attributes[a.key] = valueOf(a.value);
            this.spans.push({ ...s, attributes });
          }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  reset(): void {
    this.spans.length = 0;
    this.posts = 0;
  }

  named(name: string): OtlpSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A context as the server builds it (createContext keeps every field), from a stand-in request. */
function fakeContext(body: JsonObject, headers: IncomingHttpHeaders = {}): RequestContext {
  return createContext({
    id: 'req-1',
    api: 'chat',
    req: { headers } as IncomingMessage,
    body,
    startedAt: performance.now(),
    signal: new AbortController().signal,
    debug: false,
  });
}

const TARGET: AttemptTarget = {
  label: 'openai/gpt-4o',
  upstreamModel: 'gpt-4o',
  provider: { name: 'openai', type: 'openai' },
};

const ENDPOINT: Endpoint = {
  id: 'https://api.openai.com',
  origin: 'https://api.openai.com',
  dispatcher: null as unknown as Dispatcher,
};

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

describe('tracing', () => {
  const collector = new Collector();
  let endpoint = '';
  const enabled = (over: Record<string, unknown> = {}) =>
    createTracing(tracingSchema.parse({ enabled: true, endpoint, ...over }));

  before(async () => {
    endpoint = await collector.start();
  });
  after(() => collector.close());
  beforeEach(() => collector.reset());

  it('exports a server span with GenAI attributes, a policy stage, attempts and picks as children', async () => {
    const tracing = await enabled({ headers: { 'x-collector-token': 't0ken' } });
    const ctx = fakeContext({ model: 'gpt-4o-latest', max_tokens: 100, temperature: 0.2, top_p: 0.9 });
    const span = tracing.startRequest(ctx);
    assert.ok(span !== null);
    ctx.model = 'gpt-4o'; // an alias resolved by routing
    span.stage('on_request', performance.now());

    const first = span.startAttempt(TARGET);
    first.picked(ENDPOINT, performance.now(), '/v1/chat/completions?api-version=1');
    first.responded(503);
    first.end(new GatewayError('upstream_error', 'The upstream failed.'));

    const second = span.startAttempt(TARGET);
    second.picked(ENDPOINT, performance.now(), '/v1/chat/completions');
    second.responded(200, { responseModel: 'gpt-4o-2024-08-06', finishReasons: ['stop'] });
    ctx.usage = { ...emptyUsage(), inputTokens: 12, outputTokens: 34, cachedInputTokens: 2 };
    ctx.usageSource = 'upstream';
    second.end();

    Object.assign(ctx, {
      target: TARGET.label,
      provider: 'openai',
      upstreamModel: 'gpt-4o',
      endpoint: ENDPOINT.id,
      attempts: 2,
      status: 200,
      durationMs: performance.now() - ctx.startedAt,
    });
    span.end();
    await tracing.shutdown();

    assert.equal(collector.headers['x-collector-token'], 't0ken');
    assert.match(String(collector.headers['content-type']), /^application\/json/);
    const [server] = collector.named('chat gpt-4o').filter((s) => s.kind === SERVER);
    assert.ok(server, `no server span in ${collector.spans.map((s) => s.name).join(', ')}`);
    assert.equal(server.parentSpanId ?? '', '');
    assert.deepEqual(
      {
        op: server.attributes['gen_ai.operation.name'],
        requestModel: server.attributes['gen_ai.request.model'],
        requested: server.attributes['switchyard.requested_model'],
        responseModel: server.attributes['gen_ai.response.model'],
        provider: server.attributes['gen_ai.provider.name'],
        system: server.attributes['gen_ai.system'],
        input: server.attributes['gen_ai.usage.input_tokens'],
        output: server.attributes['gen_ai.usage.output_tokens'],
        cached: server.attributes['gen_ai.usage.cache_read.input_tokens'],
        maxTokens: server.attributes['gen_ai.request.max_tokens'],
        temperature: server.attributes['gen_ai.request.temperature'],
        topP: server.attributes['gen_ai.request.top_p'],
        finish: server.attributes['gen_ai.response.finish_reasons'],
        route: server.attributes['switchyard.route'],
        target: server.attributes['switchyard.target'],
        endpoint: server.attributes['switchyard.endpoint'],
        attempts: server.attributes['switchyard.attempts'],
        status: server.attributes['http.response.status_code'],
        error: server.attributes['error.type'],
      },
      {
        op: 'chat',
        requestModel: 'gpt-4o',
        requested: 'gpt-4o-latest',
        responseModel: 'gpt-4o-2024-08-06',
        provider: 'openai',
        system: 'openai',
        input: 12,
        output: 34,
        cached: 2,
        maxTokens: 100,
        temperature: 0.2,
        topP: 0.9,
        finish: ['stop'],
        route: 'default',
        target: 'openai/gpt-4o',
        endpoint: 'https://api.openai.com',
        attempts: 2,
        status: 200,
        error: undefined,
      },
    );

    const [stage] = collector.named('switchyard.on_request');
    assert.equal(stage?.parentSpanId, server.spanId);
    assert.equal(stage?.traceId, server.traceId);

    const attempts = collector.spans.filter((s) => s.kind === CLIENT);
    assert.equal(attempts.length, 2);
    const [failed, ok] = attempts.sort(
      (a, b) => Number(a.attributes['switchyard.attempt']) - Number(b.attributes['switchyard.attempt']),
    );
    for (const a of [failed!, ok!]) {
      assert.equal(a.parentSpanId, server.spanId);
      assert.equal(a.name, 'chat gpt-4o');
      assert.equal(a.attributes['server.address'], 'api.openai.com');
      assert.equal(a.attributes['server.port'], 443);
      assert.equal(a.attributes['url.path'], '/v1/chat/completions');
      assert.equal(a.attributes['gen_ai.provider.name'], 'openai');
    }
    assert.equal(failed!.attributes['http.response.status_code'], 503);
    assert.equal(failed!.attributes['error.type'], 'upstream_error');
    assert.equal(failed!.status?.code, ERROR);
    assert.ok(failed!.events?.some((e) => e.name === 'exception'));
    assert.equal(ok!.attributes['error.type'], undefined);
    assert.equal(ok!.attributes['gen_ai.usage.output_tokens'], 34);
    assert.equal(ok!.attributes['gen_ai.response.model'], 'gpt-4o-2024-08-06');

    const picks = collector.named('switchyard.endpoint_pick');
    assert.deepEqual(picks.map((p) => p.parentSpanId).sort(), [failed!.spanId, ok!.spanId].sort());

    // Children start after and end before their parent (one clock per request).
    const byId = new Map(collector.spans.map((s) => [s.spanId, s]));
    for (const s of collector.spans) {
      const parent = byId.get(s.parentSpanId ?? '');
      if (parent === undefined) continue;
      assert.ok(BigInt(s.startTimeUnixNano) >= BigInt(parent.startTimeUnixNano), `${s.name} starts early`);
      assert.ok(BigInt(s.endTimeUnixNano) <= BigInt(parent.endTimeUnixNano), `${s.name} ends late`);
    }

    // Each upstream request names its own attempt span as parent.
    assert.equal(first.traceparent, `00-${server.traceId}-${failed!.spanId}-01`);
    assert.equal(second.traceparent, `00-${server.traceId}-${ok!.spanId}-01`);
    assert.equal(first.tracestate, null);
  });

  it("continues the client's traceparent and forwards its tracestate", async () => {
    const tracing = await enabled();
    const ctx = fakeContext(
      { model: 'gpt-4o' },
      { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=abc' },
    );
    const span = tracing.startRequest(ctx)!;
    const attempt = span.startAttempt(TARGET);
    attempt.end();
    span.end();
    await tracing.shutdown();

    const server = collector.spans.find((s) => s.kind === SERVER)!;
    const client = collector.spans.find((s) => s.kind === CLIENT)!;
    assert.equal(server.traceId, CLIENT_TRACE);
    assert.equal(server.parentSpanId, CLIENT_SPAN);
    assert.equal(client.traceId, CLIENT_TRACE);
    assert.equal(attempt.traceparent, `00-${CLIENT_TRACE}-${client.spanId}-01`);
    assert.equal(attempt.tracestate, 'vendor=abc');
  });

  it('disabled: no span, nothing exported, the shared no-op', async () => {
    const tracing = await createTracing(tracingSchema.parse({ endpoint }));
    assert.equal(tracing, NO_TRACING);
    assert.equal(tracing.enabled, false);
    assert.equal(tracing.startRequest(fakeContext({ model: 'gpt-4o' })), null);
    await tracing.shutdown();
    assert.equal(collector.posts, 0);
  });

  it('sample_ratio 0: nothing exported, the upstream is told not to sample', async () => {
    const tracing = await enabled({ sample_ratio: 0 });
    const span = tracing.startRequest(fakeContext({ model: 'gpt-4o' }))!;
    assert.ok(span !== null);
    span.stage('on_request', performance.now());
    const attempt = span.startAttempt(TARGET);
    attempt.picked(ENDPOINT, performance.now(), '/v1/chat/completions');
    attempt.end();
    span.end();
    assert.match(attempt.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    await tracing.shutdown();
    assert.equal(collector.posts, 0);
    assert.equal(tracing.startRequest(fakeContext({ model: 'gpt-4o' })), null, 'no spans after shutdown');
  });

  it('sample_ratio 0 follows a sampled client parent unless parent_based is off', async () => {
    const headers = { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` };
    const followed = await enabled({ sample_ratio: 0 });
    followed.startRequest(fakeContext({ model: 'gpt-4o' }, headers))!.end();
    await followed.shutdown();
    assert.equal(collector.spans.length, 1);

    collector.reset();
    const strict = await enabled({ sample_ratio: '0', parent_based: 'false' });
    const span = strict.startRequest(fakeContext({ model: 'gpt-4o' }, headers))!;
    const attempt = span.startAttempt(TARGET);
    attempt.end();
    span.end();
    await strict.shutdown();
    assert.equal(collector.posts, 0);
    assert.match(attempt.traceparent, new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-00$`));
  });
});

describe('traceparent', () => {
  it('accepts valid headers and rejects malformed ones', () => {
    const ok = parseTraceparent(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, undefined);
    assert.deepEqual(ok, { traceId: CLIENT_TRACE, spanId: CLIENT_SPAN, traceFlags: 1, isRemote: true });
    assert.equal(parseTraceparent(`01-${CLIENT_TRACE}-${CLIENT_SPAN}-03-extra`, undefined)?.traceFlags, 1);
    for (const bad of [
      `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`,
      `00-${CLIENT_TRACE}-${'0'.repeat(16)}-01`,
      `ff-${CLIENT_TRACE}-${CLIENT_SPAN}-01`,
      `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01-extra`,
      `00-${CLIENT_TRACE.toUpperCase()}-${CLIENT_SPAN}-01`,
      'garbage',
    ])
      assert.equal(parseTraceparent(bad, undefined), null, bad);
    assert.equal(parseTraceparent([`00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`], undefined), null);
    assert.equal(parseTraceparent(undefined, 'a=b'), null);
    const state = parseTraceparent(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-00`, ['a=1', 'b=2']);
    assert.equal(state?.traceState?.serialize(), 'a=1,b=2');
  });
});

describe('tracingSchema', () => {
  it('has defaults and takes values interpolated from the environment', () => {
    assert.deepEqual(tracingSchema.parse({}), {
      enabled: false,
      endpoint: 'http://127.0.0.1:4318/v1/traces',
      service_name: 'switchyard',
      sample_ratio: 1,
      parent_based: true,
      headers: {},
      timeout: 10_000,
    });
    const parsed = tracingSchema.parse({ enabled: 'true', sample_ratio: '0.25', timeout: '2s' });
    assert.equal(parsed.enabled, true);
    assert.equal(parsed.sample_ratio, 0.25);
    assert.equal(parsed.timeout, 2_000);
    assert.equal(tracingSchema.safeParse({ sample_ratio: 2 }).success, false);
    assert.equal(tracingSchema.safeParse({ sampling: 1 }).success, false);
  });
});
