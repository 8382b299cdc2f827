import type { KeyFields, KeyFilter, KeyRecord, KeyStore } from '../contracts/governance.ts';
import { applyKeyFields } from './key-secrets.ts';

// Keys in process memory: for tests, single-node demos and keys declared only in config.

export function matchesKeyFilter(record: KeyRecord, filter: KeyFilter): boolean {
  if (filter.tenant !== undefined && record.tenant !== filter.tenant) return false;
  if (filter.team !== undefined && record.team !== filter.team) return false;
  if (filter.user !== undefined && record.user !== filter.user) return false;
  return filter.includeRevoked === true || record.revokedAt === null;
}

export class MemoryKeyStore implements KeyStore {
  readonly #byId = new Map<string, KeyRecord>();
  readonly #idByHash = new Map<string, string>();

  async insert(record: KeyRecord): Promise<void> {
    if (this.#byId.has(record.id) || this.#idByHash.has(record.hash)) {
      throw new Error(`key ${record.id} already exists`);
    }
    this.#byId.set(record.id, record);
    this.#idByHash.set(record.hash, record.id);
  }

  async get(id: string): Promise<KeyRecord | null> {
    return this.#byId.get(id) ?? null;
  }

  async getByHash(hash: string): Promise<KeyRecord | null> {
    const id = this.#idByHash.get(hash);
    return id === undefined ? null : (this.#byId.get(id) ?? null);
  }

  async list(filter: KeyFilter): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for (const record of this.#byId.values()) if (matchesKeyFilter(record, filter)) out.push(record);
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async update(id: string, fields: KeyFields): Promise<KeyRecord | null> {
    const current = this.#byId.get(id);
    if (current === undefined) return null;
    const next = applyKeyFields(current, fields);
    this.#byId.set(id, next);
    return next;
  }

  async revoke(id: string, at: number): Promise<KeyRecord | null> {
    const current = this.#byId.get(id);
    if (current === undefined) return null;
    if (current.revokedAt !== null) return current;
    const next = { ...current, revokedAt: at };
    this.#byId.set(id, next);
    return next;
  }

  async close(): Promise<void> {}
}
