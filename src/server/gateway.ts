import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { GatewayError } from '../core/errors.ts';
import type { ApiKind } from '../contracts/request.ts';
import type { PolicyServices } from '../contracts/policy.ts';
import { compile, type CompileDeps } from '../config/compile.ts';
import { RetryBudget } from '../upstream/retry.ts';
import {
  createGovernanceServices,
  keyFieldsOf,
  type ManagedGovernance,
} from '../policies/governance/services.ts';
import { governanceHooks } from '../telemetry/governance-events.ts';
import { createTracing, type Tracing } from '../telemetry/tracing.ts';
import type { Runtime } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';
import { AccessLog, createLogger } from '../telemetry/access-log.ts';
import { GatewayMetrics } from '../telemetry/metrics.ts';
import { budgetsOf } from '../telemetry/budget-metrics.ts';
import { handleInference, type HandlerDeps } from './handler.ts';
import { sendError, sendJson, type Surface } from './respond.ts';
import { countTokensRequest, COUNT_TOKENS } from './count-tokens.ts';
import { peerCertificateOf, rememberSocket } from './peer-certs.ts';
import { adminAuthorized, handleAdmin } from './admin/admin.ts';
import { governanceBudgets, type DashboardDeps } from './admin/dashboard-api.ts';
import { LiveStats } from '../telemetry/live-stats.ts';
import { serveUi } from '../ui/serve.ts';

// The gateway process: one node:http server, the current Runtime (swapped atomically on reload), the
// metrics registry and logger (which outlive reloads), and a drain on shutdown.

const INFERENCE: Readonly<Record<string, ApiKind>> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
  '/v1/responses': 'responses',
  '/v1/messages': 'messages',
};

export interface GatewayOptions {
  readonly config: Config;
  /** Overrides server.port (0 picks a free port). */
  readonly port?: number;
  readonly logger?: Logger;
}

