import { GatewayError } from '../core/errors.ts';
import type { PolicyPipeline } from '../contracts/policy.ts';
import type { PriorityClass, RequestContext } from '../contracts/request.ts';
import type { CompiledModel, CompiledTarget, Runtime } from '../config/runtime.ts';
import type { EmbeddingBatcher } from '../upstream/embedding-batcher.ts';
import type { PayloadLog } from '../telemetry/payload-log.ts';

// Route selection: the first rule whose conditions hold names the route (and possibly the model); the
// public model (or alias) gives the targets; a weighted pick chooses the arm. A client may pin an arm with
// the x-switchyard-target header (for testing canaries); unknown labels are ignored.

export const TARGET_HEADER = 'x-switchyard-target';

export interface RouteDecision {
  readonly route: string;
  readonly priority: PriorityClass | undefined;
  readonly batcher: EmbeddingBatcher | null;
  readonly pipeline: PolicyPipeline;
  readonly model: CompiledModel;
  readonly payloadLog: PayloadLog | null;
}

export function route(runtime: Runtime, ctx: RequestContext): RouteDecision {
  let name = 'default';
  let pipeline = runtime.defaultPipeline;
  let modelName = ctx.requestedModel;
  let priority: PriorityClass | undefined;
  let batcher: EmbeddingBatcher | null = null;
  let payloadLog: PayloadLog | null = null;
  for (const rule of runtime.routes) {
    if (!rule.test(ctx)) continue;
    name = rule.name;
    priority = rule.priority;
    batcher = rule.batcher;
    pipeline = rule.pipeline;
    payloadLog = rule.payloadLog;
    if (rule.model !== undefined) modelName = rule.model;
    break;
  }
  const model = runtime.models.get(modelName);
  if (model === undefined) {
    // The message repeats only what the client sent: no provider or upstream names leak.
    throw new GatewayError(
      'model_not_found',
      modelName === ''
        ? 'The request must name a model.'
        : `The model '${modelName}' does not exist or you do not have access to it.`,
      { param: 'model' },
    );
  }
  return { route: name, priority, batcher, pipeline, model, payloadLog };
}

export function pickTarget(model: CompiledModel, ctx: RequestContext): CompiledTarget {
  const pinned = ctx.clientHeaders[TARGET_HEADER];
  if (typeof pinned === 'string') {
    const target = model.byLabel.get(pinned);
    if (target !== undefined) return target;
  }
  const { targets, cumulative } = model;
  if (targets.length === 1) return targets[0]!;
  const r = Math.random() * model.totalWeight;
  for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return targets[i]!;
  return targets[targets.length - 1]!;
}
