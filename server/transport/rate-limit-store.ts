import type { ChatStore } from '../store/chat-store.js';

type Incr = (key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) => void;

/**
 * A store for @fastify/rate-limit backed by the ChatStore's counters, so HTTP limits live where
 * every other counter lives (memory on one node, Redis across nodes) without a second client.
 */
export function counterStore(store: ChatStore) {
  return class CounterStore {
    readonly incr: Incr = (key, callback, timeWindow) => {
      store.hitCounter(`http:${key}`, timeWindow).then(
        (result) => callback(null, { current: result.count, ttl: result.resetInMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    };

    child(): CounterStore {
      return this;
    }
  };
}
