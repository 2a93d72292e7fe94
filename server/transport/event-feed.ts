import type { ChatStore, Unsubscribe } from '../store/chat-store.js';
import type { ConversationEvent } from './protocol.js';

export interface EventFeedOptions {
  store: ChatStore;
  conversationId: string;
  /** Events with a sequence number above this are delivered. */
  afterSeq: number;
  deliver(event: ConversationEvent): void;
  onError(error: unknown): void;
  /**
   * Awaited before each page read while catching up, so a long replay goes out no faster than the
   * client reads it (the socket's backpressure); pages are CATCH_UP_PAGE events.
   */
  beforePage?(): Promise<void>;
}

/** Events per read while catching up: small enough that one page never floods a socket's buffer. */
const CATCH_UP_PAGE = 50;

const SAFETY_NET_MS = 20_000;

export interface EventFeed {
  readonly lastSeq: number;
  /** Subscribes, then reads what is already stored; resolves once caught up. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Delivers one conversation's events strictly in sequence, each once. Notifications are only
 * hints: a notification that does not continue the sequence (a gap, a reconnect, a lost
 * publish) makes the feed read the store from the last delivered sequence.
 */
export function createEventFeed(options: EventFeedOptions): EventFeed {
  const { store, conversationId } = options;
  let lastSeq = options.afterSeq;
  let stopped = false;
  let unsubscribe: Unsubscribe | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let safetyNet: ReturnType<typeof setInterval> | undefined;

  function deliverInOrder(events: ConversationEvent[]): boolean {
    for (const event of events) {
      if (event.seq <= lastSeq) continue;
      if (event.seq !== lastSeq + 1) return false;
      options.deliver(event);
      lastSeq = event.seq;
    }
    return true;
  }

  function catchUp(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          for (;;) {
            await options.beforePage?.();
            if (stopped) break;
            const events = await store.readEvents(conversationId, lastSeq, CATCH_UP_PAGE);
            if (events.length === 0 || stopped) break;
            deliverInOrder(events);
          }
        } while (again && !stopped);
      } catch (error) {
        options.onError(error);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  return {
    get lastSeq() {
      return lastSeq;
    },
    async start() {
      // An empty batch is the store saying "notifications may have been lost" (its subscriber reconnected).
      unsubscribe = await store.subscribe(conversationId, (events) => {
        if (!stopped && (events.length === 0 || !deliverInOrder(events))) void catchUp();
      });
      // And in case even that is missed, a slow re-read from the last delivered sequence.
      safetyNet = setInterval(() => void catchUp(), SAFETY_NET_MS);
      safetyNet.unref();
      if (stopped) {
        await unsubscribe();
        return;
      }
      await catchUp();
    },
    async stop() {
      stopped = true;
      clearInterval(safetyNet);
      await unsubscribe?.();
    },
  };
}
