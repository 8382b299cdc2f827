import { pino, type Logger } from 'pino';
import type { DestinationStream } from 'pino';
import type { RequestContext } from '../contracts/request.ts';
import { LineDestination } from './log-destination.ts';

// The operator log: JSON lines through pino, written asynchronously. The access log is one line per
// request with what an operator needs to answer "what happened to request X". Prompts and outputs only
// on routes that enable `log_payloads`, redacted (payload-log.ts).

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const dest = destination ?? new LineDestination(1);
  return pino({ level, base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' }, dest);
}

let isoSecond = NaN;
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()` for a time in whole milliseconds, with the date and time up to the second
 * formatted once per second (a Date and its formatting per line cost more than the rest of the line).
 */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, -4); // up to and with the "."
  }
  const rest = ms - second * 1000;
  return isoPrefix + (rest < 10 ? '00' : rest < 100 ? '0' : '') + rest + 'Z';
}

/**
 * The access-log line: the logger's own level and time, then the request's fields (one object, one
 * stringify). Optional fields are assigned after the literal; spreading them in would cost a copy.
 */
export function accessLogLine(ctx: RequestContext, time: string): Record<string, unknown> {
  const u = ctx.usage;
  const line: Record<string, unknown> = {
    level: 30,
    time,
    type: 'access',
    id: ctx.id,
    api: ctx.api,
    route: ctx.route,
    model: ctx.model || ctx.requestedModel,
    provider: ctx.provider,
    target: ctx.target,
    upstream_model: ctx.upstreamModel,
    endpoint: ctx.endpoint,
    stream: ctx.stream,
    status: ctx.status,
    error: ctx.errorCode,
    outcome: ctx.outcome,
    attempts: ctx.attempts,
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    cached_tokens: u.cachedInputTokens,
    usage_source: ctx.usageSource,
    identity: ctx.identity?.id ?? null,
    cost_usd: ctx.costUsd,
    latency_ms: Math.round(ctx.durationMs * 100) / 100,
    ttft_ms: ctx.ttftMs === null ? null : Math.round(ctx.ttftMs * 100) / 100,
    upstream_ms: Math.round(ctx.upstreamMs * 100) / 100,
  };
  if (ctx.explain !== null) line.explain = ctx.explain;
  if (ctx.capture !== null) Object.assign(line, ctx.capture.fields(ctx));
  return line;
}

interface LineSink {
  write(line: string): unknown;
}

/**
 * Writes access-log lines straight to the logger's destination with one native JSON.stringify: the same
 * JSON-lines shape as the logger's own lines, without pino's per-call serialisation (a measurable share of
 * the gateway's CPU per request).
 */
export class AccessLog {
  private readonly sink: LineSink;
  /** The gateway's own destination, which takes a line without its newline (no joined copy of it). */
  private readonly lines: LineDestination | null;

  constructor(logger: Logger) {
    this.sink = (logger as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym]!;
    this.lines = this.sink instanceof LineDestination ? this.sink : null;
  }

  write(ctx: RequestContext): void {
    const json = JSON.stringify(accessLogLine(ctx, isoTime(Date.now())));
    if (this.lines !== null) this.lines.writeLine(json);
    else this.sink.write(`${json}\n`);
  }
}
