import type { Readable } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import type { Usage } from '../core/usage.ts';
import type { ApiKind, Outcome, PriorityClass, RequestContext } from './request.ts';

// Governance contracts: virtual keys, counters for rate limits and budgets, prices and the usage ledger.
// Implementations live in src/state (stores) and src/policies/governance (policies that use them).

// ---- Rules ----------------------------------------------------------------------------------------

/** What a limit or budget is counted per. `global` is one counter shared by every request. */
export type LimitScope = 'key' | 'user' | 'team' | 'tenant' | 'model' | 'route' | 'global';

/**
 * Priority throttling: the fraction of a limit each class may fill. With `{ sheddable: 0.8 }`, sheddable
 * requests are refused once the counter is at 80% while standard and critical ones go on to 100%.
 */
export type PriorityFactors = Readonly<Partial<Record<PriorityClass, number>>>;

export interface RateLimitRule {
  readonly scope: LimitScope;
  /** Only this scope value (e.g. one team); null applies the rule to every value separately. */
  readonly id: string | null;
  /** Requests per window. */
  readonly requests: number | null;
  /** Tokens (input + output) per window. */
  readonly tokens: number | null;
  readonly windowMs: number;
  /** Requests in flight at once. */
  readonly concurrent: number | null;
  readonly priority: PriorityFactors | null;
}

export type BudgetWindow =
  | { readonly kind: 'calendar'; readonly unit: 'day' | 'week' | 'month' }
  | { readonly kind: 'rolling'; readonly ms: number };

export interface BudgetRule {
  readonly scope: LimitScope;
  readonly id: string | null;
  readonly tokens: number | null;
  readonly usd: number | null;
  readonly window: BudgetWindow;
  /** Fraction (0..1] at which a soft-limit alert fires; null for none. */
  readonly soft: number | null;
  readonly priority: PriorityFactors | null;
}

// ---- Virtual keys ---------------------------------------------------------------------------------

