import { hash, randomBytes } from 'node:crypto';
import type { KeyFields, KeyRecord } from '../contracts/governance.ts';

// Virtual key secrets: `sy-` + 40 random base62 characters (~238 bits). Only a SHA-256 hash is stored.
//
// Why a plain hash and not a slow KDF (scrypt, argon2): a KDF protects low-entropy secrets such as
// passwords from offline guessing. These secrets are machine-generated with ~238 bits of entropy, so
// guessing one from its hash is infeasible at any hash speed, while a KDF would cost tens of milliseconds
// of CPU on every uncached lookup, on the hot path, for anyone who sends random keys. SHA-256 also gives a
// deterministic index, so a lookup is one indexed read rather than a scan with per-row verification.

export const SECRET_PREFIX = 'sy-';
const SECRET_CHARS = 40;
/** Characters of the secret kept in clear for support ("sy-" + 6). */
const VISIBLE = SECRET_PREFIX.length + 6;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i] ?? 255;
      if (b < 248) out += BASE62[b % 62];
    }
  }
  return out;
}

export function generateSecret(): string {
  return SECRET_PREFIX + randomBase62(SECRET_CHARS);
}

export function hashSecret(secret: string): string {
  // One-shot hash: no Hash object per call (this runs for every request with a key).
  return hash('sha256', secret, 'hex');
}

export function visiblePrefix(secret: string): string {
  return secret.slice(0, Math.min(VISIBLE, Math.floor(secret.length / 2)));
}

export function newKeyId(): string {
  return 'key_' + randomBase62(16);
}

/** A full record from administrator fields. */
export function buildKeyRecord(
  secret: string,
  fields: KeyFields,
  meta: { readonly id: string; readonly now: number },
): KeyRecord {
  return {
    id: meta.id,
    prefix: visiblePrefix(secret),
    hash: hashSecret(secret),
    createdAt: meta.now,
    revokedAt: null,
    ...applyKeyFields(EMPTY_FIELDS, fields),
  };
}

type EditableFields = Omit<KeyRecord, 'id' | 'prefix' | 'hash' | 'createdAt' | 'revokedAt'>;

const EMPTY_FIELDS: EditableFields = {
  name: null,
  tenant: null,
  team: null,
  user: null,
  allowedModels: null,
  allowedRoutes: null,
  expiresAt: null,
  metadata: {},
  priority: null,
  limits: [],
  budgets: [],
};

/** `base` with the given fields replaced (undefined leaves a field as it is). */
export function applyKeyFields<T extends EditableFields>(base: T, fields: KeyFields): T {
  const out: T = { ...base };
  const o = out as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && name in EMPTY_FIELDS) o[name] = value;
  }
  // Scope of a key's own rules is always the key.
  o.limits = out.limits.map((r) => ({ ...r, scope: 'key', id: null }));
  o.budgets = out.budgets.map((r) => ({ ...r, scope: 'key', id: null }));
  return out;
}
