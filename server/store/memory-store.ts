import { EventEmitter } from 'node:events';
import type { ConversationRecord } from '../domain/conversation.js';
import type { SurveyRecord } from '../domain/csat.js';
import { AppError } from '../errors.js';
import type { ConversationEvent } from '../transport/protocol.js';
import {
  DEFAULT_READ_LIMIT,
  type AgentAccount,
  type AppendRequest,
  type AppendResult,
  type ChatStore,
  type NewEvent,
  type Presence,
  type Session,
  type StoredItem,
} from './chat-store.js';

interface StoredConversation {
  record: ConversationRecord;
  events: ConversationEvent[];
  dedupe: Map<string, { seq: number; messageId: string }>;
}

const RECENT_WAITS_KEPT = 50;

/**
 * A deep copy of plain data (objects, arrays, primitives), as structuredClone would give it for
 * the store's JSON-shaped records and events, at a fraction of its cost (structuredClone was the
 * larger part of every append under load). Anything else (a Date, a Buffer, a Map, a null-prototype
 * object, a "__proto__" key) goes through structuredClone as before.
 */
export function copyPlain<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyPlain(value[i] as unknown);
    return out as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (key === '__proto__') return structuredClone(value);
    out[key] = copyPlain(source[key]);
  }
  return out as T;
}

function numbered(events: NewEvent[], firstSeq: number): ConversationEvent[] {
  return events.map((event, index) => ({ ...event, seq: firstSeq + index }) as ConversationEvent);
}

/** A sorted set of conversation ids by score, ties by id (as Redis orders them). */
class SortedQueue {
  private readonly scores = new Map<string, number>();
  has(member: string): boolean {
    return this.scores.has(member);
  }
  add(member: string, score: number): void {
    this.scores.set(member, score);
  }
  remove(member: string): void {
    this.scores.delete(member);
  }
  ordered(): { conversationId: string; score: number }[] {
    return [...this.scores.entries()]
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .map(([conversationId, score]) => ({ conversationId, score }));
  }
}

/**
 * The embedded single-node store. Each method body runs without awaiting before its
 * changes are done, so every check-and-set is atomic on Node's one thread.
 */
