import { createTraceState, type SpanContext } from '@opentelemetry/api';

// W3C Trace Context (https://www.w3.org/TR/trace-context/): read the client's traceparent/tracestate,
// write the one the upstream receives. Hand-written rather than the SDK's propagator so the hot path
// needs no carrier getter/setter objects: one regular expression in, one template string out.

// version-traceid-parentid-flags; a future version may append fields after the flags.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** The remote parent a client sent, or null when it sent none or an invalid one (a new trace starts). */
export function parseTraceparent(
  traceparent: string | string[] | undefined,
  tracestate: string | string[] | undefined,
): SpanContext | null {
  // Several traceparent headers are as good as none.
  if (typeof traceparent !== 'string') return null;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (m === null) return null;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  const context: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16) & 1, isRemote: true };
  const state = Array.isArray(tracestate) ? tracestate.join(',') : tracestate;
  if (state !== undefined && state.trim() !== '') context.traceState = createTraceState(state);
  return context;
}

/** The traceparent header value naming `context` as the parent. */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 1) === 1 ? '01' : '00'}`;
}

/** The tracestate to forward with it, or null when there is none. */
export function formatTracestate(context: SpanContext): string | null {
  const state = context.traceState?.serialize();
  return state === undefined || state === '' ? null : state;
}
