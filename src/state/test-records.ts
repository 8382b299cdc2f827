import type { UsageRecord } from '../contracts/governance.ts';

// Test support only: usage records with every field set, varied by index (keys, tenants, teams, tokens,
// cost, stream and ttft follow i), for the ledger backends and the row encoding.

export const T0 = Date.UTC(2025, 5, 1);

/** Record `i` (one second after record i - 1), with `extra` fields overriding. */
export function usageRecord(i: number, extra: Partial<UsageRecord> = {}): UsageRecord {
  return {
    ts: T0 + i * 1_000,
    requestId: `req-${i}`,
    keyId: `key-${i % 3}`,
    identityKind: 'api-key',
    tenant: i % 2 === 0 ? 'acme' : 'globex',
    team: `team-${i % 4}`,
    user: null,
    api: 'chat',
    route: 'default',
    model: 'gpt-4o',
    upstreamModel: 'gpt-4o-2024-08-06',
    provider: 'openai',
    endpoint: 'https://api.openai.com',
    stream: i % 2 === 1,
    inputTokens: 100 + i,
    outputTokens: 10 * i,
    cachedInputTokens: i,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: Math.round(0.000125 * i * 1e12) / 1e12,
    status: 200,
    outcome: 'ok',
    errorCode: null,
    latencyMs: 50 + i,
    ttftMs: i % 5 === 0 ? null : 20,
    usageSource: 'upstream',
    attempts: 1,
    ...extra,
  };
}
