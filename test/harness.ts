import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseConfig } from '../src/config/load.ts';
import { Gateway } from '../src/server/gateway.ts';
import { createLogger } from '../src/telemetry/access-log.ts';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';

// Starts a gateway on a free loopback port from YAML text, capturing its log lines for assertions.

export interface TestGateway {
  gateway: Gateway;
  url: string;
  logs: any[];
  accessLogs(): any[];
  close(): Promise<void>;
}

export async function startGateway(yaml: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const config = parseConfig(yaml, { env: { ...process.env, ...env } });
  const logs: any[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const logger = createLogger('info', sink);
  const gateway = await Gateway.start({
    config: { ...config, server: { ...config.server, host: '127.0.0.1' } },
    port: 0,
    logger,
  });
  return {
    gateway,
    url: gateway.url,
    logs,
    accessLogs: () => logs.filter((l) => l.type === 'access'),
    close: () => gateway.shutdown(),
  };
}

export function basicConfig(upstreamUrl: string, extra = ''): string {
  return `
metrics: { process: false }
providers:
  - name: fake
    type: openai
    base_url: ${upstreamUrl}
    retry: { attempts: 0 }
models:
  - name: mock-model
    aliases: [mock-alias]
    targets:
      - provider: fake
        model: upstream-mock
${extra}`;
}

export async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const GOVERNED = readFileSync(new URL('../examples/governed.yaml', import.meta.url), 'utf8');

/**
 * examples/governed.yaml in front of a fresh fake upstream, its demo key's secret `secret`, an in-memory
 * SQLite ledger; `env` adds to (or replaces) those settings. close() stops both.
 */
export async function startGovernedExample(
  secret: string,
  env: Record<string, string> = {},
): Promise<{ upstream: FakeUpstream; gw: TestGateway; close: () => Promise<void> }> {
  const upstream = await startFakeUpstream();
  const gw = await startGateway(GOVERNED, {
    UPSTREAM_URL: upstream.url,
    DEMO_KEY: secret,
    LEDGER_URL: 'sqlite::memory:',
    ...env,
  });
  return {
    upstream,
    gw,
    close: async () => {
      await gw.close();
      await upstream.close();
    },
  };
}
