import type pg from 'pg';
import type {
  BudgetEvent,
  GovernanceServices,
  KeyFields,
  KeyStore,
  LedgerBackend,
  PeerCertificateOf,
  StateEventHook,
} from '../../contracts/governance.ts';
import { loadPg } from '../../core/optional-deps.ts';
import { CalendarWindows } from '../../state/calendar.ts';
import { CachedKeyDirectory } from '../../state/key-directory.ts';
import { MemoryKeyStore } from '../../state/key-store-memory.ts';
import { PgKeyStore } from '../../state/key-store-pg.ts';
import { SqliteKeyStore } from '../../state/key-store-sqlite.ts';
import { BatchedLedger } from '../../state/ledger.ts';
import { PgLedgerBackend } from '../../state/ledger-pg.ts';
import { ThreadedSqliteLedgerBackend } from '../../state/ledger-sqlite-thread.ts';
import { MemoryQuotaStore } from '../../state/quota-memory.ts';
import { RedisQuotaStore } from '../../state/quota-redis.ts';
import { RedisInvalidationBus } from '../../state/redis-bus.ts';
import { RedisState } from '../../state/redis-state.ts';
import { type GovernanceConfig, type KeyConfig, WEEKDAY_INDEX } from './config.ts';
import { PriceBook } from './prices.ts';

// The long-lived governance services, built once from the `governance:` config section and shared by
// every Runtime (they outlive reloads: connections and counters must not reset when routes change).
// Close them after the last Runtime using them has drained: close() flushes the ledger.

export interface GovernanceHooks {
  /** Redis/store failures and recoveries (count as metrics, log transitions). */
  readonly onStateEvent?: StateEventHook;
  readonly onBudgetEvent?: (event: BudgetEvent) => void;
  readonly onLedgerDrop?: (count: number) => void;
  /** The request's verified client certificate, for mTLS identities. */
  readonly peerCertificate?: PeerCertificateOf;
  readonly clock?: () => number;
}

/** The services plus what their owner needs: the concrete key directory, the Redis connection, close(). */
export interface ManagedGovernance extends GovernanceServices {
  readonly keys: CachedKeyDirectory;
  readonly redis: RedisState | null;
  /** Flushes the ledger, stops heartbeats, closes stores and connections. */
  close(): Promise<void>;
}

/** Reservations in memory have no heartbeat, so their TTL must outlast the longest request. */
const MEMORY_RESERVATION_TTL_MS = 15 * 60_000;

export function keyFieldsOf(k: KeyConfig): KeyFields & { readonly id?: string } {
  return {
    ...(k.id === undefined ? {} : { id: k.id }),
    name: k.name ?? null,
    tenant: k.tenant ?? null,
    team: k.team ?? null,
    user: k.user ?? null,
    allowedModels: k.models ?? null,
    allowedRoutes: k.routes ?? null,
    expiresAt: k.expires_at === undefined ? null : Date.parse(k.expires_at),
    metadata: k.metadata,
    priority: k.priority ?? null,
    limits: k.limits,
    budgets: k.budgets,
  };
}

class Pools {
  readonly #pools = new Map<string, pg.Pool>();

