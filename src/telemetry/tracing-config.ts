import { z } from 'zod';
import { booleanish, duration, headerMap, numberish } from '../config/schema-types.ts';

// The `tracing` section of switchyard.yaml. Read once at start: changing it needs a restart.

export const tracingSchema = z.strictObject({
  /** Off by default; when off no OpenTelemetry code is loaded and requests carry no span. */
  enabled: booleanish.default(false),
  /** OTLP/HTTP traces endpoint (JSON encoding), e.g. an OpenTelemetry Collector's :4318/v1/traces. */
  endpoint: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:4318/v1/traces' })
    .default('http://127.0.0.1:4318/v1/traces'),
  /** The service.name resource attribute (OTEL_RESOURCE_ATTRIBUTES adds others). */
  service_name: z.string().min(1).default('switchyard'),
  /** Share of new traces recorded, 0..1 (decided from the trace id, so services agree). */
  sample_ratio: numberish(z.number().min(0).max(1)).default(1),
  /**
   * Follow the client's sampled flag when it sends a traceparent (parent-based sampling). Set false on a
   * public gateway so clients cannot force every request to be recorded; the trace is still continued.
   */
  parent_based: booleanish.default(true),
  /** Headers sent to the collector, e.g. { authorization: "Bearer ${OTLP_TOKEN}" }. */
  headers: headerMap.default({}),
  /** Longest wait for one export request to the collector. */
  timeout: duration.default(10_000),
});

export type TracingConfig = z.infer<typeof tracingSchema>;
export type TracingConfigInput = z.input<typeof tracingSchema>;
