import { Redis, type RedisOptions } from 'ioredis';
import * as zm from 'zod/mini';
import { z } from 'zod';
import { conversationRecordSchema, CONVERSATION_SCHEMA_VERSION, type ConversationRecord } from '../domain/conversation.js';
import { AppError } from '../errors.js';
import { conversationEventSchema, type ConversationEvent } from '../transport/protocol.js';
import { DEFAULT_READ_LIMIT, type AppendResult, type ChatStore, type ConversationPatch, type EventsListener, type NewEvent } from './chat-store.js';
import { createRedisKeys } from './redis-keys.js';
import { APPEND_EVENTS, CREATE_CONVERSATION } from './redis-scripts.js';

export interface RedisStoreOptions {
  url: string;
  /** Key namespace; tests pass a unique one per run. */
  namespace?: string;
  tenant?: string;
  /** How long a command may wait for a connection before STORE_UNAVAILABLE. */
  commandTimeoutMs?: number;
}

type ScriptedRedis = Redis & {
  createConversation(...args: (string | number)[]): Promise<number>;
  appendEvents(...args: (string | number)[]): Promise<string[]>;
};

const publishedSchema = z.object({ events: z.array(z.unknown()) });

function parseEvent(json: string, seq: number): ConversationEvent {
  return zm.parse(conversationEventSchema, { ...JSON.parse(json), seq });
}

function serialiseEvent(event: NewEvent): string {
  return JSON.stringify(event);
}

function patchFields(patch: ConversationPatch | undefined): string[] {
  const fields: string[] = [];
  if (!patch) return fields;
  if (patch.state !== undefined) fields.push('state', patch.state);
  if (patch.language !== undefined) fields.push('language', patch.language);
  if (patch.context !== undefined) fields.push('context', JSON.stringify(patch.context));
  return fields;
}

function unavailable(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError('STORE_UNAVAILABLE', undefined, { cause: error });
}

/** Maps a Redis reply of appendEvents to the port's result: the one place that knows its shape. */
function toAppendResult(reply: string[], events: NewEvent[]): AppendResult {
  const [status, a, b] = reply;
  switch (status) {
    case 'appended': {
      const lastSeq = Number(a);
      const first = lastSeq - events.length + 1;
      return { status, lastSeq, events: events.map((event, i) => ({ ...event, seq: first + i }) as ConversationEvent) };
    }
    case 'duplicate':
      return { status, seq: Number(a), messageId: String(b) };
    case 'conflict':
      return { status, state: zm.parse(conversationRecordSchema.shape.state, a) };
    case 'not_found':
      return { status };
    default:
      throw new AppError('INTERNAL', `unexpected reply from appendEvents: ${String(status)}`);
  }
}