  get(url: string): pg.Pool {
    let pool = this.#pools.get(url);
    if (pool === undefined) {
      pool = new (loadPg().Pool)({ connectionString: url, max: 10 });
      pool.on('error', () => {}); // an idle client dropped: the next query reconnects
      this.#pools.set(url, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.end()));
  }
}

function keyStoreFor(url: string, pools: Pools): KeyStore {
  if (url === 'memory') return new MemoryKeyStore();
  if (url.startsWith('sqlite:')) return new SqliteKeyStore({ path: url.slice('sqlite:'.length) });
  return new PgKeyStore({ pool: pools.get(url) });
}

function ledgerBackendFor(config: GovernanceConfig['ledger'], pools: Pools): LedgerBackend | null {
  const { store, table } = config;
  if (store === 'none') return null;
  // SQLite runs on a worker thread: its writes are synchronous and would otherwise hold the event loop.
  if (store === 'memory' || store.startsWith('sqlite:')) {
    const path = store === 'memory' ? ':memory:' : store.slice('sqlite:'.length);
    // An in-memory ledger keeps the newest records only; a file keeps everything.
    const maxRecords = path === ':memory:' ? config.memory_max_records : 0;
    return new ThreadedSqliteLedgerBackend({ path, table, maxRecords });
  }
  return new PgLedgerBackend({ pool: pools.get(store), table });
}

export async function createGovernanceServices(
  config: GovernanceConfig,
  hooks: GovernanceHooks = {},
): Promise<ManagedGovernance> {
  const onStateEvent = hooks.onStateEvent ?? (() => {});
  const clock = hooks.clock ?? Date.now;
  const pools = new Pools();
  const redis =
    config.state === 'memory'
      ? null
      : new RedisState({
          url: config.state,
          prefix: config.redis_prefix,
          commandTimeoutMs: config.command_timeout,
          onEvent: onStateEvent,
        });
  // Not fatal when Redis is down at start: requests follow fail_mode until it is back.
  if (redis !== null) await redis.ready(2_000);
  const quotas =
    redis === null
      ? new MemoryQuotaStore({ reservationTtlMs: MEMORY_RESERVATION_TTL_MS, clock })
      : new RedisQuotaStore({
          state: redis,
          failMode: config.fail_mode,
          reservationTtlMs: config.reservation_ttl,
          clock,
          onEvent: onStateEvent,
        });
  const keys = new CachedKeyDirectory({
    store: keyStoreFor(config.key_store, pools),
    bus: redis === null ? null : new RedisInvalidationBus(redis),
    ...(config.key_cache_ttl === undefined ? {} : { ttlMs: config.key_cache_ttl }),
    clock,
    onEvent: onStateEvent,
  });
  if (redis !== null) {
    // With Redis down the subscription completes when it returns; until then the cache TTL bounds staleness.
    const started = keys.start().catch((err: unknown) => onStateEvent(stateError('bus', err)));
    await Promise.race([started, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }
  for (const k of config.keys) await keys.declare(k.secret, keyFieldsOf(k));
  const backend = ledgerBackendFor(config.ledger, pools);
  const ledger =
    backend === null
      ? null
      : new BatchedLedger({
          backend,
          batchSize: config.ledger.batch_size,
          flushIntervalMs: config.ledger.flush_interval,
          maxQueue: config.ledger.max_queue,
          onEvent: onStateEvent,
          ...(hooks.onLedgerDrop === undefined ? {} : { onDrop: hooks.onLedgerDrop }),
        });
  return {
    keys,
    quotas,
    ledger,
    redis,
    prices: new PriceBook(config.prices, config.default_prices),
    calendar: new CalendarWindows({
      timeZone: config.time_zone,
      weekStart: WEEKDAY_INDEX[config.week_start],
    }),
    estimation: { defaultMaxTokens: config.default_max_tokens, maxTokenizeChars: config.max_tokenize_chars },
    peerCertificate: hooks.peerCertificate ?? null,
    clock,
    onStateEvent,
    onBudgetEvent: hooks.onBudgetEvent ?? (() => {}),
    close: async () => {
      const errors: unknown[] = [];
      const step = (p: Promise<void> | undefined): Promise<void> =>
        (p ?? Promise.resolve()).catch((e: unknown) => void errors.push(e));
      await step(ledger?.close());
      await step(quotas.close());
      await step(keys.close());
      await step(pools.close());
      await step(redis?.close());
      if (errors.length > 0) throw new AggregateError(errors, 'governance services did not close cleanly');
    },
  };
}

function stateError(component: 'bus', err: unknown): Parameters<StateEventHook>[0] {
  return {
    component,
    kind: 'error',
    decision: null,
    error: err instanceof Error ? err : new Error(String(err)),
  };
}
