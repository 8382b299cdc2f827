import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { GatewayError, toGatewayError } from '../core/errors.ts';
import { requestIdFrom } from '../core/ids.ts';
import type { ApiKind, RequestContext } from '../contracts/request.ts';
import type { Runtime } from '../config/runtime.ts';
import type { AccessLog } from '../telemetry/access-log.ts';
import type { GatewayMetrics } from '../telemetry/metrics.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import type { LiveStats } from '../telemetry/live-stats.ts';
import { readJsonBody } from './body.ts';
import { createContext, type ContextInit } from './context.ts';
import { proxy, type ProxyDeps } from './proxy.ts';
import { sendError, type Surface } from './respond.ts';

// One inference request from arrival to its access-log line: body, context, the proxy path, error
// reporting in the surface's shape, then on-end policies, metrics and the log, whatever the outcome.

export interface HandlerDeps extends ProxyDeps {
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly accessLog: AccessLog;
  readonly tracing: Tracing;
  readonly live: LiveStats;
}

/** Reason given to the abort signal when the client goes away. */
const CLIENT_GONE = new GatewayError('request_timeout', 'The client closed the connection.');

export async function handleInference(
  deps: HandlerDeps,
  runtime: Runtime,
  exchange: { req: IncomingMessage; res: ServerResponse; api: ApiKind; surface: Surface },
): Promise<void> {
  const { req, res, api, surface } = exchange;
  const startedAt = performance.now();
  const server = runtime.config.server;
  const id = requestIdFrom(req.headers[server.request_id_header]);
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort(CLIENT_GONE);
  };
  res.on('close', onClose);
  let ctx: RequestContext | null = null;
  try {
    const body = await readJsonBody(req, server.limits.body);
    const debugValue = req.headers[server.debug_header];
    ctx = begin(deps, server.request_id_header, {
      id,
      api,
      req,
      body,
      startedAt,
      signal: abort.signal,
      debug: debugValue === '1' || debugValue === 'true',
    });
    if (!ctx.debug && deps.live.wantsExplain()) ctx.explainWanted = true;
    if (ctx.requestedModel === '')
      throw new GatewayError('invalid_request', "The request must name a model in the 'model' field.", {
        param: 'model',
      });
    await proxy(deps, runtime, ctx, res);
  } catch (thrown) {
    const err = toGatewayError(thrown);
    if (err.code === 'internal_error') deps.logger.error({ err: thrown, id }, 'internal error');
    ctx ??= begin(deps, server.request_id_header, {
      id,
      api,
      req,
      body: {},
      startedAt,
      signal: abort.signal,
      debug: false,
    });
    ctx.errorCode = err.code;
    if (abort.signal.aborted && abort.signal.reason === CLIENT_GONE) {
      ctx.outcome = 'aborted';
      ctx.status = 499;
    } else {
      ctx.outcome = res.headersSent ? 'cut' : 'error';
      if (!res.headersSent) ctx.status = err.status;
      for (const policy of pipelineOf(runtime, ctx).onError) policy.onError!(ctx, err);
      // A body we did not read to the end (413, a bad content type) leaves the connection unusable.
      const close = !req.complete;
      sendError(res, err, { surface, headers: ctx.responseHeaders, close, eventStream: ctx.eventStream });
    }
  } finally {
    res.off('close', onClose);
    if (ctx !== null) finish(deps, runtime, ctx);
  }
}

/** The request's context, with its id on every answer (under `idHeader`) and its trace started. */
function begin(deps: HandlerDeps, idHeader: string, init: ContextInit): RequestContext {
  const ctx = createContext(init);
  ctx.responseHeaders[idHeader] = init.id;
  ctx.trace = deps.tracing.startRequest(ctx);
  return ctx;
}

function pipelineOf(runtime: Runtime, ctx: RequestContext) {
  for (const rule of runtime.routes) if (rule.name === ctx.route) return rule.pipeline;
  return runtime.defaultPipeline;
}

function finish(deps: HandlerDeps, runtime: Runtime, ctx: RequestContext): void {
  ctx.durationMs = performance.now() - ctx.startedAt;
  for (const policy of pipelineOf(runtime, ctx).onEnd) {
    try {
      policy.onEnd!(ctx);
    } catch (err) {
      deps.logger.error({ err, id: ctx.id, policy: policy.name }, 'policy onEnd failed');
    }
  }
  deps.metrics.observe(ctx);
  deps.live.observe(ctx);
  if (runtime.config.logging.access_log) deps.accessLog.write(ctx);
  ctx.trace?.end();
}
