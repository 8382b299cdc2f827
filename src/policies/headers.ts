import { z } from 'zod';
import type { Policy, PolicyFactory } from '../contracts/policy.ts';
import type { RequestContext } from '../contracts/request.ts';

// Adds fixed headers to upstream requests and to client responses (for example a tenant tag for an
// upstream's own accounting, or a cache-control header for clients).

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name');

const params = z.strictObject({
  /** Headers added to every upstream request on the route. */
  upstream: z.record(headerName, z.string()).default({}),
  /** Headers added to every response sent to the client on the route. */
  response: z.record(headerName, z.string()).default({}),
});

type Params = z.infer<typeof params>;

class HeadersPolicy implements Policy {
  readonly type = 'headers';
  readonly name: string;
  private readonly upstream: readonly (readonly [string, string])[];
  private readonly response: readonly (readonly [string, string])[];

  constructor(name: string, p: Params) {
    this.name = name;
    this.upstream = Object.entries(p.upstream).map(([k, v]) => [k.toLowerCase(), v] as const);
    this.response = Object.entries(p.response).map(([k, v]) => [k.toLowerCase(), v] as const);
  }

  onRequest(ctx: RequestContext): void {
    for (const [k, v] of this.upstream) ctx.upstreamHeaders[k] = v;
    for (const [k, v] of this.response) ctx.responseHeaders[k] = v;
  }
}

export const headersFactory: PolicyFactory<Params> = {
  type: 'headers',
  description: 'Add fixed headers to upstream requests and client responses.',
  params,
  create: (name, p) => new HeadersPolicy(name, p),
};
