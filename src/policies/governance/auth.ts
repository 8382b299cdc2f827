import type { GovernanceServices, KeyRecord } from '../../contracts/governance.ts';
import type { Policy, PolicyFactory } from '../../contracts/policy.ts';
import type { Identity, RequestContext } from '../../contracts/request.ts';
import { GatewayError } from '../../core/errors.ts';
import { JwtVerifier, looksLikeJwt } from './jwt.ts';
import { identityFromCertificate } from './mtls.ts';
import { authParams, type AuthParams } from './auth-params.ts';
import { governanceState } from './request-state.ts';
import { governanceOf } from './services-of.ts';

// Authentication: who is calling. A credential in `Authorization: Bearer …` or `x-api-key` is a JWT when
// JWT is configured and the token has the JWT shape, else a virtual key looked up by hash. Without a
// credential, a verified client certificate is tried (mTLS rules). Sets ctx.identity and, when the
// identity has one, ctx.priority; then checks the key's model and route allow-lists (403).

export { authParams, type AuthParams };

export type AuthServices = Pick<GovernanceServices, 'keys' | 'peerCertificate' | 'clock' | 'onStateEvent'>;

const ANONYMOUS: Identity = Object.freeze({
  id: 'anonymous',
  kind: 'anonymous',
  tenant: null,
  team: null,
  user: null,
  allowedModels: null,
  priority: null,
  metadata: Object.freeze({}),
});

/** Identity objects per key record (records are cached, so this allocates once per key). */
const keyIdentities = new WeakMap<KeyRecord, Identity>();

function keyIdentity(record: KeyRecord): Identity {
  let identity = keyIdentities.get(record);
  if (identity === undefined) {
    identity = {
      id: record.id,
      kind: 'api-key',
      tenant: record.tenant,
      team: record.team,
      user: record.user,
      allowedModels: record.allowedModels === null ? null : new Set(record.allowedModels),
      priority: record.priority,
      metadata: record.metadata,
    };
    keyIdentities.set(record, identity);
  }
  return identity;
}

function unauthorized(message: string): GatewayError {
  return new GatewayError('unauthorized', message, { headers: { 'www-authenticate': 'Bearer' } });
}

/** The token of `Bearer <token>` (scheme in any case, one token), else null. */
function bearerToken(value: string): string | null {
  if (value.length < 8 || value.slice(0, 6).toLowerCase() !== 'bearer') return null;
  const token = value.slice(6).trim();
  if (token === '' || token.length === value.length - 6) return null; // no space after the scheme
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x20 || c === 0x09) return null; // more than one token
  }
  return token;
}

class AuthPolicy implements Policy {
  readonly type = 'auth';
  readonly name: string;
  readonly #params: AuthParams;
  readonly #jwt: JwtVerifier | null;
  readonly #services: AuthServices;

  constructor(name: string, params: AuthParams, services: AuthServices) {
    this.name = name;
    this.#params = params;
    this.#jwt = params.jwt === undefined ? null : new JwtVerifier(params.jwt);
    this.#services = services;
  }

  #credential(ctx: RequestContext): string | null {
    for (const name of this.#params.headers) {
      const raw = ctx.clientHeaders[name];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (value === undefined || value === '') continue;
      if (name !== 'authorization') return value.trim();
      const token = bearerToken(value);
      if (token !== null) return token;
    }
    return null;
  }

  #fromKey(ctx: RequestContext, secret: string): Identity | Promise<Identity> {
    let found: KeyRecord | null | Promise<KeyRecord | null>;
    try {
      found = this.#services.keys.authenticate(secret);
    } catch (err) {
      throw this.#unavailable(err);
    }
    if (found instanceof Promise) {
      return found.then(
        (record) => this.#keyIdentity(ctx, record),
        (err: unknown) => {
          throw this.#unavailable(err);
        },
      );
    }
    return this.#keyIdentity(ctx, found);
  }

  #unavailable(err: unknown): GatewayError {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#services.onStateEvent({ component: 'keys', kind: 'error', decision: 'closed', error });
    return new GatewayError('state_unavailable', 'API keys cannot be checked right now; try again shortly.', {
      cause: err,
    });
  }

  #keyIdentity(ctx: RequestContext, record: KeyRecord | null): Identity {
    if (record === null) throw unauthorized('Incorrect API key provided.');
    if (record.revokedAt !== null) throw unauthorized('This API key has been revoked.');
    if (record.expiresAt !== null && record.expiresAt <= this.#services.clock()) {
      throw unauthorized('This API key has expired.');
    }
    if (record.allowedRoutes !== null && !record.allowedRoutes.includes(ctx.route)) {
      throw new GatewayError('forbidden', `This API key may not use route "${ctx.route}".`);
    }
    governanceState(ctx).key = record;
    return keyIdentity(record);
  }

  #identify(ctx: RequestContext): Identity | Promise<Identity> {
    const credential = this.#credential(ctx);
    if (credential !== null) {
      if (this.#jwt !== null && looksLikeJwt(credential)) return this.#jwt.verify(credential);
      if (this.#params.api_keys) return this.#fromKey(ctx, credential);
      throw unauthorized('API keys are not accepted here; send a bearer token.');
    }
    const rules = this.#params.mtls;
    const cert = rules === undefined ? null : (this.#services.peerCertificate?.(ctx) ?? null);
    if (rules !== undefined && cert !== null) {
      const identity = identityFromCertificate(cert, rules);
      if (identity !== null) return identity;
      throw unauthorized('The client certificate is not mapped to an identity.');
    }
    if (this.#params.anonymous) return ANONYMOUS;
    throw unauthorized(
      "Missing credentials: send an API key as 'Authorization: Bearer <key>' or 'x-api-key'.",
    );
  }

  /** Synchronous when the identity is known at once (a cached key, a certificate), else a promise. */
  onRequest(ctx: RequestContext): void | Promise<void> {
    const identity = this.#identify(ctx);
    if (identity instanceof Promise) return identity.then((id) => this.#admit(ctx, id));
    this.#admit(ctx, identity);
  }

  #admit(ctx: RequestContext, identity: Identity): void {
    const allowed = identity.allowedModels;
    if (allowed !== null && !allowed.has(ctx.model) && !allowed.has(ctx.requestedModel)) {
      throw new GatewayError('forbidden', `This credential may not use model "${ctx.requestedModel}".`, {
        param: 'model',
      });
    }
    ctx.identity = identity;
    if (identity.priority !== null) ctx.priority = identity.priority;
  }
}

export const authFactory: PolicyFactory<AuthParams> = {
  type: 'auth',
  description:
    'Authenticates callers by virtual key, JWT (OIDC) or client certificate; enforces model allow-lists.',
  params: authParams,
  create: (name, params, services) => new AuthPolicy(name, params, governanceOf(services, name)),
};
