import type { ServerResponse } from 'node:http';
import { toGatewayError, type GatewayError } from '../core/errors.ts';
import type { RequestContext } from '../contracts/request.ts';
import type { CompiledModel, CompiledTarget, Runtime } from '../config/runtime.ts';
import { pickTarget, route } from '../routing/router.ts';
import type { UpstreamEvents } from '../upstream/events.ts';
import { backoffMs, isRetryable, retryAfterMs, sleep, type RetryBudget } from '../upstream/retry.ts';
import { attempt } from './attempt.ts';
import { answerJson } from './relay.ts';
import type { PolicyPipeline } from '../contracts/policy.ts';
import { batchable, type EmbeddingBatcher } from '../upstream/embedding-batcher.ts';

// The inference path for one request: route → on-request policies → a chain of targets (the picked arm,
// then the model's fallbacks), each tried with retries. Failover and retries happen only before the
// first byte reaches the client; client errors (4xx) are never retried or failed over. A context-window
// or content-policy refusal switches to the model's dedicated fallback chain.

export interface ProxyDeps {
  readonly budget: RetryBudget;
  readonly events: UpstreamEvents;
}

interface Step {
  readonly ctx: RequestContext;
  readonly res: ServerResponse;
  readonly run: (target: CompiledTarget) => Promise<void>;
}

function chainFor(model: CompiledModel, first: CompiledTarget): CompiledTarget[] {
  return [first, ...model.fallbacks.filter((t) => t !== first)];
}

export async function proxy(
  deps: ProxyDeps,
  runtime: Runtime,
  ctx: RequestContext,
  res: ServerResponse,
): Promise<void> {
  const decision = route(runtime, ctx);
  ctx.route = decision.route;
  ctx.model = decision.model.name;
  if (decision.payloadLog !== null) ctx.capture = decision.payloadLog.begin(ctx.api);
  if (decision.priority !== undefined) ctx.priority = decision.priority;
  const onRequestAt = ctx.trace === null ? 0 : performance.now();
  try {
    // A hook that finished synchronously is not awaited: each await is a turn of the microtask queue.
    for (const policy of decision.pipeline.onRequest) {
      const pending = policy.onRequest!(ctx);
      if (pending !== undefined) await pending;
    }
  } catch (err) {
    ctx.trace?.stage('on_request', onRequestAt, err);
    throw err;
  }
  ctx.trace?.stage('on_request', onRequestAt);
  const options = { pipeline: decision.pipeline, requestIdHeader: runtime.config.server.request_id_header };
  const step: Step = { ctx, res, run: (target) => attempt(ctx, res, target, options) };
  const model = decision.model;
  const picked = pickTarget(model, ctx);
  if (decision.batcher !== null && ctx.api === 'embeddings') {
    const inputs = batchable(ctx.body);
    if (inputs !== null)
      return batched(ctx, res, {
        batcher: decision.batcher,
        target: picked,
        inputs,
        pipeline: decision.pipeline,
      });
  }
  let chain = chainFor(model, picked);
  let special = false;
  let last: GatewayError | null = null;
  for (let i = 0; i < chain.length; i++) {
    const target = chain[i]!;
    try {
      await withRetries(deps, step, target);
      return;
    } catch (thrown) {
      const err = toGatewayError(thrown);
      if (res.headersSent || ctx.signal.aborted) throw err;
      last = err;
      const alternatives =
        err.code === 'context_length_exceeded'
          ? model.contextFallbacks
          : err.code === 'content_policy_violation'
            ? model.contentFallbacks
            : null;
      if (alternatives !== null && alternatives.length > 0 && !special) {
        special = true;
        chain = [...alternatives];
        i = -1;
        deps.events.fallback(model.name, target.label, chain[0]!.label, err.code);
        continue;
      }
      if (!isRetryable(err)) throw err;
      const next = chain[i + 1];
      if (next !== undefined) deps.events.fallback(model.name, target.label, next.label, err.code);
    }
  }
  throw last!;
}

async function batched(
  ctx: RequestContext,
  res: ServerResponse,
  job: { batcher: EmbeddingBatcher; target: CompiledTarget; inputs: unknown[]; pipeline: PolicyPipeline },
): Promise<void> {
  const { target } = job;
  ctx.target = target.label;
  ctx.provider = target.provider.name;
  ctx.upstreamModel = target.upstreamModel;
  ctx.attempts = 1;
  ctx.responseHeaders['x-switchyard-target'] = target.label;
  ctx.responseHeaders['x-switchyard-attempts'] = '1';
  ctx.responseHeaders['x-switchyard-batched'] = 'true';
  const sentAt = performance.now();
  try {
    answerJson(ctx, res, await job.batcher.submit(ctx, target, job.inputs), job.pipeline);
  } finally {
    ctx.upstreamMs += performance.now() - sentAt;
  }
}

async function tryRun(step: Step, target: CompiledTarget): Promise<GatewayError | null> {
  try {
    await step.run(target);
    return null;
  } catch (thrown) {
    return toGatewayError(thrown);
  }
}

async function withRetries(deps: ProxyDeps, step: Step, target: CompiledTarget): Promise<void> {
  const policy = target.provider.retry;
  const { ctx, res } = step;
  let err = await tryRun(step, target);
  let retries = 0;
  while (err !== null) {
    if (res.headersSent || ctx.signal.aborted || !isRetryable(err) || err.code === 'no_healthy_upstream')
      throw err;
    if (retries >= policy.attempts) throw err;
    const asked = retryAfterMs(err.headers);
    if (asked !== null && asked > policy.retryAfterCapMs) throw err; // come back later: try the next target
    if (!deps.budget.tryRetry()) {
      deps.events.retryBudgetExhausted(target.provider.name);
      throw err;
    }
    retries++;
    deps.events.retry(target.provider.name, err.code);
    try {
      await sleep(asked ?? backoffMs(policy, retries), ctx.signal);
      err = await tryRun(step, target);
    } finally {
      deps.budget.retryEnded();
    }
  }
}
