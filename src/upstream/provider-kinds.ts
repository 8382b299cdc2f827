import type { ProviderConfig } from '../config/schema.ts';
import type { OutgoingRequest, Provider } from '../contracts/upstream.ts';
import type { Translator } from '../contracts/translator.ts';
import { withMessagesSurface } from '../api/anthropic/messages-over-chat.ts';
import { SigV4Signer } from '../auth-schemes/sigv4.ts';
import { createAnthropicProviderTranslator } from '../translators/anthropic-provider.ts';
import { openAIToBedrock } from '../translators/openai-to-bedrock.ts';
import { openAIToGemini } from '../translators/openai-to-gemini.ts';
import { openAIPassThrough } from '../translators/openai-to-openai.ts';
import type { UpstreamEvents } from './events.ts';
import type { OriginPools } from './pools.ts';
import { PoolProvider } from './pool-provider.ts';
import { AzureProvider, SingleEndpointProvider } from './providers.ts';

// Building a provider from its config row: the translator for its wire schema (wrapped so it also
// serves the Anthropic /v1/messages surface), and the auth scheme. OpenAI-compatible servers are rows of
// type `openai`; only schemas that differ get their own translator.

export interface ProviderDeps {
  readonly pools: OriginPools;
  readonly events: UpstreamEvents;
}

/** Bedrock: every request signed with SigV4 after all other headers are set. */
class BedrockProvider extends SingleEndpointProvider {
  private readonly signer: SigV4Signer;
  private readonly host: string;

  constructor(
    config: Extract<ProviderConfig, { type: 'bedrock' }>,
    deps: ProviderDeps,
    translator: Translator,
  ) {
    super(config, deps, translator);
    const c = config.credentials;
    this.signer = new SigV4Signer({
      credentials: {
        accessKeyId: c.access_key_id,
        secretAccessKey: c.secret_access_key,
        ...(c.session_token ? { sessionToken: c.session_token } : {}),
      },
      region: config.region,
      service: 'bedrock',
    });
    this.host = new URL(config.base_url).host;
  }

  override authorize(req: OutgoingRequest): void {
    super.authorize(req);
    this.signer.authorize(req, { method: 'POST', host: this.host });
  }
}

export function buildProvider(config: ProviderConfig, deps: ProviderDeps): Provider {
  switch (config.type) {
    case 'openai':
      return new SingleEndpointProvider(config, deps, withMessagesSurface(openAIPassThrough));
    case 'azure':
      return new AzureProvider(config, deps, withMessagesSurface(openAIPassThrough));
    case 'anthropic':
      return new SingleEndpointProvider(
        config,
        deps,
        createAnthropicProviderTranslator({
          version: config.version,
          defaultMaxTokens: config.default_max_tokens,
        }),
      );
    case 'gemini':
      return new SingleEndpointProvider(
        config,
        deps,
        withMessagesSurface(openAIToGemini, { extensions: true }),
      );
    case 'bedrock':
      return new BedrockProvider(config, deps, withMessagesSurface(openAIToBedrock, { extensions: true }));
    case 'pool':
      return new PoolProvider(config, deps, withMessagesSurface(openAIPassThrough));
  }
}
