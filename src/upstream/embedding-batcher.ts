import type { GatewayError } from '../core/errors.ts';
import { toGatewayError } from '../core/errors.ts';
import { usageFromOpenAI, type Usage } from '../core/usage.ts';
import type { JsonObject, RequestContext } from '../contracts/request.ts';
import type { CompiledTarget } from '../config/runtime.ts';
import type { AttemptSpan } from '../contracts/tracing.ts';
import type { TranslateInput } from '../contracts/translator.ts';
import { ExchangeDeadline } from './deadline.ts';
import { propagateTrace, readBody, sendUpstream } from './exchange.ts';

// Request batching for embeddings: concurrent small embedding requests for the same target and options
// are merged into one upstream call (up to `maxInputs` inputs or `maxDelayMs` of waiting), and the answer
// is split back by position. Each request's usage is its share of the batch's, by input count.

export interface BatchOptions {
  readonly maxInputs: number;
  readonly maxDelayMs: number;
  /** The header that carries the request id upstream (server.request_id_header): the first member's. */
  readonly requestIdHeader: string;
}

export interface BatchAnswer {
  readonly status: number;
  readonly body: string;
  readonly usage: Usage | null;
}

interface Waiting {
  readonly inputs: unknown[];
  readonly ctx: RequestContext;
  /** The member's attempt span (its wait in the batch included), or null when tracing is off. */
  readonly span: AttemptSpan | null;
  resolve(answer: BatchAnswer): void;
  reject(err: GatewayError): void;
}

interface Batch {
  readonly target: CompiledTarget;
  readonly body: JsonObject;
  readonly members: Waiting[];
  size: number;
  timer: NodeJS.Timeout | null;
}

/** Only plain input lists are batched: strings or token arrays, and no per-request user field. */
export function batchable(body: JsonObject): unknown[] | null {
  const input = body.input;
  if (body.user !== undefined) return null;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) return input;
  return null;
}

export class EmbeddingBatcher {
  private readonly options: BatchOptions;
  private readonly open = new Map<string, Batch>();

  constructor(options: BatchOptions) {
    this.options = options;
  }

  submit(ctx: RequestContext, target: CompiledTarget, inputs: unknown[]): Promise<BatchAnswer> {
    const { input: _input, ...rest } = ctx.body;
    const key = `${target.label}\u0000${JSON.stringify(rest)}`;
    return new Promise<BatchAnswer>((resolve, reject) => {
      let batch = this.open.get(key);
      if (batch === undefined) {
        batch = { target, body: rest, members: [], size: 0, timer: null };
        this.open.set(key, batch);
        const b = batch;
        batch.timer = setTimeout(() => this.flush(key, b), this.options.maxDelayMs);
      }
      const span = ctx.trace?.startAttempt(target) ?? null;
      batch.members.push({ inputs, ctx, span, resolve, reject });
      batch.size += inputs.length;
      if (batch.size >= this.options.maxInputs) this.flush(key, batch);
    });
  }

  private flush(key: string, batch: Batch): void {
    if (this.open.get(key) !== batch) return;
    this.open.delete(key);
    if (batch.timer !== null) clearTimeout(batch.timer);
    void this.send(batch);
  }

  private async send(batch: Batch): Promise<void> {
    const { target, members } = batch;
    const provider = target.provider;
    const first = members[0]!.ctx;
    const input = members.flatMap((m) => m.inputs);
    const translateInput: TranslateInput = {
      api: 'embeddings',
      body: { ...batch.body, input },
      model: target.upstreamModel,
      stream: false,
      clientWantsUsage: false,
    };
    const up = provider.translator.request(translateInput);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [this.options.requestIdHeader]: first.id,
    };
    if (up.headers !== undefined) Object.assign(headers, up.headers);
    // The upstream call continues the first traced member's trace (one call has one parent); every
    // member's own attempt span records the call.
    propagateTrace(headers, members.find((m) => m.span !== null)?.span ?? null);
    const req = { path: provider.path(up.path, target.upstreamModel), body: up.body, headers };
    provider.authorize(req);
    // The batch is not tied to one client: a client that leaves does not cancel the others' answers.
    const deadline = new ExchangeDeadline(new AbortController().signal, provider.timeouts);
    let endpoint;
    try {
      const pickAt = performance.now();
      endpoint = await provider.endpoint(first);
      for (const m of members) {
        m.ctx.endpoint = endpoint.id;
        m.span?.picked(endpoint, pickAt, req.path);
      }
      const res = await sendUpstream(endpoint, req, deadline, provider.timeouts.firstByteMs);
      for (const m of members) m.span?.responded(res.statusCode);
      const raw = await readBody(res, deadline);
      if (res.statusCode >= 400) throw provider.translator.error(res.statusCode, raw, translateInput);
      provider.release(endpoint, first, 'success');
      for (const m of members) m.span?.end();
      this.split(members, JSON.parse(raw.toString('utf8')) as JsonObject, input.length);
    } catch (thrown) {
      const err = toGatewayError(thrown);
      if (endpoint !== undefined)
        provider.release(endpoint, first, err.status >= 500 ? 'failure' : 'neutral');
      for (const m of members) {
        m.span?.end(err);
        m.reject(err);
      }
    } finally {
      deadline.clear();
    }
  }

  private split(members: readonly Waiting[], answer: JsonObject, total: number): void {
    const data = Array.isArray(answer.data) ? (answer.data as JsonObject[]) : [];
    const usage = usageFromOpenAI(answer.usage);
    let offset = 0;
    for (const m of members) {
      const n = m.inputs.length;
      const mine = data
        .filter((d) => typeof d.index === 'number' && d.index >= offset && d.index < offset + n)
        .map((d) => ({ ...d, index: (d.index as number) - offset }));
      const share: Usage | null =
        usage === null
          ? null
          : { ...usage, inputTokens: Math.round((usage.inputTokens * n) / total), outputTokens: 0 };
      const body = {
        ...answer,
        data: mine,
        ...(share !== null
          ? { usage: { prompt_tokens: share.inputTokens, total_tokens: share.inputTokens } }
          : {}),
      };
      m.resolve({ status: 200, body: JSON.stringify(body), usage: share });
      offset += n;
    }
  }
}
