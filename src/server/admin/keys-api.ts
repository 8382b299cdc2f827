import { z } from 'zod';
import { GatewayError } from '../../core/errors.ts';
import type { KeyFields, KeyRecord } from '../../contracts/governance.ts';
import type { ManagedGovernance } from '../../policies/governance/services.ts';
import { keyBudgetRule, keyRateLimitRule, priorityClass } from '../../policies/governance/params.ts';

// Virtual keys through the admin API: create (the secret is shown once), list, read, update limits and
// budgets, revoke. Records never include the hash.

const keyBody = z.strictObject({
  name: z.string().nullable().optional(),
  tenant: z.string().nullable().optional(),
  team: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  models: z.array(z.string().min(1)).nullable().optional(),
  routes: z.array(z.string().min(1)).nullable().optional(),
  /** ISO 8601 time or null. */
  expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  priority: priorityClass.nullable().optional(),
  limits: z.array(keyRateLimitRule).optional(),
  budgets: z.array(keyBudgetRule).optional(),
});

export function publicKey(record: KeyRecord): Record<string, unknown> {
  const { hash: _hash, ...rest } = record;
  return {
    ...rest,
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    createdAt: new Date(record.createdAt).toISOString(),
  };
}

export function keyFields(body: unknown): KeyFields {
  const parsed = keyBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GatewayError('invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`, {
      param: issue.path.join('.') || null,
    });
  }
  const b = parsed.data;
  const fields: Record<string, unknown> = {};
  if (b.name !== undefined) fields.name = b.name;
  if (b.tenant !== undefined) fields.tenant = b.tenant;
  if (b.team !== undefined) fields.team = b.team;
  if (b.user !== undefined) fields.user = b.user;
  if (b.models !== undefined) fields.allowedModels = b.models;
  if (b.routes !== undefined) fields.allowedRoutes = b.routes;
  if (b.expires_at !== undefined) fields.expiresAt = b.expires_at === null ? null : Date.parse(b.expires_at);
  if (b.metadata !== undefined) fields.metadata = b.metadata;
  if (b.priority !== undefined) fields.priority = b.priority;
  if (b.limits !== undefined) fields.limits = b.limits;
  if (b.budgets !== undefined) fields.budgets = b.budgets;
  return fields;
}

export async function keysApi(
  gov: ManagedGovernance,
  method: string,
  parts: readonly string[],
  input: { query: URLSearchParams; body: unknown },
): Promise<{ status: number; body: unknown }> {
  const [id, action] = parts;
  if (id === undefined) {
    if (method === 'GET') {
      const q = input.query;
      const filter: Record<string, unknown> = { includeRevoked: q.get('include_revoked') === 'true' };
      for (const k of ['tenant', 'team', 'user'] as const) if (q.has(k)) filter[k] = q.get(k);
      const list = await gov.keys.list(filter);
      return { status: 200, body: { object: 'list', data: list.map(publicKey) } };
    }
    if (method === 'POST') {
      const { record, secret } = await gov.keys.create(keyFields(input.body));
      return { status: 201, body: { key: publicKey(record), secret } };
    }
    throw new GatewayError('method_not_allowed', 'Use GET or POST on /admin/keys.');
  }
  if (action === 'revoke' || (action === undefined && method === 'DELETE')) {
    if (method !== 'POST' && method !== 'DELETE')
      throw new GatewayError('method_not_allowed', 'Use POST to revoke a key.');
    const record = await gov.keys.revoke(id);
    if (record === null) throw new GatewayError('not_found', `No key '${id}'.`);
    return { status: 200, body: { key: publicKey(record) } };
  }
  if (action !== undefined) throw new GatewayError('not_found', `No admin route for keys/${id}/${action}.`);
  if (method === 'GET') {
    const record = await gov.keys.get(id);
    if (record === null) throw new GatewayError('not_found', `No key '${id}'.`);
    return { status: 200, body: { key: publicKey(record) } };
  }
  if (method === 'PATCH') {
    const record = await gov.keys.update(id, keyFields(input.body));
    if (record === null) throw new GatewayError('not_found', `No key '${id}'.`);
    return { status: 200, body: { key: publicKey(record) } };
  }
  throw new GatewayError('method_not_allowed', 'Use GET, PATCH or DELETE on /admin/keys/{id}.');
}