/**
 * The Redis store. Command connections fail fast (no offline queue), so a request made while
 * Redis is away gets STORE_UNAVAILABLE at once; the subscriber connection is separate and
 * resubscribes by itself after a reconnect.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<ChatStore> {
  const keys = createRedisKeys(options.namespace ?? 'support', options.tenant ?? 'default');
  const base: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  };
  const redis = new Redis(options.url, {
    ...base,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 2000,
  }) as ScriptedRedis;
  const subscriber = new Redis(options.url, { ...base, enableOfflineQueue: true });
  // Connection errors surface as STORE_UNAVAILABLE on the commands; the 'error' events
  // themselves must be handled or Node treats them as fatal.
  redis.on('error', () => {});
  subscriber.on('error', () => {});
  redis.defineCommand('createConversation', { numberOfKeys: 2, lua: CREATE_CONVERSATION });
  redis.defineCommand('appendEvents', { numberOfKeys: 3, lua: APPEND_EVENTS });
  try {
    await Promise.all([redis.connect(), subscriber.connect()]);
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    throw unavailable(error);
  }

  const listeners = new Map<string, Set<EventsListener>>();
  subscriber.on('message', (channel: string, message: string) => {
    const set = listeners.get(channel);
    if (!set) return;
    let events: ConversationEvent[];
    try {
      events = publishedSchema.parse(JSON.parse(message)).events.map((event) => zm.parse(conversationEventSchema, event));
    } catch {
      return; // a malformed notification is ignored; subscribers re-read the store on gaps
    }
    for (const listener of set) listener(events);
  });

  async function publish(conversationId: string, events: ConversationEvent[]): Promise<void> {
    try {
      await redis.publish(keys.eventsChannel(conversationId), JSON.stringify({ events }));
    } catch {
      // The events are stored; a lost notification is repaired by readers on their next gap check.
    }
  }

  return {
    async createConversation(record, events) {
      const fields = [
        'v', String(CONVERSATION_SCHEMA_VERSION),
        'id', record.id,
        'createdAt', record.createdAt,
        'updatedAt', record.updatedAt,
        'state', record.state,
        'language', record.language,
        'context', JSON.stringify(record.context),
      ];
      let reply: number;
      try {
        reply = await redis.createConversation(
          keys.conversation(record.id), keys.events(record.id),
          events.length, ...events.map(serialiseEvent), ...fields,
        );
      } catch (error) {
        throw unavailable(error);
      }
      if (reply === -1) throw new AppError('INTERNAL', `conversation ${record.id} already exists`);
      const stored = events.map((event, i) => ({ ...event, seq: i + 1 }) as ConversationEvent);
      await publish(record.id, stored);
      return stored;
    },

    async getConversation(conversationId) {
      let hash: Record<string, string>;
      try {
        hash = await redis.hgetall(keys.conversation(conversationId));
      } catch (error) {
        throw unavailable(error);
      }
      if (!hash.id) return null;
      const parsed = conversationRecordSchema.safeParse({
        ...hash,
        v: Number(hash.v),
        lastSeq: Number(hash.lastSeq),
        context: hash.context ? JSON.parse(hash.context) : undefined,
      });
      if (!parsed.success) throw new AppError('INTERNAL', `conversation ${conversationId} is stored in an unknown shape`);
      return parsed.data satisfies ConversationRecord;
    },

    async append(request) {
      let reply: string[];
      const first = request.events[0];
      const dedupeMessageId = first && first.type === 'message.new' ? first.messageId : '';
      try {
        reply = await redis.appendEvents(
          keys.conversation(request.conversationId), keys.events(request.conversationId), keys.dedupe(request.conversationId),
          request.dedupeKey ?? '', dedupeMessageId, (request.expectStates ?? []).join(','), request.updatedAt,
          request.events.length, ...request.events.map(serialiseEvent), ...patchFields(request.patch),
        );
      } catch (error) {
        throw unavailable(error);
      }
      const result = toAppendResult(reply, request.events);
      if (result.status === 'appended') await publish(request.conversationId, result.events);
      return result;
    },

    async readEvents(conversationId, afterSeq, limit = DEFAULT_READ_LIMIT) {
      let items: string[];
      try {
        items = await redis.lrange(keys.events(conversationId), afterSeq, afterSeq + limit - 1);
      } catch (error) {
        throw unavailable(error);
      }
      return items.map((json, i) => parseEvent(json, afterSeq + i + 1));
    },

    async subscribe(conversationId, listener) {
      const channel = keys.eventsChannel(conversationId);
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await subscriber.subscribe(channel).catch((error: unknown) => {
          listeners.delete(channel);
          throw unavailable(error);
        });
      }
      set.add(listener);
      return async () => {
        const current = listeners.get(channel);
        if (!current) return;
        current.delete(listener);
        if (current.size === 0) {
          listeners.delete(channel);
          await subscriber.unsubscribe(channel).catch(() => {});
        }
      };
    },

    async ping() {
      try {
        await redis.ping();
      } catch (error) {
        throw unavailable(error);
      }
    },

    async close() {
      listeners.clear();
      await Promise.allSettled([redis.quit(), subscriber.quit()]);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