export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  private runtime: Runtime;
  private readonly server: Server;
  private readonly deps: CompileDeps;
  private readonly budget: RetryBudget;
  readonly governance: ManagedGovernance;
  /** Live aggregates for the /ui dashboard (outlive reloads, like the metrics). */
  readonly live = new LiveStats();
  private readonly dashboard: DashboardDeps;
  private readonly handlerDeps: HandlerDeps;
  private readonly tls: boolean;
  private draining = false;
  private active = 0;

  private constructor(
    options: GatewayOptions,
    parts: { logger: Logger; metrics: GatewayMetrics; governance: ManagedGovernance; tracing: Tracing },
  ) {
    const { config } = options;
    this.logger = parts.logger;
    this.metrics = parts.metrics;
    this.governance = parts.governance;
    const services: PolicyServices = {
      log: (level, msg, data) => this.logger[level](data ?? {}, msg),
      governance: parts.governance,
      maxLabelValues: config.metrics.max_label_values,
    };
    this.deps = { services, events: this.metrics.upstreamEvents() };
    this.budget = new RetryBudget(config.resilience.retry_budget, config.resilience.min_retry_concurrency);
    this.handlerDeps = {
      metrics: this.metrics,
      logger: this.logger,
      accessLog: new AccessLog(this.logger),
      tracing: parts.tracing,
      live: this.live,
      budget: this.budget,
      events: this.deps.events,
    };
    this.dashboard = {
      live: this.live,
      status: () => this.status(),
      budgets: governanceBudgets(parts.governance, () => this.runtime.config),
    };
    this.runtime = compile(config, this.deps);
    this.runtime.start();
    let poolsOf = this.runtime;
    let cachedPools = this.runtime.poolProviders;
    this.metrics.poolSource = () => {
      if (poolsOf !== this.runtime) {
        poolsOf = this.runtime;
        cachedPools = this.runtime.poolProviders;
      }
      return cachedPools;
    };
    // Only budget policies report: a gateway without one has no gateway_budget_remaining samples.
    this.metrics.budgetSource = () => budgetsOf(this.runtime.policies);
    const s = config.server;
    const http = {
      maxHeaderSize: s.limits.headers,
      headersTimeout: s.timeouts.headers,
      requestTimeout: s.timeouts.request,
      keepAliveTimeout: s.timeouts.keep_alive,
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(s.timeouts.headers / 4))),
    };
    const tls = s.tls;
    this.tls = tls !== undefined;
    this.server =
      tls === undefined
        ? createServer(http, (req, res) => this.dispatch(req, res))
        : createHttpsServer(
            {
              ...http,
              cert: readFileSync(tls.cert),
              key: readFileSync(tls.key),
              ...(tls.ca !== undefined ? { ca: readFileSync(tls.ca) } : {}),
              requestCert: tls.client_auth !== 'none',
              rejectUnauthorized: tls.client_auth === 'required',
            },
            (req, res) => {
              if (tls.client_auth !== 'none') rememberSocket(req.headers, req.socket as TLSSocket);
              this.dispatch(req, res);
            },
          );
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
      this.clientError(err, socket),
    );
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const { config } = options;
    const logger = options.logger ?? createLogger(config.logging.level);
    const metrics = new GatewayMetrics({
      process: config.metrics.process,
      maxLabelValues: config.metrics.max_label_values,
    });
    const governance = await createGovernanceServices(config.governance, {
      ...governanceHooks(metrics, logger),
      peerCertificate: peerCertificateOf,
    });
    const tracing = await createTracing(config.tracing);
    const gateway = new Gateway(options, { logger, metrics, governance, tracing });
    const s = options.config.server;
    gateway.server.listen(options.port ?? s.port, s.host);
    await once(gateway.server, 'listening');
    return gateway;
  }

  get url(): string {
    const addr = this.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `${this.tls ? 'https' : 'http'}://${host}:${addr.port}`;
  }

  get config(): Config {
    return this.runtime.config;
  }

  /** Swap in a new config. Throws (and keeps the current Runtime) when it cannot be compiled. */
  reload(config: Config): void {
    if (
      JSON.stringify({ ...config.governance, keys: [] }) !==
      JSON.stringify({ ...this.runtime.config.governance, keys: [] })
    ) {
      this.logger.warn('governance settings other than keys changed: they take effect after a restart');
    }
    for (const key of config.governance.keys) void this.governance.keys.declare(key.secret, keyFieldsOf(key));
    let next: Runtime;
    try {
      next = compile(config, this.deps);
    } catch (err) {
      this.metrics.reloads.labels('error').inc();
      throw err;
    }
    next.start();
    const previous = this.runtime;
    this.runtime = next;
    previous.retire();
    this.metrics.reloads.labels('ok').inc();
    this.logger.info({ generation: next.generation }, 'configuration reloaded');
  }

  /** Stop accepting, let in-flight requests finish (bounded by drain_timeout), then close everything. */
  async shutdown(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    const deadline = Date.now() + this.runtime.config.server.drain_timeout;
    while (this.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.active > 0) {
      this.logger.warn({ in_flight: this.active }, 'drain timeout: aborting requests still in flight');
      await this.runtime.destroy();
    }
    this.server.closeAllConnections();
    await this.runtime.close();
    try {
      await this.handlerDeps.tracing.shutdown();
    } catch (err) {
      this.logger.error({ err }, 'could not flush traces');
    }
    try {
      await this.governance.close();
    } catch (err) {
      this.logger.error({ err }, 'could not flush governance state (usage ledger)');
    }
    // Log lines still buffered go out before the process exits (bounded: a stdout nobody reads must
    // not hold the shutdown; what is left is written synchronously at exit).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      this.logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/admin' || path.startsWith('/admin/')) return this.admin(req, res, url);
    const api = INFERENCE[path];
    if (api !== undefined || path === COUNT_TOKENS) {
      const surface: Surface = api === 'messages' || path === COUNT_TOKENS ? 'anthropic' : 'openai';
      if (req.method !== 'POST')
        return this.refuse(res, new GatewayError('method_not_allowed', `Use POST for ${path}.`), { surface });
      if (this.draining)
        return this.refuse(
          res,
          new GatewayError('shutting_down', 'The gateway is shutting down; retry on another replica.'),
          { surface, close: true },
        );
      if (api === undefined) {
        const runtime = this.runtime.acquire();
        void countTokensRequest(runtime, req, res).finally(() => runtime.release());
        return;
      }
      this.serve(req, res, api, surface);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return this.refuse(res, new GatewayError('not_found', `No route for ${req.method ?? ''} ${path}.`));
    }
    this.serveGet(req, path, res);
  }

  private serve(req: IncomingMessage, res: ServerResponse, api: ApiKind, surface: Surface): void {
    const runtime = this.runtime.acquire();
    this.active++;
    this.metrics.inFlight.inc();
    this.budget.requestStarted();
    void handleInference(this.handlerDeps, runtime, {
      req,
      res,
      api,
      surface,
    }).finally(() => {
      this.active--;
      this.budget.requestEnded();
      this.metrics.inFlight.dec();
      runtime.release();
    });
  }

  private serveGet(req: IncomingMessage, path: string, res: ServerResponse): void {
    const runtime = this.runtime;
    // The page is static and public; its data (/admin/dashboard) needs the admin token.
    if (runtime.config.admin.token !== '' && serveUi(req, res, path)) return;
    if (path === '/v1/models') return sendJson(res, 200, runtime.modelList);
    if (path === '/healthz') return sendJson(res, 200, '{"status":"ok"}');
    if (path === '/readyz') {
      if (this.draining) return sendJson(res, 503, '{"status":"draining"}');
      // With prewarming, not ready until every endpoint has been probed once.
      return runtime.ready
        ? sendJson(res, 200, '{"status":"ready"}')
        : sendJson(res, 503, '{"status":"warming"}');
    }
    const m = runtime.config.metrics;
    if (m.enabled && path === m.path) {
      void this.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    this.refuse(res, new GatewayError('not_found', `No route for ${path}.`));
  }

  private admin(req: IncomingMessage, res: ServerResponse, url: string): void {
    const token = this.runtime.config.admin.token;
    if (token === '')
      return this.refuse(res, new GatewayError('not_found', 'The admin API is disabled (set admin.token).'));
    if (!adminAuthorized(req, token)) {
      return this.refuse(
        res,
        new GatewayError('unauthorized', 'The admin API needs the admin bearer token.', {
          headers: { 'www-authenticate': 'Bearer' },
        }),
      );
    }
    void handleAdmin(
      {
        gov: this.governance,
        config: () => this.runtime.config,
        status: () => this.status(),
        dashboard: this.dashboard,
      },
      req,
      res,
      new URL(url, 'http://admin'),
    );
  }

  /** A snapshot for the admin API and dashboard: config generation, pools and their endpoints. */
  status(): Record<string, unknown> {
    const runtime = this.runtime;
    return {
      generation: runtime.generation,
      in_flight: this.active,
      draining: this.draining,
      ready: runtime.ready,
      models: runtime.config.models.map((m) => ({
        name: m.name,
        targets: m.targets.map((t) => t.name ?? `${t.provider}/${t.model ?? m.name}`),
      })),
      pools: runtime.poolProviders.map((p) => ({
        name: p.name,
        saturated: p.scheduler.saturated(),
        queue: p.scheduler.queueDepths(),
        endpoints: p.scheduler.endpoints.all().map((e) => ({
          id: e.id,
          waiting: e.waiting,
          running: e.running,
          kv_usage: e.kvUsage,
          gpu_utilization: Number.isNaN(e.gpuUtilization) ? null : e.gpuUtilization,
          in_flight: e.inFlight,
          health: e.health,
          stale: e.stale,
          ejected: e.ejected,
          ttft_ewma_ms: Number.isNaN(e.ttftEwmaMs) ? null : e.ttftEwmaMs,
        })),
      })),
    };
  }

  private refuse(
    res: ServerResponse,
    err: GatewayError,
    options: { surface?: Surface; close?: boolean } = {},
  ): void {
    sendError(res, err, { surface: options.surface ?? 'openai', close: options.close === true });
  }

  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const gwErr =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new GatewayError('headers_too_large', 'The request headers are too large.')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new GatewayError('request_timeout', 'The request was not received in time.')
          : new GatewayError('invalid_request', 'The request is not valid HTTP.');
    const body = JSON.stringify({
      error: { message: gwErr.message, type: gwErr.type, param: null, code: gwErr.code },
    });
    const reason =
      gwErr.status === 431
        ? 'Request Header Fields Too Large'
        : gwErr.status === 408
          ? 'Request Timeout'
          : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${gwErr.status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
}