export function createMemoryStore(): ChatStore {
  const conversations = new Map<string, StoredConversation>();
  const queues = new Map<string, SortedQueue>();
  const chats = new Map<string, Set<string>>();
  const waits = new Map<string, number[]>();
  const agents = new Map<string, AgentAccount>();
  const sessions = new Map<string, Session>();
  const presence = new Map<string, Presence>();
  const items = new Map<string, StoredItem[]>();
  const surveys = new Map<string, SurveyRecord>();
  const records = new Map<string, Map<string, Record<string, unknown>>>();
  const models = new Map<string, Buffer>();
  const counters = new Map<string, { count: number; resetAt: number }>();
  const closedAt = new Map<string, number>();
  const recordsOf = (kind: string) => records.get(kind) ?? records.set(kind, new Map()).get(kind)!;
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  let closed = false;

  const queueOf = (name: string) => queues.get(name) ?? queues.set(name, new SortedQueue()).get(name)!;
  const chatsOf = (agentId: string) => chats.get(agentId) ?? chats.set(agentId, new Set()).get(agentId)!;

  // Delivered after the caller's await resolves, as a networked store would.
  function emit(channel: string, payload: unknown): void {
    queueMicrotask(() => {
      if (bus.listenerCount(channel) > 0) bus.emit(channel, copyPlain(payload));
    });
  }

  function listen<T>(channel: string, listener: (payload: T) => void) {
    bus.on(channel, listener);
    return Promise.resolve(async () => {
      bus.off(channel, listener);
    });
  }

  return {
    async createConversation(record, events) {
      if (conversations.has(record.id)) throw new AppError('INTERNAL', `conversation ${record.id} already exists`);
      const stored = numbered(events, 1);
      conversations.set(record.id, { record: { ...record, lastSeq: stored.length, agentId: null, handoff: null }, events: stored, dedupe: new Map() });
      emit(`events:${record.id}`, stored);
      return copyPlain(stored);
    },

    async getConversation(conversationId) {
      const found = conversations.get(conversationId);
      return found ? copyPlain(found.record) : null;
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
      if (request.expectAgentId !== undefined && found.record.agentId !== request.expectAgentId) return { status: 'agent_mismatch' };
      const { queue, agentChats } = request;
      if (queue?.remove !== undefined && !queueOf(queue.remove).has(request.conversationId)) return { status: 'not_queued' };
      if (agentChats?.add && chatsOf(agentChats.add.agentId).size >= agentChats.add.capacity && !chatsOf(agentChats.add.agentId).has(request.conversationId)) {
        return { status: 'at_capacity' };
      }

      const events = numbered(request.events, found.record.lastSeq + 1);
      found.events.push(...events);
      found.record = { ...found.record, ...copyPlain(request.patch), lastSeq: found.record.lastSeq + events.length, updatedAt: request.updatedAt };
      const first = events[0];
      if (request.dedupeKey !== undefined && first && first.type === 'message.new') {
        found.dedupe.set(request.dedupeKey, { seq: first.seq, messageId: first.messageId });
      }
      if (queue?.remove !== undefined) queueOf(queue.remove).remove(request.conversationId);
      if (queue?.add) queueOf(queue.add.queue).add(request.conversationId, queue.add.score);
      if (agentChats?.remove !== undefined) chatsOf(agentChats.remove).delete(request.conversationId);
      if (agentChats?.add) chatsOf(agentChats.add.agentId).add(request.conversationId);
      if (events.length > 0) emit(`events:${request.conversationId}`, events);
      return { status: 'appended', events: copyPlain(events), lastSeq: found.record.lastSeq };
    },

    async readEvents(conversationId, afterSeq, limit = DEFAULT_READ_LIMIT) {
      const found = conversations.get(conversationId);
      if (!found) return [];
      return copyPlain(found.events.slice(afterSeq, afterSeq + limit));
    },

    subscribe: (conversationId, listener) => listen(`events:${conversationId}`, listener),

    async queueMembers(queue, limit = 1000) {
      return queueOf(queue).ordered().slice(0, limit);
    },
    async queuePosition(queue, conversationId) {
      const index = queueOf(queue).ordered().findIndex((member) => member.conversationId === conversationId);
      return index < 0 ? null : index + 1;
    },
    async agentChats(agentId) {
      return [...chatsOf(agentId)].sort();
    },
    async recordWait(queue, waitMs) {
      const list = waits.get(queue) ?? [];
      list.unshift(waitMs);
      waits.set(queue, list.slice(0, RECENT_WAITS_KEPT));
    },
    async recentWaits(queue, count) {
      return (waits.get(queue) ?? []).slice(0, count);
    },

    async saveAgent(account) {
      const existing = [...agents.values()].find((a) => a.email === account.email && a.id !== account.id);
      if (existing) throw new AppError('VALIDATION_FAILED', `An account with e-mail ${account.email} already exists.`);
      agents.set(account.id, copyPlain(account));
    },
    async getAgent(agentId) {
      const found = agents.get(agentId);
      return found ? copyPlain(found) : null;
    },
    async findAgentByEmail(email) {
      const found = [...agents.values()].find((a) => a.email === email);
      return found ? copyPlain(found) : null;
    },
    async listAgents() {
      return [...agents.values()].map((a) => copyPlain(a)).sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    async createSession(session) {
      sessions.set(session.token, { ...session });
    },
    async getSession(token) {
      const found = sessions.get(token);
      if (!found) return null;
      if (Date.parse(found.expiresAt) <= Date.now()) {
        sessions.delete(token);
        return null;
      }
      return { ...found };
    },
    async deleteSession(token) {
      sessions.delete(token);
    },
    async setPresence(entry) {
      presence.set(entry.agentId, { ...entry });
    },
    async listPresence() {
      return [...presence.values()].map((p) => ({ ...p }));
    },

    async addItem(item) {
      const list = items.get(item.kind) ?? [];
      list.unshift(copyPlain(item));
      items.set(item.kind, list);
    },
    async listItems(kind, limit = 200) {
      return copyPlain((items.get(kind) ?? []).slice(0, limit));
    },

    async saveSurvey(record) {
      if (surveys.has(record.conversationId)) return false;
      surveys.set(record.conversationId, copyPlain(record));
      return true;
    },
    async getSurvey(conversationId) {
      const found = surveys.get(conversationId);
      return found ? copyPlain(found) : null;
    },
    async answerSurvey(conversationId, answer) {
      const found = surveys.get(conversationId);
      if (!found || found.answeredAt !== null) return false;
      surveys.set(conversationId, { ...found, ...answer });
      return true;
    },
    async listSurveys() {
      return [...surveys.values()].map((s) => copyPlain(s)).sort((a, b) => (a.endedAt < b.endedAt ? -1 : a.endedAt > b.endedAt ? 1 : 0));
    },

    async putRecord(kind, id, data) {
      recordsOf(kind).set(id, copyPlain(data));
    },
    async getRecord(kind, id) {
      const found = recordsOf(kind).get(id);
      return found ? copyPlain(found) : null;
    },
    async listRecords(kind) {
      return [...recordsOf(kind).entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([id, data]) => ({ id, data: copyPlain(data) }));
    },
    async saveModel(version, bytes) {
      models.set(version, Buffer.from(bytes));
    },
    async getModel(version) {
      const found = models.get(version);
      return found ? Buffer.from(found) : null;
    },

    async hitCounter(key, windowMs) {
      const at = Date.now();
      const current = counters.get(key);
      const entry = current && current.resetAt > at ? { count: current.count + 1, resetAt: current.resetAt } : { count: 1, resetAt: at + windowMs };
      counters.set(key, entry);
      if (counters.size > 100_000) for (const [k, v] of counters) if (v.resetAt <= at) counters.delete(k);
      return { count: entry.count, resetInMs: entry.resetAt - at };
    },
    async readCounter(key) {
      const current = counters.get(key);
      const at = Date.now();
      return current && current.resetAt > at ? { count: current.count, resetInMs: current.resetAt - at } : { count: 0, resetInMs: 0 };
    },
    async resetCounter(key) {
      counters.delete(key);
    },
    async markClosed(conversationId, closedAtMs) {
      closedAt.set(conversationId, closedAtMs);
    },
    async closedBefore(cutoffMs, limit) {
      return [...closedAt.entries()].filter(([, at]) => at < cutoffMs).sort((a, b) => a[1] - b[1]).slice(0, limit).map(([id]) => id);
    },
    async deleteConversation(conversationId) {
      conversations.delete(conversationId);
      closedAt.delete(conversationId);
      for (const queue of queues.values()) queue.remove(conversationId);
      for (const set of chats.values()) set.delete(conversationId);
      const survey = surveys.get(conversationId);
      if (survey) surveys.set(conversationId, { ...survey, comment: null });
    },
    async removeItems(kind, ids) {
      const drop = new Set(ids);
      items.set(kind, (items.get(kind) ?? []).filter((item) => !drop.has(item.id)));
    },
    async removeRecords(kind, ids) {
      for (const id of ids) recordsOf(kind).delete(id);
    },
    async deleteSessionsOf(agentId) {
      let removed = 0;
      for (const [token, session] of sessions) {
        if (session.agentId === agentId) {
          sessions.delete(token);
          removed++;
        }
      }
      return removed;
    },

    async publish(channel, message) {
      emit(`signal:${channel}`, message);
    },
    subscribeChannel: (channel, listener) => listen(`signal:${channel}`, listener),

    async ping() {
      if (closed) throw new AppError('STORE_UNAVAILABLE', 'The store is closed.');
    },

    async close() {
      closed = true;
      bus.removeAllListeners();
    },
  };
}