export interface KeyRecord {
  /** Stable id, safe to log and to put in URLs (never the secret). */
  readonly id: string;
  /** The first characters of the secret, for support ("sy-AbC123…"). */
  readonly prefix: string;
  /** Hex SHA-256 of the secret. */
  readonly hash: string;
  readonly name: string | null;
  readonly tenant: string | null;
  readonly team: string | null;
  readonly user: string | null;
  /** Public model names the key may use; null = all. */
  readonly allowedModels: readonly string[] | null;
  /** Route names the key may use; null = all. */
  readonly allowedRoutes: readonly string[] | null;
  /** ms since epoch; null = never. */
  readonly expiresAt: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly priority: PriorityClass | null;
  /** Limits of this key alone (their scope is always `key`). */
  readonly limits: readonly RateLimitRule[];
  readonly budgets: readonly BudgetRule[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** What an administrator may set on a key; everything else is generated. */
export interface KeyFields {
  readonly name?: string | null;
  readonly tenant?: string | null;
  readonly team?: string | null;
  readonly user?: string | null;
  readonly allowedModels?: readonly string[] | null;
  readonly allowedRoutes?: readonly string[] | null;
  readonly expiresAt?: number | null;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly priority?: PriorityClass | null;
  readonly limits?: readonly RateLimitRule[];
  readonly budgets?: readonly BudgetRule[];
}

export interface KeyFilter {
  readonly tenant?: string;
  readonly team?: string;
  readonly user?: string;
  readonly includeRevoked?: boolean;
}

/** Persistence for key records. Lookups by hash are served through a cache (KeyDirectory). */
export interface KeyStore {
  /** Adds a record; rejects when its id or hash exists. */
  insert(record: KeyRecord): Promise<void>;
  get(id: string): Promise<KeyRecord | null>;
  getByHash(hash: string): Promise<KeyRecord | null>;
  list(filter: KeyFilter): Promise<KeyRecord[]>;
  update(id: string, fields: KeyFields): Promise<KeyRecord | null>;
  /** Marks the key revoked (idempotent: the first revocation time is kept). */
  revoke(id: string, at: number): Promise<KeyRecord | null>;
  close(): Promise<void>;
}

/** The key service the auth policy and the admin API use: store + hot-path cache + revocation fan-out. */
export interface KeyDirectory {
  /**
   * The record for a presented secret (revoked and expired ones included), or null when unknown: at once
   * when cached, else once loaded from the store.
   */
  authenticate(secret: string): KeyRecord | null | Promise<KeyRecord | null>;
  /** Generates a key; the secret is returned once and never stored. */
  create(fields: KeyFields): Promise<{ record: KeyRecord; secret: string }>;
  /** Adds or refreshes a key whose secret is supplied (keys declared in config). */
  declare(secret: string, fields: KeyFields & { readonly id?: string }): Promise<KeyRecord>;
  get(id: string): Promise<KeyRecord | null>;
  list(filter: KeyFilter): Promise<KeyRecord[]>;
  update(id: string, fields: KeyFields): Promise<KeyRecord | null>;
  revoke(id: string): Promise<KeyRecord | null>;
  close(): Promise<void>;
}

/** Cache invalidation across replicas (Redis pub/sub); a message names a key hash. */
export interface InvalidationBus {
  publish(hash: string): Promise<void>;
  /**
   * `onMessage` for each hash published anywhere; `onResync` when messages may have been missed (after a
   * reconnect). Resolves once subscribed.
   */
  subscribe(onMessage: (hash: string) => void, onResync: () => void): Promise<void>;
  close(): Promise<void>;
}

// ---- Counters (rate limits and budgets) -----------------------------------------------------------

/**
 * sliding: the last `ms`, counted in buckets of `bucketMs` (a bucket counts until it has wholly left the
 * window, so the count errs high by at most one bucket); fixed: [start, end), e.g. a calendar month;
 * none: only amounts held right now count (concurrency).
 */
export type CounterWindow =
  | { readonly kind: 'sliding'; readonly ms: number; readonly bucketMs: number }
  | { readonly kind: 'fixed'; readonly start: number; readonly end: number }
  | { readonly kind: 'none' };

export interface CounterRequest {
  readonly key: string;
  readonly window: CounterWindow;
  /** Admission cap for this request: refused when used >= cap or used + amount > cap. */
  readonly cap: number;
  /** Integer amount to add (requests, tokens, nano-USD, 1 for concurrency). */
  readonly amount: number;
  /** true: held as a reservation until settled or expired; false: committed at once. */
  readonly hold: boolean;
}

export interface CounterState {
  /** Committed usage in the window plus live reservations (after this request's amount when admitted). */
  readonly used: number;
  /** ms until the count next falls (sliding) or the window ends (fixed); 0 when nothing is counted. */
  readonly resetMs: number;
}

export type AcquireResult =
  | { readonly ok: true; readonly degraded: boolean; readonly states: readonly CounterState[] }
  | {
      readonly ok: false;
      /** Index of the first counter that refused. */
      readonly failed: number;
      readonly retryAfterMs: number;
      readonly states: readonly CounterState[];
    };

export interface Settlement {
  readonly key: string;
  readonly window: CounterWindow;
  /** Amount to commit in place of the reservation (0 releases it). */
  readonly actual: number;
}

/**
 * Atomic multi-counter admission. `acquire` checks every counter and applies all or none; `settle`
 * replaces a hold's reservations by actual amounts. Reservations expire after the store's TTL unless the
 * replica holding them is alive (it keeps them fresh), so a dead replica's reservations free themselves.
 */
export interface QuotaStore {
  /**
   * `holdId` must be fresh for each acquisition within the process (a counter named twice in one adds to
   * one hold).
   */
  acquire(holdId: string, counters: readonly CounterRequest[]): Promise<AcquireResult>;
  settle(holdId: string, settlements: readonly Settlement[]): Promise<void>;
  /**
   * `acquire` and `settle` answered at once, by stores that need no I/O (in memory): the hot path then
   * admits a request without waiting on a promise. Absent on stores that do I/O.
   */
  acquireNow?(holdId: string, counters: readonly CounterRequest[]): AcquireResult;
  settleNow?(holdId: string, settlements: readonly Settlement[]): void;
  /** Current usage of counters, without changing them. */
  peek(counters: readonly Pick<CounterRequest, 'key' | 'window'>[]): Promise<readonly CounterState[]>;
  close(): Promise<void>;
}

/** A state backend failed or recovered; for metrics and logs. */
export interface StateEvent {
  readonly component: 'quota' | 'keys' | 'bus' | 'ledger' | 'redis';
  readonly kind: 'error' | 'down' | 'up';
  /** What the caller did about an error: admitted (open) or refused (closed). */
  readonly decision: 'open' | 'closed' | null;
  readonly error: Error | null;
}

export type StateEventHook = (event: StateEvent) => void;

export interface BudgetEvent {
  readonly kind: 'soft' | 'hard';
  readonly scope: LimitScope;
  readonly id: string;
  readonly metric: 'tokens' | 'usd';
  /** Usage and limit in the metric's unit (USD for usd). */
  readonly used: number;
  readonly limit: number;
}

/** The remaining amount of one budget in use, read without changing it (gateway_budget_remaining). */
export interface BudgetRemaining {
  readonly scope: LimitScope;
  readonly id: string;
  readonly metric: 'tokens' | 'usd';
  readonly window: BudgetWindow;
  /** Tokens, or USD for usd; never below 0. */
  readonly remaining: number;
}

/** A policy that reports the budgets it has charged since it was built (the budget policy). */
export interface BudgetReporter {
  /** Rejects when the quota store cannot be read (Redis down). */
  budgetsInUse(): Promise<readonly BudgetRemaining[]>;
}

// ---- Prices ---------------------------------------------------------------------------------------

/** USD per 1M tokens. Missing cached/cache-write/reasoning prices fall back to input/output. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  readonly cachedInput?: number;
  readonly cacheWrite?: number;
  readonly reasoning?: number;
}

export interface PriceTable {
  /** The price for a model served by a provider (or by any provider when null), or null. */
  lookup(provider: string | null, model: string): ModelPrice | null;
  /** USD for the usage, or null when no price applies. */
  cost(usage: Usage, provider: string | null, model: string): number | null;
}

// ---- Usage ledger ---------------------------------------------------------------------------------

export interface UsageRecord {
  /** Arrival time, ms since epoch. */
  readonly ts: number;
  readonly requestId: string;
  readonly keyId: string | null;
  readonly identityKind: string | null;
  readonly tenant: string | null;
  readonly team: string | null;
  readonly user: string | null;
  readonly api: ApiKind;
  readonly route: string;
  readonly model: string;
  readonly upstreamModel: string | null;
  readonly provider: string | null;
  readonly endpoint: string | null;
  readonly stream: boolean;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  readonly cacheWriteTokens: number;
  readonly reasoningTokens: number;
  readonly costUsd: number | null;
  readonly status: number;
  readonly outcome: Outcome;
  readonly errorCode: string | null;
  readonly latencyMs: number;
  readonly ttftMs: number | null;
  readonly usageSource: 'upstream' | 'estimate' | 'none';
  readonly attempts: number;
}

export interface UsageFilter {
  readonly keyId?: string;
  readonly tenant?: string;
  readonly team?: string;
  readonly user?: string;
  readonly model?: string;
  /** Inclusive, ms since epoch. */
  readonly from?: number;
  /** Exclusive, ms since epoch. */
  readonly to?: number;
}

export type UsageGroup = 'key' | 'tenant' | 'team' | 'user' | 'model' | 'provider';

export interface UsageTotals {
  /** The group's value (null for the ungrouped total or a null column). */
  readonly group: string | null;
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  readonly cacheWriteTokens: number;
  readonly reasoningTokens: number;
  readonly costUsd: number;
}

export interface UsagePage {
  readonly records: UsageRecord[];
  /** Pass back as `after` for the next page; null at the end. */
  readonly next: string | null;
}

/** Where ledger batches go (SQLite, PostgreSQL). Records are ordered by (ts, insertion). */
export interface LedgerBackend {
  insert(records: readonly UsageRecord[]): Promise<void>;
  page(filter: UsageFilter, limit: number, after: string | null): Promise<UsagePage>;
  totals(filter: UsageFilter, groupBy: UsageGroup | null): Promise<UsageTotals[]>;
  close(): Promise<void>;
}

export interface UsageLedger {
  /** Queues a record; never throws and never waits. Written in batches off the hot path. */
  append(record: UsageRecord): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  page(filter: UsageFilter, limit: number, after?: string | null): Promise<UsagePage>;
  totals(filter: UsageFilter, groupBy?: UsageGroup | null): Promise<UsageTotals[]>;
  /** Every matching record as JSON lines or CSV (with a header row), streamed page by page. */
  export(filter: UsageFilter, format: 'jsonl' | 'csv'): Readable;
  /** Flushes, then releases the backend. */
  close(): Promise<void>;
}

// ---- Per-request state and services --------------------------------------------------------------

/** Reservations one policy holds for one request, settled in its onEnd. */
export interface Hold {
  readonly id: string;
  /** The counters of the policy's acquisition; those with `settle` null were committed at once. */
  readonly counters: readonly HeldCounter[];
}

export interface HeldCounter {
  readonly key: string;
  readonly window: CounterWindow;
  /**
   * What the hold settles with: the request's actual tokens, cost (nano-USD), or nothing (concurrency);
   * null for a counter committed at admission (nothing to settle).
   */
  readonly settle: 'tokens' | 'usd' | 'release' | null;
  /** Amount reserved, charged in full when the actual usage is unknown. */
  readonly amount: number;
}

/** Governance data for one request (RequestContext.governance). */
export interface GovernanceState {
  /** The key record when the request authenticated with a virtual key. */
  key: KeyRecord | null;
  /** Prompt and completion token estimate, computed once and shared by limits and budgets. */
  estimate: { readonly input: number; readonly output: number } | null;
  /** Holds by the policy instance that took them. */
  readonly holds: Map<object, Hold>;
}

/** A verified TLS client certificate for the request, if any (provided by the server). */
export type PeerCertificateOf = (ctx: RequestContext) => PeerCertificate | null;

/** Calendar windows in the configured time zone. */
export interface CalendarSource {
  window(unit: 'day' | 'week' | 'month', now: number): { start: number; end: number };
}

export interface EstimateOptions {
  /** Completion tokens assumed when the request sets no max_tokens. */
  readonly defaultMaxTokens: number;
  /** Prompt text beyond this many characters is extrapolated from the tokenized part (bounds CPU). */
  readonly maxTokenizeChars: number;
}

/**
 * The long-lived services the governance policies share, built once per process from the `governance:`
 * config section (they outlive Runtime reloads so counters and connections persist).
 */
export interface GovernanceServices {
  readonly keys: KeyDirectory;
  readonly quotas: QuotaStore;
  readonly prices: PriceTable;
  /** null when the ledger is disabled. */
  readonly ledger: UsageLedger | null;
  readonly calendar: CalendarSource;
  readonly estimation: EstimateOptions;
  /** The request's verified client certificate, for mTLS identities; null when not wired. */
  readonly peerCertificate: PeerCertificateOf | null;
  readonly clock: () => number;
  readonly onStateEvent: StateEventHook;
  readonly onBudgetEvent: (event: BudgetEvent) => void;
}

/** The field governance policies read from PolicyServices (proposed: add it to PolicyServices). */
export interface GovernancePolicyServices {
  readonly governance?: GovernanceServices;
}
