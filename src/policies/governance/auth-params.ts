import { z } from 'zod';
import { parseDuration } from '../../core/units.ts';
import type { JwtOptions } from './jwt.ts';
import type { MtlsRule } from './mtls.ts';
import { priorityClass } from './params.ts';

// Parameters of the `auth` policy.

const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const claimName = z.string().min(1);

const jwtParams = z
  .strictObject({
    issuer: z.string().min(1),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Defaults to discovery: <issuer>/.well-known/openid-configuration → jwks_uri. */
    jwks_url: z.url({ protocol: /^https?$/ }).optional(),
    /** Accepted signature algorithms (pinned; "none" and HMAC are never accepted). */
    algorithms: z.array(z.enum(ALGORITHMS)).min(1).default(['RS256']),
    /** Allowed clock skew for exp/nbf, e.g. "30s". */
    clock_tolerance: z
      .union([z.string(), z.number()])
      .transform((v) => parseDuration(v) ?? 30_000)
      .default(30_000),
    claims: z
      .strictObject({
        id: claimName.default('sub'),
        tenant: claimName.nullable().default('tenant'),
        team: claimName.nullable().default('team'),
        user: claimName.nullable().default('sub'),
        models: claimName.nullable().default(null),
        priority: claimName.nullable().default(null),
      })
      .prefault({}),
    metadata_claims: z.array(claimName).default([]),
  })
  .transform((j): JwtOptions => ({
    issuer: j.issuer,
    audience: j.audience,
    jwksUrl: j.jwks_url ?? null,
    algorithms: j.algorithms,
    clockToleranceSec: Math.round(j.clock_tolerance / 1_000),
    claims: j.claims,
    metadataClaims: j.metadata_claims,
  }));

const mtlsRule = z
  .strictObject({
    match: z
      .strictObject({
        cn: z.string().optional(),
        san: z.string().optional(),
        fingerprint256: z.string().optional(),
      })
      .refine((m) => Object.keys(m).length > 0, 'match needs cn, san or fingerprint256 (use "*" for any)'),
    id: z.string().optional(),
    tenant: z.string().optional(),
    team: z.string().optional(),
    user: z.string().optional(),
    models: z.array(z.string()).optional(),
    priority: priorityClass.optional(),
  })
  .transform(({ match, ...identity }): MtlsRule => ({ ...match, ...identity }));

export const authParams = z.strictObject({
  /** Accept virtual keys from the key store. */
  api_keys: z.boolean().default(true),
  /** Where credentials are read from, in order ("authorization" expects the Bearer scheme). */
  headers: z.array(z.string().toLowerCase()).min(1).default(['authorization', 'x-api-key']),
  jwt: jwtParams.optional(),
  /** Rules mapping verified client certificates to identities, first match wins. */
  mtls: z.array(mtlsRule).optional(),
  /** Let requests without credentials through as the "anonymous" identity. */
  anonymous: z.boolean().default(false),
});

export type AuthParams = z.infer<typeof authParams>;
