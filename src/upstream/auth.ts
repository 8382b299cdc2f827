import type { ProviderConfig } from '../config/schema.ts';

// Static upstream credentials as header pairs, computed once at compile time. Signing schemes that depend
// on the request (SigV4) live in src/auth-schemes and are applied by their provider.

export type HeaderPairs = readonly (readonly [string, string])[];

export function staticAuthHeaders(auth: ProviderConfig['auth']): HeaderPairs {
  switch (auth.type) {
    case 'none':
      return [];
    case 'bearer':
      return [['authorization', `Bearer ${auth.token}`]];
    case 'header':
      return [[auth.header.toLowerCase(), auth.value]];
  }
}

/** Configured extra headers first, credentials last so a header row cannot override them. */
export function providerHeaders(config: ProviderConfig): HeaderPairs {
  const extra = Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v] as const);
  return [...extra, ...staticAuthHeaders(config.auth)];
}
