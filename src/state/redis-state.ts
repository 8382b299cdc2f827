import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadIoredis } from '../core/optional-deps.ts';
import type { StateEventHook } from '../contracts/governance.ts';

// One Redis connection shared by the quota store, the key bus and others, tuned to fail fast: no offline
// queue (a command while disconnected fails at once), a 40 ms command timeout, no resending after a
// reconnect (an admission applied twice would be wrong). Reconnects by itself with a backoff capped at 1 s;
// transitions are reported as `down` / `up` events.

export interface RedisStateOptions {
  /** redis://[user:pass@]host:port[/db] or rediss://… */
  readonly url: string;
  /** Prefix for every key and channel (so tests and tenants of one Redis do not collide). */
  readonly prefix?: string;
  /** A command without a reply after this long fails; default 40 ms, so the fail-open/closed decision
   * lands within 50 ms. */
  readonly commandTimeoutMs?: number;
  readonly onEvent?: StateEventHook;
}

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export class RedisState {
  readonly client: Redis;
  readonly prefix: string;
  readonly #options: RedisStateOptions;
  readonly #onEvent: StateEventHook;
  #up = false;
  #subscriber: Redis | null = null;

  constructor(options: RedisStateOptions) {
    this.#options = options;
    this.prefix = options.prefix ?? 'sy:';
    this.#onEvent = options.onEvent ?? (() => {});
    this.client = new (loadIoredis().Redis)(options.url, {
      enableOfflineQueue: false,
      commandTimeout: options.commandTimeoutMs ?? 40,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1_000,
      // ioredis waits this long for a socket it already lost to close on disconnect: keep shutdown quick.
      disconnectTimeout: 200,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
    });
    this.client.on('ready', () => this.#transition(true, null));
    this.client.on('error', (err: Error) => this.#transition(false, err));
    this.client.on('close', () => this.#transition(false, null));
  }

  get healthy(): boolean {
    return this.#up;
  }

  #transition(up: boolean, error: Error | null): void {
    if (up === this.#up) return;
    this.#up = up;
    this.#onEvent({ component: 'redis', kind: up ? 'up' : 'down', decision: null, error });
  }

  /** Resolves true once connected, false after `timeoutMs` (startup; commands fail until then). */
  async ready(timeoutMs = 2_000): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.on('ready', onReady);
    });
  }

  /** A second connection for pub/sub (a subscribed connection can run nothing else). */
  subscriber(): Redis {
    this.#subscriber ??= new (loadIoredis().Redis)(this.#options.url, {
      connectTimeout: 1_000,
      disconnectTimeout: 200,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
    });
    this.#subscriber.on('error', () => {});
    return this.#subscriber;
  }

  key(name: string): string {
    return this.prefix + name;
  }

  /** EVALSHA, loading the script on NOSCRIPT (after a Redis restart or SCRIPT FLUSH). */
  async run(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  async close(): Promise<void> {
    const all = [this.client, this.#subscriber].filter((c): c is Redis => c !== null);
    await Promise.all(
      all.map(async (c) => {
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
        else c.disconnect();
      }),
    );
  }
}
