import { z } from 'zod';
import type { EndpointView, SchedulingRequest, Scorer } from '../contracts/scheduling.ts';
import { fraction, nonNegative, positive, positiveInt } from './params.ts';
import { PrefixIndex } from './prefix-index.ts';
import { DEFAULT_SATURATION, isSaturated, type SaturationThresholds } from './saturation.ts';
import { definePlugin } from './registry.ts';

// Affinity scorers: send a request where its state already is. Prefix-cache and session affinity keep
// their own index (plugin state built once per Runtime, updated through onPicked); LoRA affinity reads
// the adapters each engine reports.

/** Share of the request's prefix blocks the endpoint probably holds in its KV cache. */
export class PrefixCacheScorer implements Scorer {
  readonly type = 'prefix-cache';
  readonly name: string;
  readonly index = new PrefixIndex();
  private readonly defaultCapacity: number;
  private readonly charsPerToken: number;

  constructor(name: string, options: { lruCapacity: number; charsPerToken: number }) {
    this.name = name;
    this.defaultCapacity = options.lruCapacity;
    this.charsPerToken = options.charsPerToken;
  }

  score(req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    const total = req.prefixHashes.length;
    if (total === 0) {
      out.fill(0, 0, endpoints.length);
      return;
    }
    this.index.match(req.prefixHashes, endpoints, out);
    for (let j = 0; j < endpoints.length; j++) out[j]! /= total;
  }

  onPicked(req: SchedulingRequest, endpoint: EndpointView): void {
    if (req.prefixHashes.length > 0) this.index.add(req.prefixHashes, endpoint, this.capacity(req, endpoint));
  }

  /** Index entries for an endpoint: its KV cache in tokens, in prefix blocks of the request's size. */
  capacity(req: SchedulingRequest, e: EndpointView): number {
    const tokens = e.kvBlocks * e.blockSize;
    if (tokens <= 0) return this.defaultCapacity;
    return Math.max(1, Math.floor((tokens * this.charsPerToken) / req.prefixBlockChars));
  }
}

/**
 * Keeps a conversation on the endpoint that served its last request (and so holds its KV cache),
 * unless that endpoint is saturated: then every endpoint scores 0 and the others decide, and the
 * session moves with the next pick.
 */
export class SessionAffinityScorer implements Scorer {
  readonly type = 'session-affinity';
  readonly name: string;
  private readonly sessions = new Map<string, string>();
  private readonly maxSessions: number;
  private readonly thresholds: SaturationThresholds;

  constructor(name: string, options: { maxSessions: number; thresholds: SaturationThresholds }) {
    this.name = name;
    this.maxSessions = options.maxSessions;
    this.thresholds = options.thresholds;
  }

  /** The endpoint id a session is bound to (tests, explain). */
  holder(sessionKey: string): string | undefined {
    return this.sessions.get(sessionKey);
  }

  score(req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    const holder = req.sessionKey === null ? undefined : this.sessions.get(req.sessionKey);
    for (let j = 0; j < endpoints.length; j++) {
      const e = endpoints[j]!;
      out[j] = e.id === holder && !isSaturated(e, this.thresholds) ? 1 : 0;
    }
  }

  onPicked(req: SchedulingRequest, endpoint: EndpointView): void {
    const key = req.sessionKey;
    if (key === null) return;
    if (this.sessions.get(key) === endpoint.id) {
      this.sessions.delete(key); // refresh recency
    } else if (this.sessions.size >= this.maxSessions && !this.sessions.has(key)) {
      this.sessions.delete(this.sessions.keys().next().value as string);
    }
    this.sessions.set(key, endpoint.id);
  }
}

/** GIE's LoRA affinity: adapter loaded 1, room to load it 0.8, queued to load 0.6, no room 0. */
export class LoraAffinityScorer implements Scorer {
  readonly type = 'lora-affinity';
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  score(req: SchedulingRequest, endpoints: readonly EndpointView[], out: Float64Array): void {
    const adapter = req.adapter;
    for (let j = 0; j < endpoints.length; j++) {
      const e = endpoints[j]!;
      if (adapter === null) out[j] = 1;
      else if (e.runningLoras.includes(adapter)) out[j] = 1;
      else if (e.maxLoras === 0 || e.runningLoras.length + e.waitingLoras.length < e.maxLoras) out[j] = 0.8;
      else if (e.waitingLoras.includes(adapter)) out[j] = 0.6;
      else out[j] = 0;
    }
  }
}

const prefixParams = z
  .strictObject({
    /** Index entries per endpoint when the engine does not report its cache size (GIE's default). */
    lru_capacity: positiveInt.default(31_250),
    /** Characters per token, to turn the engine's cache size in tokens into prefix blocks. */
    chars_per_token: positive.default(4),
  })
  .prefault({});

const sessionParams = z
  .strictObject({
    max_sessions: positiveInt.default(100_000),
    queue_depth: nonNegative.default(DEFAULT_SATURATION.queueDepth),
    kv_usage: fraction.default(DEFAULT_SATURATION.kvUsage),
  })
  .prefault({});

export const affinityScorerFactories = [
  definePlugin<'scorer', z.infer<typeof prefixParams>>({
    type: 'prefix-cache',
    kind: 'scorer',
    description: "Prefers endpoints that probably hold the longest part of the request's prompt prefix.",
    params: prefixParams,
    create: (name, p) =>
      new PrefixCacheScorer(name, { lruCapacity: p.lru_capacity, charsPerToken: p.chars_per_token }),
  }),
  definePlugin<'scorer', z.infer<typeof sessionParams>>({
    type: 'session-affinity',
    kind: 'scorer',
    description:
      'Keeps a conversation on the endpoint holding its KV cache unless that endpoint is saturated.',
    params: sessionParams,
    create: (name, p) =>
      new SessionAffinityScorer(name, {
        maxSessions: p.max_sessions,
        thresholds: { queueDepth: p.queue_depth, kvUsage: p.kv_usage },
      }),
  }),
  definePlugin<'scorer', object>({
    type: 'lora-affinity',
    kind: 'scorer',
    description: "Prefers endpoints with the request's LoRA adapter loaded, then those with room for it.",
    params: z.strictObject({}).prefault({}),
    create: (name) => new LoraAffinityScorer(name),
  }),
];
