import { EventEmitter } from 'node:events';
import type { ConversationRecord } from '../domain/conversation.js';
import { AppError } from '../errors.js';
import type { ConversationEvent } from '../transport/protocol.js';
import { DEFAULT_READ_LIMIT, type AppendRequest, type AppendResult, type ChatStore, type NewEvent } from './chat-store.js';

interface StoredConversation {
  record: ConversationRecord;
  events: ConversationEvent[];
  dedupe: Map<string, { seq: number; messageId: string }>;
}

function numbered(events: NewEvent[], firstSeq: number): ConversationEvent[] {
  return events.map((event, index) => ({ ...event, seq: firstSeq + index }) as ConversationEvent);
}

/**
 * The embedded single-node store. Each method body runs without awaiting before its
 * changes are done, so every check-and-set is atomic on Node's one thread.
 */
export function createMemoryStore(): ChatStore {
  const conversations = new Map<string, StoredConversation>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  let closed = false;

  function publish(conversationId: string, events: ConversationEvent[]): void {
    // Deliver after the caller's await resolves, as a networked store would.
    queueMicrotask(() => bus.emit(conversationId, events.map((event) => structuredClone(event))));
  }

  return {
    async createConversation(record, events) {
      if (conversations.has(record.id)) throw new Error(`conversation ${record.id} already exists`);
      const stored = numbered(events, 1);
      conversations.set(record.id, { record: { ...record, lastSeq: stored.length }, events: stored, dedupe: new Map() });
      publish(record.id, stored);
      return structuredClone(stored);
    },

    async getConversation(conversationId) {
      const found = conversations.get(conversationId);
      return found ? structuredClone(found.record) : null;
    },

    async append(request: AppendRequest): Promise<AppendResult> {
      const found = conversations.get(request.conversationId);
      if (!found) return { status: 'not_found' };
      if (request.dedupeKey !== undefined) {
        const seen = found.dedupe.get(request.dedupeKey);
        if (seen) return { status: 'duplicate', ...seen };
      }
      if (request.expectStates && !request.expectStates.includes(found.record.state)) {
        return { status: 'conflict', state: found.record.state };
      }
      const events = numbered(request.events, found.record.lastSeq + 1);
      found.events.push(...events);
      found.record = { ...found.record, ...request.patch, lastSeq: found.record.lastSeq + events.length, updatedAt: request.updatedAt };
      const first = events[0];
      if (request.dedupeKey !== undefined && first && first.type === 'message.new') {
        found.dedupe.set(request.dedupeKey, { seq: first.seq, messageId: first.messageId });
      }
      publish(request.conversationId, events);
      return { status: 'appended', events: structuredClone(events), lastSeq: found.record.lastSeq };
    },

    async readEvents(conversationId, afterSeq, limit = DEFAULT_READ_LIMIT) {
      const found = conversations.get(conversationId);
      if (!found) return [];
      return structuredClone(found.events.slice(afterSeq, afterSeq + limit));
    },

    async subscribe(conversationId, listener) {
      bus.on(conversationId, listener);
      return async () => {
        bus.off(conversationId, listener);
      };
    },

    async ping() {
      if (closed) throw new AppError('STORE_UNAVAILABLE', 'The store is closed.');
    },

    async close() {
      closed = true;
      bus.removeAllListeners();
    },
  };
}
