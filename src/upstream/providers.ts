import type { ProviderConfig } from '../config/schema.ts';
import type { Endpoint, OutgoingRequest, Provider, UpstreamTimeouts } from '../contracts/upstream.ts';
import type { Translator } from '../contracts/translator.ts';
import { openAIPassThrough } from '../translators/openai-to-openai.ts';
import { providerHeaders, type HeaderPairs } from './auth.ts';
import type { OriginPools } from './pools.ts';

// Providers built from config rows. Every OpenAI-compatible server is the same class with a different
// base URL, auth and headers; Azure differs only in its path (deployment, api-version).

function basePath(baseUrl: string): string {
  const path = new URL(baseUrl).pathname;
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

function timeoutsOf(config: ProviderConfig): UpstreamTimeouts {
  const t = config.timeouts;
  return { connectMs: t.connect, firstByteMs: t.first_byte, idleMs: t.idle, totalMs: t.total };
}

/** A provider with one origin (a hosted API or a single model server). */
export class SingleEndpointProvider implements Provider {
  readonly name: string;
  readonly type: string;
  readonly translator: Translator;
  readonly timeouts: UpstreamTimeouts;
  protected readonly base: string;
  private readonly headers: HeaderPairs;
  private readonly target: Endpoint;

  constructor(config: ProviderConfig, pools: OriginPools, translator: Translator) {
    this.name = config.name;
    this.type = config.type;
    this.translator = translator;
    this.timeouts = timeoutsOf(config);
    this.base = basePath(config.base_url);
    this.headers = providerHeaders(config);
    const origin = new URL(config.base_url).origin;
    this.target = { id: origin, origin, dispatcher: pools.forProvider(config) };
  }

  path(relative: string, _model: string): string {
    return this.base + relative;
  }

  authorize(req: OutgoingRequest): void {
    for (const [k, v] of this.headers) req.headers[k] = v;
  }

  endpoint(): Endpoint {
    return this.target;
  }

  release(): void {}

  async close(): Promise<void> {}
}

/** Azure OpenAI: /openai/deployments/{deployment}/chat/completions?api-version=… */
export class AzureProvider extends SingleEndpointProvider {
  private readonly query: string;

  constructor(config: Extract<ProviderConfig, { type: 'azure' }>, pools: OriginPools) {
    super(config, pools, openAIPassThrough);
    this.query = `?api-version=${encodeURIComponent(config.api_version)}`;
  }

  override path(relative: string, model: string): string {
    // The Responses API on Azure is not deployment-scoped.
    if (relative === '/responses') return `${this.base}/responses${this.query}`;
    return `${this.base}/deployments/${encodeURIComponent(model)}${relative}${this.query}`;
  }
}

export function buildProvider(config: ProviderConfig, pools: OriginPools): Provider {
  switch (config.type) {
    case 'openai':
      return new SingleEndpointProvider(config, pools, openAIPassThrough);
    case 'azure':
      return new AzureProvider(config, pools);
  }
}
