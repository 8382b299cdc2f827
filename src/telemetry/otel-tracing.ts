import { ROOT_CONTEXT, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { RequestContext } from '../contracts/request.ts';
import type { RequestSpan, Tracing } from '../contracts/tracing.ts';
import { operationOf } from './genai-attributes.ts';
import { hrTimeOf, OtelRequestSpan } from './otel-spans.ts';
import { parseTraceparent } from './traceparent.ts';
import type { TracingConfig } from './tracing-config.ts';

// The enabled tracer: its own TracerProvider (nothing is registered globally, so tests can run several
// and no other library's spans are captured), a batch span processor and the OTLP/HTTP JSON exporter.
// Loaded by tracing.ts only when tracing is on.

function samplerFor(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.sample_ratio);
  return config.parent_based ? new ParentBasedSampler({ root: ratio }) : ratio;
}

export class OtelTracing implements Tracing {
  readonly enabled = true;
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private closed = false;

  constructor(config: TracingConfig) {
    const exporter = new OTLPTraceExporter({
      url: config.endpoint,
      headers: { ...config.headers },
      timeoutMillis: config.timeout,
    });
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.service_name }));
    this.provider = new BasicTracerProvider({
      resource,
      sampler: samplerFor(config),
      spanProcessors: [new BatchSpanProcessor(exporter, { exportTimeoutMillis: config.timeout })],
    });
    this.tracer = this.provider.getTracer('switchyard');
  }

  startRequest(ctx: RequestContext): RequestSpan | null {
    if (this.closed) return null;
    const remote = parseTraceparent(ctx.clientHeaders.traceparent, ctx.clientHeaders.tracestate);
    const parent = remote === null ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, remote);
    const offsetMs = Date.now() - performance.now();
    // Named by operation only for now: the model is known after routing, and end() renames the span.
    const span = this.tracer.startSpan(
      operationOf(ctx.api),
      { kind: SpanKind.SERVER, startTime: hrTimeOf(ctx.startedAt, offsetMs) },
      parent,
    );
    return new OtelRequestSpan(this.tracer, span, ctx, offsetMs);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.provider.shutdown();
  }
}
