import type { JsonObject, RequestContext } from '../contracts/request.ts';
import type { SchedulingRequest } from '../contracts/scheduling.ts';
import { BlockHasher } from './prefix-hash.ts';

// Builds the picker's per-request input from the RequestContext once, before any plugin runs: prompt
// text is walked in place (chat messages, completions prompt, Anthropic system + messages, Responses
// input) and hashed block by block, tokens are estimated from its length, and the session key comes
// from the configured header, cookie or the body's `user` field, in that order.

export interface RequestOptions {
  /** Characters per prefix block (64 ≈ a 16-token vLLM block). */
  readonly prefixBlockChars: number;
  /** Prefix blocks hashed at most; longer prompts match on their first blocks only. */
  readonly prefixMaxBlocks: number;
  readonly charsPerToken: number;
  readonly sessionHeader: string | null;
  readonly sessionCookie: string | null;
  readonly sessionFromUser: boolean;
  /** Model names that are LoRA adapters on the pool's engines. */
  readonly adapters: ReadonlySet<string>;
  /** Expected output tokens when the request sets no limit. */
  readonly defaultOutputTokens: number;
}

export const DEFAULT_REQUEST_OPTIONS: RequestOptions = Object.freeze({
  prefixBlockChars: 64,
  prefixMaxBlocks: 256,
  charsPerToken: 4,
  sessionHeader: 'x-session-id',
  sessionCookie: null,
  sessionFromUser: true,
  adapters: new Set<string>(),
  defaultOutputTokens: 256,
});

function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

export class SchedulingRequestBuilder {
  readonly options: RequestOptions;
  private readonly hasher: BlockHasher;

  constructor(options: Partial<RequestOptions> = {}) {
    this.options = { ...DEFAULT_REQUEST_OPTIONS, ...options };
    this.hasher = new BlockHasher(this.options.prefixBlockChars, this.options.prefixMaxBlocks);
  }

  build(ctx: RequestContext): SchedulingRequest {
    const o = this.options;
    const model = ctx.upstreamModel ?? ctx.model;
    const h = this.hasher;
    h.reset(model);
    this.feedBody(ctx.body);
    const promptTokens = Math.ceil(h.length / o.charsPerToken);
    const body = ctx.body;
    const output =
      num(body.max_completion_tokens) ??
      num(body.max_tokens) ??
      num(body.max_output_tokens) ??
      o.defaultOutputTokens;
    const identity = ctx.identity;
    return {
      id: ctx.id,
      model,
      adapter: o.adapters.has(model) ? model : null,
      promptTokens,
      tokenCost: promptTokens + output,
      prefixHashes: h.take(),
      prefixBlockChars: o.prefixBlockChars,
      sessionKey: this.sessionKey(ctx),
      priority: ctx.priority,
      tenant: identity?.tenant ?? identity?.team ?? identity?.id ?? 'anonymous',
    };
  }

  private sessionKey(ctx: RequestContext): string | null {
    const o = this.options;
    if (o.sessionHeader !== null) {
      const v = ctx.clientHeaders[o.sessionHeader];
      if (typeof v === 'string' && v !== '') return v;
    }
    if (o.sessionCookie !== null) {
      const v = cookieValue(ctx.clientHeaders.cookie, o.sessionCookie);
      if (v !== null && v !== '') return v;
    }
    if (o.sessionFromUser && typeof ctx.body.user === 'string' && ctx.body.user !== '') return ctx.body.user;
    return null;
  }

  private feedBody(body: JsonObject): void {
    if (body.system !== undefined) this.feedContent(body.system, 0);
    if (Array.isArray(body.messages)) {
      for (const m of body.messages as unknown[]) {
        if (typeof m !== 'object' || m === null) continue;
        const msg = m as JsonObject;
        if (typeof msg.role === 'string') this.hasher.feed(msg.role);
        this.feedContent(msg.content, 0);
      }
    } else if (body.prompt !== undefined) this.feedContent(body.prompt, 0);
    else if (body.input !== undefined) this.feedContent(body.input, 0);
  }

  private feedContent(content: unknown, depth: number): void {
    if (typeof content === 'string') {
      this.hasher.feed(content);
    } else if (Array.isArray(content) && depth < 4) {
      for (const part of content as unknown[]) this.feedContent(part, depth + 1);
    } else if (typeof content === 'object' && content !== null && depth < 4) {
      const part = content as JsonObject;
      if (typeof part.text === 'string') this.hasher.feed(part.text);
      else if (part.content !== undefined) this.feedContent(part.content, depth + 1);
    }
  }
}
