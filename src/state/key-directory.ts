import type {
  InvalidationBus,
  KeyDirectory,
  KeyFields,
  KeyFilter,
  KeyRecord,
  KeyStore,
  StateEventHook,
} from '../contracts/governance.ts';
import { buildKeyRecord, generateSecret, hashSecret, newKeyId } from './key-secrets.ts';

// The hot-path key lookup: SHA-256 of the presented secret, then an in-process cache in front of the
// store. Revocations and updates evict the entry here and, through the bus, on every replica; the TTL
// bounds staleness if a bus message is lost (and the whole cache is dropped when the bus reconnects).
// Unknown secrets are cached briefly too, so random keys cannot hammer the database.
//
// A key in use is also found by its secret itself, skipping the hash (the largest part of a governed
// request's authentication): such an entry holds the raw secret only while its cached record is trusted
// (the TTL, as long as the request's own header lives anyway), is dropped by any invalidation, and
// expired ones are swept at most once per TTL. Unknown secrets are never kept this way.

export interface KeyDirectoryOptions {
  readonly store: KeyStore;
  readonly bus?: InvalidationBus | null;
  /** How long a found key is trusted; default 5 s with a bus, 1 s without. */
  readonly ttlMs?: number;
  /** How long an unknown secret is remembered as unknown; default 1 s. */
  readonly negativeTtlMs?: number;
  readonly maxEntries?: number;
  readonly clock?: () => number;
  readonly onEvent?: StateEventHook;
}

interface Entry {
  readonly record: KeyRecord | null;
  readonly until: number;
}

export class CachedKeyDirectory implements KeyDirectory {
  readonly #store: KeyStore;
  readonly #bus: InvalidationBus | null;
  readonly #ttl: number;
  readonly #negativeTtl: number;
  readonly #max: number;
  readonly #clock: () => number;
  readonly #onEvent: StateEventHook;
  readonly #cache = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<KeyRecord | null>>();
  readonly #bySecret = new Map<string, { readonly record: KeyRecord; readonly until: number }>();
  #sweptAt = 0;
  /** Bumped on every invalidation: a load that started before one must not fill the cache. */
  #epoch = 0;

  constructor(options: KeyDirectoryOptions) {
    this.#store = options.store;
    this.#bus = options.bus ?? null;
    this.#ttl = options.ttlMs ?? (this.#bus === null ? 1_000 : 5_000);
    this.#negativeTtl = options.negativeTtlMs ?? 1_000;
    this.#max = options.maxEntries ?? 10_000;
    this.#clock = options.clock ?? Date.now;
    this.#onEvent = options.onEvent ?? (() => {});
  }

  /** Subscribes to the bus; call once before serving. */
  async start(): Promise<void> {
    await this.#bus?.subscribe(
      (hash) => this.#evict(hash),
      () => this.#clear(),
    );
  }

  authenticate(secret: string): KeyRecord | null | Promise<KeyRecord | null> {
    const now = this.#clock();
    const known = this.#bySecret.get(secret);
    if (known !== undefined && known.until > now) return known.record;
    const hash = hashSecret(secret);
    const hit = this.#cache.get(hash);
    if (hit !== undefined && hit.until > now) {
      if (hit.record !== null) this.#remember(secret, hit.record, hit.until, now);
      return hit.record;
    }
    let pending = this.#loading.get(hash);
    if (pending === undefined) {
      pending = this.#load(hash);
      this.#loading.set(hash, pending);
    }
    return pending;
  }

  #remember(secret: string, record: KeyRecord, until: number, now: number): void {
    if (now - this.#sweptAt >= this.#ttl) {
      this.#sweptAt = now;
      for (const [s, e] of this.#bySecret) if (e.until <= now) this.#bySecret.delete(s);
    }
    if (this.#bySecret.size >= this.#max) this.#bySecret.delete(this.#bySecret.keys().next().value ?? '');
    this.#bySecret.set(secret, { record, until });
  }

  async #load(hash: string): Promise<KeyRecord | null> {
    const epoch = this.#epoch;
    try {
      const record = await this.#store.getByHash(hash);
      if (epoch === this.#epoch) {
        if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value ?? '');
        const ttl = record === null ? this.#negativeTtl : this.#ttl;
        this.#cache.set(hash, { record, until: this.#clock() + ttl });
      }
      return record;
    } finally {
      this.#loading.delete(hash);
    }
  }

  #evict(hash: string): void {
    this.#epoch++;
    this.#cache.delete(hash);
    this.#loading.delete(hash);
    this.#bySecret.clear();
  }

  #clear(): void {
    this.#epoch++;
    this.#cache.clear();
    this.#loading.clear();
    this.#bySecret.clear();
  }

  async #changed(record: KeyRecord | null): Promise<KeyRecord | null> {
    if (record === null) return null;
    this.#evict(record.hash);
    if (this.#bus !== null) {
      await this.#bus.publish(record.hash).catch((err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        this.#onEvent({ component: 'bus', kind: 'error', decision: null, error });
      });
    }
    return record;
  }

  async create(fields: KeyFields): Promise<{ record: KeyRecord; secret: string }> {
    const secret = generateSecret();
    const record = buildKeyRecord(secret, fields, { id: newKeyId(), now: this.#clock() });
    await this.#store.insert(record);
    return { record, secret };
  }

  async declare(secret: string, fields: KeyFields & { readonly id?: string }): Promise<KeyRecord> {
    const hash = hashSecret(secret);
    const { id, ...rest } = fields;
    const existing = await this.#store.getByHash(hash);
    if (existing !== null) return (await this.update(existing.id, rest)) ?? existing;
    const record = buildKeyRecord(secret, rest, { id: id ?? 'cfg_' + hash.slice(0, 16), now: this.#clock() });
    try {
      await this.#store.insert(record);
    } catch (err) {
      // Another replica declared it first.
      const raced = await this.#store.getByHash(hash);
      if (raced === null) throw err;
    }
    await this.#changed(record);
    return record;
  }

  get(id: string): Promise<KeyRecord | null> {
    return this.#store.get(id);
  }

  list(filter: KeyFilter): Promise<KeyRecord[]> {
    return this.#store.list(filter);
  }

  async update(id: string, fields: KeyFields): Promise<KeyRecord | null> {
    return this.#changed(await this.#store.update(id, fields));
  }

  async revoke(id: string): Promise<KeyRecord | null> {
    return this.#changed(await this.#store.revoke(id, this.#clock()));
  }

  async close(): Promise<void> {
    await this.#bus?.close();
    await this.#store.close();
  }
}
