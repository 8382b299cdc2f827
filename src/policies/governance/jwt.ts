import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { loadJose } from '../../core/optional-deps.ts';
import type { Identity, PriorityClass } from '../../contracts/request.ts';
import { GatewayError } from '../../core/errors.ts';

// JWT bearer tokens from an OIDC issuer: signature against the issuer's JWKS (fetched and cached by jose,
// refreshed on an unknown `kid`), with issuer, audience, expiry and algorithms pinned. Claims map to an
// Identity through configurable claim names (a name is looked up as-is first, so namespaced claims like
// "https://example.com/team" work, then as a dotted path such as "org.team").

export interface JwtClaimNames {
  readonly id: string;
  readonly tenant: string | null;
  readonly team: string | null;
  readonly user: string | null;
  /** A list (array or space-separated string) of models the subject may use. */
  readonly models: string | null;
  readonly priority: string | null;
}

export interface JwtOptions {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  /** The JWKS URL; null discovers it from the issuer's /.well-known/openid-configuration. */
  readonly jwksUrl: string | null;
  readonly algorithms: readonly string[];
  readonly clockToleranceSec: number;
  readonly claims: JwtClaimNames;
  /** Claims copied (as strings) into Identity.metadata. */
  readonly metadataClaims: readonly string[];
}

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let node: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function text(payload: JWTPayload, name: string | null): string | null {
  if (name === null) return null;
  const v = claim(payload, name);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

function models(payload: JWTPayload, name: string | null): ReadonlySet<string> | null {
  if (name === null) return null;
  const v = claim(payload, name);
  if (typeof v === 'string') return new Set(v.split(/\s+/).filter((m) => m !== ''));
  if (Array.isArray(v)) return new Set(v.filter((m): m is string => typeof m === 'string'));
  return null;
}

const PRIORITIES: ReadonlySet<string> = new Set(['critical', 'standard', 'sheddable']);

function unauthorized(message: string, cause?: unknown): GatewayError {
  return new GatewayError('unauthorized', message, { cause, headers: { 'www-authenticate': 'Bearer' } });
}

export class JwtVerifier {
  readonly #options: JwtOptions;
  #jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  constructor(options: JwtOptions) {
    this.#options = options;
  }

  #keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.#jwks ??= this.#resolveJwksUrl().then(
      (url) =>
        loadJose().createRemoteJWKSet(new URL(url), { timeoutDuration: 2_000, cooldownDuration: 30_000 }),
      (err: unknown) => {
        this.#jwks = null; // discovery failed: try again on the next request
        throw err;
      },
    );
    return this.#jwks;
  }

  async #resolveJwksUrl(): Promise<string> {
    if (this.#options.jwksUrl !== null) return this.#options.jwksUrl;
    const base = this.#options.issuer.replace(/\/$/, '');
    const res = await fetch(`${base}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!res.ok) throw new Error(`OIDC discovery failed with status ${res.status}`);
    const doc = (await res.json()) as { jwks_uri?: unknown };
    if (typeof doc.jwks_uri !== 'string') throw new Error('OIDC discovery document has no jwks_uri');
    return doc.jwks_uri;
  }

  /** The identity a valid token carries; a GatewayError 401 (bad token) or 503 (keys unavailable). */
  async verify(token: string): Promise<Identity> {
    const o = this.#options;
    let payload: JWTPayload;
    try {
      const keys = await this.#keySet();
      ({ payload } = await loadJose().jwtVerify(token, keys, {
        issuer: o.issuer,
        audience: [...(typeof o.audience === 'string' ? [o.audience] : o.audience)],
        algorithms: [...o.algorithms],
        clockTolerance: o.clockToleranceSec,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw classify(err);
    }
    const id = text(payload, o.claims.id);
    if (id === null) throw unauthorized(`The token has no "${o.claims.id}" claim.`);
    const priority = text(payload, o.claims.priority);
    const metadata: Record<string, string> = {};
    for (const name of o.metadataClaims) {
      const v = text(payload, name);
      if (v !== null) metadata[name] = v;
    }
    return {
      id,
      kind: 'jwt',
      tenant: text(payload, o.claims.tenant),
      team: text(payload, o.claims.team),
      user: text(payload, o.claims.user),
      allowedModels: models(payload, o.claims.models),
      priority: priority !== null && PRIORITIES.has(priority) ? (priority as PriorityClass) : null,
      metadata,
    };
  }
}

function classify(err: unknown): GatewayError {
  const { errors } = loadJose();
  if (err instanceof errors.JWTExpired) return unauthorized('The bearer token has expired.', err);
  if (err instanceof errors.JWTClaimValidationFailed) {
    return unauthorized(`The bearer token's "${err.claim}" claim is not accepted.`, err);
  }
  const keysUnavailable =
    err instanceof errors.JWKSTimeout ||
    !(err instanceof errors.JOSEError) ||
    err.message.startsWith('Expected 200 OK');
  if (keysUnavailable) {
    return new GatewayError(
      'state_unavailable',
      'The token issuer’s keys are unavailable; try again shortly.',
      {
        cause: err,
      },
    );
  }
  return unauthorized('The bearer token is not valid.', err);
}
