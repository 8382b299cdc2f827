import type { Tracing } from '../contracts/tracing.ts';
import type { TracingConfig } from './tracing-config.ts';

// Entry point for request tracing. When tracing is off this module is all that loads: the OpenTelemetry
// SDK and exporter (some 150 ms of start-up and 5 MB of heap) are imported only when it is on, and the
// no-op below allocates nothing per request — startRequest returns null and the hot path pays one null
// check at each call site.

export type { AttemptSpan, RequestSpan, Tracing, TraceStage } from '../contracts/tracing.ts';
export { tracingSchema, type TracingConfig } from './tracing-config.ts';

export const NO_TRACING: Tracing = Object.freeze({
  enabled: false,
  startRequest: () => null,
  shutdown: () => Promise.resolve(),
});

/** The process's tracer: the no-op when disabled, else an OTLP/HTTP exporter behind a batch processor. */
export async function createTracing(config: TracingConfig): Promise<Tracing> {
  if (!config.enabled) return NO_TRACING;
  const { OtelTracing } = await import('./otel-tracing.ts');
  return new OtelTracing(config);
}
