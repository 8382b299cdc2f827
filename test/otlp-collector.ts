import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// A loopback OTLP/HTTP (JSON) trace collector for tests: every span it receives, with its attributes
// flattened into `attrs` (key → the attribute's value).

export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attrs: Record<string, unknown>;
  readonly [field: string]: unknown;
}

export interface Collector {
  readonly spans: CollectedSpan[];
  /** The endpoint to configure as `tracing.endpoint`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const spans: CollectedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              ...s,
              attrs: Object.fromEntries(
                (s.attributes ?? []).map((a: any) => [a.key, Object.values(a.value)[0]]),
              ),
            });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return { spans, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}
