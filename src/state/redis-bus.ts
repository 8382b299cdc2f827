import type { InvalidationBus } from '../contracts/governance.ts';
import type { RedisState } from './redis-state.ts';

// Key-cache invalidation over Redis pub/sub: a revocation on one replica evicts the key from every
// replica's cache within milliseconds. Pub/sub is fire-and-forget, so after the subscriber reconnects
// (messages may have been missed) listeners are told to drop their whole cache.

export class RedisInvalidationBus implements InvalidationBus {
  readonly #state: RedisState;
  readonly #channel: string;

  constructor(state: RedisState, channel = 'keys:invalidate') {
    this.#state = state;
    this.#channel = state.key(channel);
  }

  async publish(hash: string): Promise<void> {
    await this.#state.client.publish(this.#channel, hash);
  }

  async subscribe(onMessage: (hash: string) => void, onResync: () => void): Promise<void> {
    const sub = this.#state.subscriber();
    let connected = sub.status === 'ready';
    sub.on('ready', () => {
      if (connected) onResync();
      connected = true;
    });
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) onMessage(message);
    });
    await sub.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    // The subscriber connection belongs to the RedisState and closes with it.
  }
}
