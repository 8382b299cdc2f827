import type { IncomingMessage } from 'node:http';
import { emptyUsage } from '../core/usage.ts';
import type { ApiKind, JsonObject, PriorityClass, RequestContext } from '../contracts/request.ts';

// Builds the per-request context with every field initialised, so all contexts share one shape.

export interface ContextInit {
  readonly id: string;
  readonly api: ApiKind;
  readonly req: IncomingMessage;
  readonly body: JsonObject;
  readonly startedAt: number;
  readonly signal: AbortSignal;
  readonly debug: boolean;
}

const PRIORITIES: ReadonlySet<string> = new Set(['critical', 'standard', 'sheddable']);

/** The x-switchyard-priority header, when it names a class; routes and keys may override it. */
function priorityFrom(header: string | string[] | undefined): PriorityClass {
  return typeof header === 'string' && PRIORITIES.has(header) ? (header as PriorityClass) : 'standard';
}

export function createContext(init: ContextInit): RequestContext {
  const { body } = init;
  const options = body.stream_options;
  const model = body.model;
  return {
    id: init.id,
    api: init.api,
    startedAt: init.startedAt,
    receivedAt: Date.now(),
    clientHeaders: init.req.headers,
    body,
    stream: body.stream === true,
    clientWantsUsage:
      typeof options === 'object' &&
      options !== null &&
      (options as { include_usage?: unknown }).include_usage === true,
    requestedModel: typeof model === 'string' ? model : '',
    model: '',
    route: 'default',
    target: null,
    provider: null,
    upstreamModel: null,
    endpoint: null,
    attempts: 0,
    status: 0,
    errorCode: null,
    outcome: 'ok',
    usage: emptyUsage(),
    usageSource: 'none',
    ttftMs: null,
    durationMs: 0,
    upstreamMs: 0,
    responseHeaders: {},
    eventStream: false,
    upstreamHeaders: {},
    signal: init.signal,
    identity: null,
    priority: priorityFrom(init.req.headers['x-switchyard-priority']),
    costUsd: null,
    governance: null,
    debug: init.debug,
    explainWanted: init.debug,
    explain: null,
    trace: null,
    capture: null,
  };
}
