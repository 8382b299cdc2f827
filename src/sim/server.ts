import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError, openAIErrorBody, toGatewayError } from '../core/errors.ts';
import { newRequestId } from '../core/ids.ts';
import { FaultInjector } from './faults.ts';
import { renderMetrics } from './metrics.ts';
import { parseCompletionRequest, type CompletionKind } from './openai-request.ts';
import { JsonSink, StreamSink, type ResponseShape } from './openai-sinks.ts';
import { resolveSimOptions, type SimConfig, type SimOptions } from './options.ts';
import { Scheduler } from './scheduler.ts';

// One simulated model server on node:http: OpenAI chat and completions (streamed or not), /v1/models,
// /health and /metrics, in front of one Scheduler.

const BODY_LIMIT = 16 * 1024 * 1024;

export interface SimStats {
  readonly running: number;
  readonly waiting: number;
  readonly kvUsage: number;
  readonly freeBlocks: number;
  readonly cachedBlocks: number;
  readonly requests: number;
  readonly promptTokens: number;
  readonly generationTokens: number;
  readonly prefixQueries: number;
  readonly prefixHits: number;
  readonly preemptions: number;
  readonly steps: number;
  readonly finished: { readonly stop: number; readonly length: number; readonly abort: number };
  /** Error responses sent (injected or invalid requests). */
  readonly errors: number;
}

export interface SimServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:9001 (append /v1 for OpenAI clients). */
  readonly url: string;
  readonly port: number;
  readonly config: SimConfig;
  stats(): SimStats;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new GatewayError('payload_too_large', 'The request body is too large.');
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch {
    throw new GatewayError('invalid_json', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const type = headers['content-type'] ?? 'application/json';
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

class SimHandler {
  readonly config: SimConfig;
  readonly scheduler: Scheduler;
  private readonly faults: FaultInjector;
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(config: SimConfig) {
    this.config = config;
    this.scheduler = new Scheduler(config);
    this.faults = new FaultInjector(config.faults, config.seed);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((err: unknown) => this.fail(res, toGatewayError(err)));
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (path === '/v1/chat/completions' || path === '/v1/completions') {
      if (req.method !== 'POST') throw new GatewayError('method_not_allowed', `Use POST for ${path}.`);
      return this.complete(req, res, path === '/v1/chat/completions' ? 'chat' : 'completions');
    }
    if (path === '/health' && get) return send(res, 200, '');
    if (path === '/metrics' && get)
      return send(res, 200, renderMetrics(this.scheduler), {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      });
    if (path === '/v1/models' && get) return send(res, 200, this.models());
    throw new GatewayError('not_found', `No route for ${req.method} ${path}.`);
  }

  private models(): string {
    const { model, loraAdapters, maxModelLen } = this.config;
    const card = (id: string, parent: string | null): Record<string, unknown> => ({
      id,
      object: 'model',
      created: this.created,
      owned_by: 'vllm',
      root: id,
      parent,
      max_model_len: maxModelLen,
      permission: [],
    });
    return JSON.stringify({
      object: 'list',
      data: [card(model, null), ...loraAdapters.map((a) => card(a, model))],
    });
  }

  private async complete(req: IncomingMessage, res: ServerResponse, kind: CompletionKind): Promise<void> {
    const { scheduler, config } = this;
    scheduler.stats.requests++;
    const parsed = parseCompletionRequest(kind, await readJson(req), config);
    const plan = this.faults.next(parsed.stream);
    if (config.faults.headerDelayMs > 0) {
      await sleep(config.faults.headerDelayMs * config.timeScale);
      if (res.destroyed) return;
    }
    if (plan.error) {
      const status = config.faults.errorStatus;
      const code = status === 429 ? 'rate_limited' : 'internal_error';
      const message = status === 429 ? 'Simulated rate limit.' : 'Simulated server error.';
      throw new GatewayError(code, message, { status, headers: this.faults.errorHeaders() });
    }
    const shape: ResponseShape = {
      kind,
      id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${newRequestId()}`,
      created: Math.floor(Date.now() / 1000),
      model: parsed.model,
    };
    let sink: StreamSink | JsonSink;
    if (parsed.stream) {
      const stream = new StreamSink(res, shape, {
        includeUsage: parsed.includeUsage,
        cutAfter: plan.cutAfter,
      });
      stream.start();
      if (plan.streamError) {
        scheduler.stats.countError(500);
        stream.failWith(openAIErrorBody(new GatewayError('internal_error', 'Simulated error in stream.')));
        return;
      }
      sink = stream;
    } else sink = new JsonSink(res, shape);
    if (res.destroyed) return;
    const seq = scheduler.submit({ ...parsed, sink });
    res.on('close', () => {
      if (seq.state === 'waiting' || seq.state === 'running') scheduler.abort(seq);
    });
  }

  private fail(res: ServerResponse, err: GatewayError): void {
    this.scheduler.stats.countError(err.status);
    if (res.headersSent) res.destroy();
    else send(res, err.status, openAIErrorBody(err), { ...err.headers });
  }
}

/** Start one simulated server. Port 0 (the default) picks a free port. */
export async function startSimulator(options: SimOptions = {}): Promise<SimServer> {
  const config = resolveSimOptions(options);
  const handler = new SimHandler(config);
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, handler.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    config,
    stats: () => {
      const { stats, kv } = handler.scheduler;
      let errors = 0;
      for (const n of stats.errors.values()) errors += n;
      return {
        running: handler.scheduler.numRunning,
        waiting: handler.scheduler.numWaiting,
        kvUsage: kv.usage,
        freeBlocks: kv.numFree,
        cachedBlocks: kv.numCached,
        requests: stats.requests,
        promptTokens: stats.promptTokens,
        generationTokens: stats.generationTokens,
        prefixQueries: stats.prefixQueries,
        prefixHits: stats.prefixHits,
        preemptions: stats.preemptions,
        steps: stats.steps,
        finished: { ...stats.finished },
        errors,
      };
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        handler.scheduler.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
