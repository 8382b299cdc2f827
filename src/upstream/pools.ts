import { Pool } from 'undici';
import type { HostedProviderConfig } from '../config/schema.ts';

// One undici Pool per upstream origin, shared by the providers of a Runtime that use the same origin.
// Built at compile time; closed when the Runtime that owns them is retired and drained.

export class OriginPools {
  private readonly pools = new Map<string, Pool>();

  /** The pool for a provider's origin; the first provider to name an origin sets its limits. */
  forProvider(config: Pick<HostedProviderConfig, 'base_url' | 'max_connections' | 'timeouts'>): Pool {
    return this.forOrigin(new URL(config.base_url).origin, config.max_connections, config.timeouts.connect);
  }

  forOrigin(origin: string, connections: number, connectTimeoutMs: number): Pool {
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections,
        pipelining: 1,
        connect: { timeout: connectTimeoutMs },
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        // Per-request values are passed on each request; these are the fallbacks.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.close()));
  }

  /** Abort everything still in flight (used when a drain times out). */
  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.destroy()));
  }
}
