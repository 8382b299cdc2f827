import type { Policy, PolicyPipeline, PolicyServices } from '../contracts/policy.ts';
import type { Provider } from '../contracts/upstream.ts';
import { policyRegistry } from '../policies/registry.ts';
import { compileMatch } from '../routing/match.ts';
import { OriginPools } from '../upstream/pools.ts';
import { EmbeddingBatcher } from '../upstream/embedding-batcher.ts';
import { PayloadLog } from '../telemetry/payload-log.ts';
import { buildProvider } from '../upstream/provider-kinds.ts';
import { Runtime, type CompiledModel, type CompiledRoute, type CompiledTarget } from './runtime.ts';
import type { UpstreamEvents } from '../upstream/events.ts';
import type { Config, ModelConfig, PolicyConfig, TargetConfig } from './schema.ts';

// Compile a validated Config into a Runtime: providers with their pools, model tables with cumulative
// weights, route predicates, and one policy array per hook for each route.

let generation = 0;

function buildPolicies(list: readonly PolicyConfig[], services: PolicyServices): Policy[] {
  return list.map((row) => {
    const factory = policyRegistry.get(row.type);
    if (factory === undefined) throw new Error(`unknown policy type ${row.type}`); // validate.ts reports it first
    return factory.create(row.name ?? row.type, factory.params.parse(row.params), services);
  });
}

export function pipelineOf(policies: readonly Policy[]): PolicyPipeline {
  return Object.freeze({
    onRequest: policies.filter((p) => p.onRequest !== undefined),
    onResponseStart: policies.filter((p) => p.onResponseStart !== undefined),
    onEnd: policies.filter((p) => p.onEnd !== undefined),
    onError: policies.filter((p) => p.onError !== undefined),
  });
}

function compileTargets(
  model: ModelConfig,
  list: readonly TargetConfig[],
  providers: ReadonlyMap<string, Provider>,
): CompiledTarget[] {
  return list.map((t) => {
    const upstreamModel = t.model ?? model.name;
    return {
      label: t.name ?? `${t.provider}/${upstreamModel}`,
      provider: providers.get(t.provider)!,
      upstreamModel,
      weight: t.weight,
    };
  });
}

function compileModel(model: ModelConfig, providers: ReadonlyMap<string, Provider>): CompiledModel {
  const targets = compileTargets(model, model.targets, providers);
  const cumulative: number[] = [];
  let total = 0;
  for (const t of targets) cumulative.push((total += t.weight));
  const fallbacks = compileTargets(model, model.fallbacks, providers);
  return {
    name: model.name,
    targets,
    fallbacks,
    contextFallbacks: compileTargets(model, model.context_fallbacks, providers),
    contentFallbacks: compileTargets(model, model.content_fallbacks, providers),
    cumulative,
    totalWeight: total,
    byLabel: new Map([...targets, ...fallbacks].map((t) => [t.label, t])),
  };
}

function modelListBody(config: Config): Buffer {
  const created = Math.floor(Date.now() / 1000);
  const data = config.models
    .filter((m) => m.listed)
    .flatMap((m) => [m.name, ...m.aliases])
    .map((id) => ({ id, object: 'model', created, owned_by: 'switchyard' }));
  return Buffer.from(JSON.stringify({ object: 'list', data }));
}

export interface CompileDeps {
  readonly services: PolicyServices;
  readonly events: UpstreamEvents;
}

export function compile(config: Config, deps: CompileDeps): Runtime {
  const { services } = deps;
  const pools = new OriginPools();
  const providers = new Map<string, Provider>();
  for (const row of config.providers)
    providers.set(row.name, buildProvider(row, { pools, events: deps.events }));
  const models = new Map<string, CompiledModel>();
  for (const row of config.models) {
    const model = compileModel(row, providers);
    models.set(row.name, model);
    for (const alias of row.aliases) models.set(alias, model);
  }
  const globalPolicies = buildPolicies(config.policies, services);
  const allPolicies = [...globalPolicies];
  const routes: CompiledRoute[] = config.routes.map((row) => {
    const own = buildPolicies(row.policies, services);
    allPolicies.push(...own);
    return {
      name: row.name,
      test: compileMatch(row.match),
      model: row.model,
      priority: row.priority,
      batcher:
        row.embeddings_batching === undefined
          ? null
          : new EmbeddingBatcher({
              maxInputs: row.embeddings_batching.max_inputs,
              maxDelayMs: row.embeddings_batching.max_delay,
              requestIdHeader: config.server.request_id_header,
            }),
      pipeline: pipelineOf([...globalPolicies, ...own]),
      payloadLog:
        row.log_payloads !== undefined && config.logging.access_log ? new PayloadLog(row.log_payloads) : null,
    };
  });
  return new Runtime(
    {
      config,
      models,
      routes,
      defaultPipeline: pipelineOf(globalPolicies),
      providers: [...providers.values()],
      pools,
      modelList: modelListBody(config),
      policies: allPolicies,
    },
    ++generation,
  );
}
