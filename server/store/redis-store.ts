import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { conversationRecordSchema, conversationStateSchema, CONVERSATION_SCHEMA_VERSION } from '../domain/conversation.js';
import { surveyAnswerSchema, surveyRecordSchema } from '../domain/csat.js';
import { AppError } from '../errors.js';
import { conversationEventSchema, type ConversationEvent } from '../transport/protocol.js';
import {
  DEFAULT_READ_LIMIT,
  type AgentAccount,
  type AppendRequest,
  type AppendResult,
  type ChatStore,
  type EventsListener,
  type MessageListener,
  type NewEvent,
  type Presence,
  type Session,
  type StoredItem,
} from './chat-store.js';
import { createRedisKeys } from './redis-keys.js';
import { agentAccountSchema } from './record-schemas.js';
import { APPEND_EVENTS, CREATE_CONVERSATION, SAVE_AGENT } from './redis-scripts.js';

export interface RedisStoreOptions {
  /** A single Redis (or a Sentinel-managed primary behind one address). */
  url?: string;
  /** Redis Cluster: the seed nodes. All keys of a tenant share one hash tag, so they stay in one slot. */
  clusterNodes?: { host: string; port: number }[];
  /** Key namespace; tests pass a unique one per run. */
  namespace?: string;
  tenant?: string;
  /** How long a command may take before STORE_UNAVAILABLE. */
  commandTimeoutMs?: number;
}

type ScriptedRedis = (Redis | Cluster) & {
  createConversation(...args: (string | number)[]): Promise<number>;
  appendEvents(...args: (string | number)[]): Promise<string[]>;
  saveAgent(...args: string[]): Promise<number>;
};

/* Data read back from Redis is parsed again, by schema. */
const sessionSchema = z.object({ token: z.string(), agentId: z.string(), expiresAt: z.string() });
const presenceSchema = z.object({ agentId: z.string(), status: z.enum(['online', 'away', 'offline']), lastSeen: z.number() });
const itemSchema = z.object({ id: z.string(), kind: z.enum(['left_message', 'feedback', 'resolution']), at: z.string(), data: z.record(z.string(), z.unknown()) });
/** Sent to local events listeners (never over Redis) when notifications may have been lost. */
const RESYNC = '\u0000resync';
const recordDataSchema = z.record(z.string(), z.unknown());
/** What the scripts publish: the stored events, without their seq, numbered from `first`. */
const publishedEventsSchema = z.object({ first: z.number().int().positive(), events: z.array(z.record(z.string(), z.unknown())) });

function parseJson<T>(schema: z.ZodType<T>, json: string, what: string): T {
  const parsed = schema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new AppError('INTERNAL', `${what} is stored in an unknown shape`);
  return parsed.data;
}

function unavailable(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError('STORE_UNAVAILABLE', undefined, { cause: error });
}

/** Runs one Redis call, turning connection failures into STORE_UNAVAILABLE. */
async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw unavailable(error);
  }
}

/** Maps a reply of appendEvents to the port's result: the one place that knows its shape. */
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
      return { status, state: conversationStateSchema.parse(a) };
    case 'agent_mismatch':
    case 'not_queued':
    case 'at_capacity':
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
  // Not auto-pipelined: at about 500 messages a second per node it cost 10 points more CPU and
  // doubled reply p99 (docs/scaling.md).
  const commandOptions: RedisOptions = { ...base, enableOfflineQueue: false, commandTimeout: options.commandTimeoutMs ?? 2000 };
  let redis: ScriptedRedis;
  let subscriber: Redis | Cluster;
  if (options.clusterNodes && options.clusterNodes.length > 0) {
    const clusterBase = { lazyConnect: true, clusterRetryStrategy: (attempt: number) => Math.min(100 * attempt, 2000) };
    redis = new Cluster(options.clusterNodes, { ...clusterBase, enableOfflineQueue: false, redisOptions: commandOptions }) as ScriptedRedis;
    subscriber = new Cluster(options.clusterNodes, { ...clusterBase, enableOfflineQueue: true, redisOptions: base });
  } else if (options.url) {
    redis = new Redis(options.url, commandOptions) as ScriptedRedis;
    subscriber = new Redis(options.url, { ...base, enableOfflineQueue: true });
  } else {
    throw new AppError('INTERNAL', 'createRedisStore needs a url or clusterNodes');
  }
  // Failures surface as STORE_UNAVAILABLE on the commands; unhandled 'error' events would be fatal.
  redis.on('error', () => {});
  subscriber.on('error', () => {});
  redis.defineCommand('createConversation', { numberOfKeys: 2, lua: CREATE_CONVERSATION });
  redis.defineCommand('appendEvents', { numberOfKeys: 7, lua: APPEND_EVENTS });
  redis.defineCommand('saveAgent', { numberOfKeys: 2, lua: SAVE_AGENT });
  try {
    await Promise.all([redis.connect(), subscriber.connect()]);
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    throw unavailable(error);
  }

  const listeners = new Map<string, Set<(message: string) => void>>();
  subscriber.on('message', (channel: string, message: string) => {
    for (const listener of listeners.get(channel) ?? []) listener(message);
  });
  // Registered after the first connect, so every 'ready' from here on is a reconnect: anything
  // published meanwhile is gone, so every events listener is told to re-read.
  subscriber.on('ready', () => {
    for (const [channel, set] of listeners) {
      if (!channel.startsWith(`${keys.prefix}:events:`)) continue;
      for (const listener of set) listener(RESYNC);
    }
  });

  async function listen(channel: string, listener: (message: string) => void) {
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
  }

  function parseConversation(hash: Record<string, string>, conversationId: string) {
    const parsed = conversationRecordSchema.safeParse({
      ...hash,
      v: Number(hash.v),
      lastSeq: Number(hash.lastSeq),
      context: hash.context ? JSON.parse(hash.context) : undefined,
      agentId: hash.agentId ?? null,
      handoff: hash.handoff ? JSON.parse(hash.handoff) : null,
    });
    if (!parsed.success) throw new AppError('INTERNAL', `conversation ${conversationId} is stored in an unknown shape`);
    return parsed.data;
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
      const reply = await call(() =>
        redis.createConversation(
          keys.conversation(record.id),
          keys.events(record.id),
          events.length,
          keys.eventsChannel(record.id),
          ...events.map((e) => JSON.stringify(e)),
          ...fields,
        ),
      );
      if (reply === -1) throw new AppError('INTERNAL', `conversation ${record.id} already exists`);
      return events.map((event, i) => ({ ...event, seq: i + 1 }) as ConversationEvent);
    },

    async getConversation(conversationId) {
      const hash = await call(() => redis.hgetall(keys.conversation(conversationId)));
      return hash.id ? parseConversation(hash, conversationId) : null;
    },

    async append(request: AppendRequest) {
      const id = request.conversationId;
      const first = request.events[0];
      const patch = request.patch ?? {};
      const set: string[] = [];
      const remove: string[] = [];
      if (patch.state !== undefined) set.push('state', patch.state);
      if (patch.language !== undefined) set.push('language', patch.language);
      if (patch.context !== undefined) set.push('context', JSON.stringify(patch.context));
      if (patch.agentId !== undefined) (patch.agentId === null ? remove.push('agentId') : set.push('agentId', patch.agentId));
      if (patch.handoff !== undefined) (patch.handoff === null ? remove.push('handoff') : set.push('handoff', JSON.stringify(patch.handoff)));
      const control = {
        d: request.dedupeKey ?? '',
        dm: first && first.type === 'message.new' ? first.messageId : '',
        s: (request.expectStates ?? []).join(','),
        ...(request.expectAgentId === undefined ? {} : { a: request.expectAgentId ?? '' }),
        u: request.updatedAt,
        qr: request.queue?.remove === undefined ? 0 : 1,
        ...(request.queue?.add ? { qa: String(request.queue.add.score) } : {}),
        cr: request.agentChats?.remove === undefined ? 0 : 1,
        ...(request.agentChats?.add ? { ca: request.agentChats.add.capacity } : {}),
        m: id,
        f: set,
        x: remove,
        p: keys.eventsChannel(id),
      };
      const conversationKey = keys.conversation(id);
      const reply = await call(() =>
        redis.appendEvents(
          conversationKey,
          keys.events(id),
          keys.dedupe(id),
          request.queue?.remove !== undefined ? keys.queue(request.queue.remove) : conversationKey,
          request.queue?.add ? keys.queue(request.queue.add.queue) : conversationKey,
          request.agentChats?.remove !== undefined ? keys.agentChats(request.agentChats.remove) : conversationKey,
          request.agentChats?.add ? keys.agentChats(request.agentChats.add.agentId) : conversationKey,
          JSON.stringify(control),
          ...request.events.map((e) => JSON.stringify(e)),
        ),
      );
      return toAppendResult(reply, request.events);
    },

    async readEvents(conversationId, afterSeq, limit = DEFAULT_READ_LIMIT) {
      const items = await call(() => redis.lrange(keys.events(conversationId), afterSeq, afterSeq + limit - 1));
      return items.map((json, i) => zm.parse(conversationEventSchema, { ...JSON.parse(json), seq: afterSeq + i + 1 }));
    },

    subscribe(conversationId, listener: EventsListener) {
      return listen(keys.eventsChannel(conversationId), (message) => {
        if (message === RESYNC) return listener([]);
        let events: ConversationEvent[];
        try {
          const published = publishedEventsSchema.parse(JSON.parse(message));
          events = published.events.map((event, i) => zm.parse(conversationEventSchema, { ...event, seq: published.first + i }));
        } catch {
          return; // a malformed notification is ignored; subscribers re-read the store on gaps
        }
        listener(events);
      });
    },

    async queueMembers(queue, limit = 1000) {
      const flat = await call(() => redis.zrange(keys.queue(queue), 0, limit - 1, 'WITHSCORES'));
      const members: { conversationId: string; score: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) members.push({ conversationId: flat[i] ?? '', score: Number(flat[i + 1]) });
      return members;
    },
    async queuePosition(queue, conversationId) {
      const rank = await call(() => redis.zrank(keys.queue(queue), conversationId));
      return rank === null ? null : rank + 1;
    },
    async agentChats(agentId) {
      return (await call(() => redis.smembers(keys.agentChats(agentId)))).sort();
    },
    async recordWait(queue, waitMs) {
      await call(() => redis.multi().lpush(keys.waits(queue), String(Math.round(waitMs))).ltrim(keys.waits(queue), 0, 49).exec());
    },
    async recentWaits(queue, count) {
      return (await call(() => redis.lrange(keys.waits(queue), 0, count - 1))).map(Number).filter(Number.isFinite);
    },

    async saveAgent(account: AgentAccount) {
      const reply = await call(() => redis.saveAgent(keys.agents(), keys.agentEmails(), account.id, account.email, JSON.stringify(account)));
      if (reply === -1) throw new AppError('VALIDATION_FAILED', `An account with e-mail ${account.email} already exists.`);
    },
    async getAgent(agentId) {
      const json = await call(() => redis.hget(keys.agents(), agentId));
      return json ? parseJson(agentAccountSchema, json, `agent ${agentId}`) : null;
    },
    async findAgentByEmail(email) {
      const id = await call(() => redis.hget(keys.agentEmails(), email));
      if (!id) return null;
      const json = await call(() => redis.hget(keys.agents(), id));
      return json ? parseJson(agentAccountSchema, json, `agent ${id}`) : null;
    },
    async listAgents() {
      const all = await call(() => redis.hgetall(keys.agents()));
      return Object.entries(all).map(([id, json]) => parseJson(agentAccountSchema, json, `agent ${id}`)).sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    async createSession(session: Session) {
      const ttl = Math.max(1, Date.parse(session.expiresAt) - Date.now());
      const key = keys.session(session.token);
      await call(() => redis.multi().set(key, JSON.stringify(session), 'PX', ttl).sadd(keys.agentSessions(session.agentId), key).exec());
    },
    async getSession(token) {
      const json = await call(() => redis.get(keys.session(token)));
      return json ? parseJson(sessionSchema, json, 'session') : null;
    },
    async deleteSession(token) {
      await call(() => redis.del(keys.session(token)));
    },
    async setPresence(presence: Presence) {
      await call(() => redis.hset(keys.presence(), presence.agentId, JSON.stringify(presence)));
    },
    async listPresence() {
      const all = await call(() => redis.hgetall(keys.presence()));
      return Object.values(all).map((json) => parseJson(presenceSchema, json, 'presence'));
    },

    async addItem(item: StoredItem) {
      await call(() => redis.lpush(keys.items(item.kind), JSON.stringify(item)));
    },
    async listItems(kind, limit = 200) {
      const items = await call(() => redis.lrange(keys.items(kind), 0, limit - 1));
      return items.map((json) => parseJson(itemSchema, json, 'item'));
    },

    async saveSurvey(record) {
      const created = await call(() => redis.set(keys.survey(record.conversationId), JSON.stringify(record), 'NX'));
      // Indexed whether or not this call created it, so a crash between the two steps heals on the next call.
      await call(() => redis.zadd(keys.surveys(), 'NX', Date.parse(record.endedAt), record.conversationId));
      return created === 'OK';
    },
    async getSurvey(conversationId) {
      const [base, answer] = await call(() => redis.mget(keys.survey(conversationId), keys.surveyAnswer(conversationId)));
      if (!base) return null;
      const record = parseJson(surveyRecordSchema, base, 'survey');
      return answer ? { ...record, ...parseJson(surveyAnswerSchema, answer, 'survey answer') } : record;
    },
    async answerSurvey(conversationId, answer) {
      const exists = await call(() => redis.exists(keys.survey(conversationId)));
      if (!exists) return false;
      // SET NX: the first answer wins, a resend changes nothing.
      return (await call(() => redis.set(keys.surveyAnswer(conversationId), JSON.stringify(answer), 'NX'))) === 'OK';
    },
    async listSurveys() {
      const ids = await call(() => redis.zrange(keys.surveys(), 0, -1));
      const surveys = [];
      for (let i = 0; i < ids.length; i += 200) {
        const chunk = ids.slice(i, i + 200);
        const values = await call(() => redis.mget(...chunk.flatMap((id) => [keys.survey(id), keys.surveyAnswer(id)])));
        for (let j = 0; j < chunk.length; j++) {
          const base = values[2 * j];
          const answer = values[2 * j + 1];
          if (!base) continue;
          const record = parseJson(surveyRecordSchema, base, 'survey');
          surveys.push(answer ? { ...record, ...parseJson(surveyAnswerSchema, answer, 'survey answer') } : record);
        }
      }
      return surveys;
    },

    async putRecord(kind, id, data) {
      await call(() => redis.hset(keys.records(kind), id, JSON.stringify(data)));
    },
    async getRecord(kind, id) {
      const json = await call(() => redis.hget(keys.records(kind), id));
      return json ? parseJson(recordDataSchema, json, `${kind} ${id}`) : null;
    },
    async listRecords(kind) {
      const all = await call(() => redis.hgetall(keys.records(kind)));
      return Object.entries(all)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([id, json]) => ({ id, data: parseJson(recordDataSchema, json, `${kind} ${id}`) }));
    },
    async saveModel(version, bytes) {
      await call(() => redis.set(keys.model(version), bytes));
    },
    async getModel(version) {
      return call(() => redis.getBuffer(keys.model(version)));
    },

    async hitCounter(key, windowMs) {
      const counter = keys.counter(key);
      const replies = await call(() => redis.multi().incr(counter).pexpire(counter, windowMs, 'NX').pttl(counter).exec());
      const count = Number(replies?.[0]?.[1] ?? 0);
      const ttl = Number(replies?.[2]?.[1] ?? windowMs);
      return { count, resetInMs: ttl > 0 ? ttl : windowMs };
    },
    async readCounter(key) {
      const counter = keys.counter(key);
      const replies = await call(() => redis.multi().get(counter).pttl(counter).exec());
      const count = Number(replies?.[0]?.[1] ?? 0);
      const ttl = Number(replies?.[1]?.[1] ?? 0);
      return { count: Number.isFinite(count) ? count : 0, resetInMs: ttl > 0 ? ttl : 0 };
    },
    async resetCounter(key) {
      await call(() => redis.del(keys.counter(key)));
    },
    async markClosed(conversationId, closedAtMs) {
      await call(() => redis.zadd(keys.closed(), closedAtMs, conversationId));
    },
    async closedBefore(cutoffMs, limit) {
      return call(() => redis.zrangebyscore(keys.closed(), '-inf', `(${cutoffMs}`, 'LIMIT', 0, limit));
    },
    async deleteConversation(conversationId) {
      const hash = await call(() => redis.hgetall(keys.conversation(conversationId)));
      const handoff = hash.handoff ? (JSON.parse(hash.handoff) as { queue?: string }) : null;
      const multi = redis
        .multi()
        .del(keys.conversation(conversationId), keys.events(conversationId), keys.dedupe(conversationId))
        .zrem(keys.closed(), conversationId);
      if (handoff?.queue) multi.zrem(keys.queue(handoff.queue), conversationId);
      if (hash.agentId) multi.srem(keys.agentChats(hash.agentId), conversationId);
      await call(() => multi.exec());
      // The survey's figures stay for aggregated CSAT; its free text goes.
      const answer = await call(() => redis.get(keys.surveyAnswer(conversationId)));
      if (answer) await call(() => redis.set(keys.surveyAnswer(conversationId), JSON.stringify({ ...JSON.parse(answer), comment: null })));
    },
    async removeItems(kind, ids) {
      const drop = new Set(ids);
      const all = await call(() => redis.lrange(keys.items(kind), 0, -1));
      for (const json of all) {
        const item = parseJson(itemSchema, json, 'item');
        if (drop.has(item.id)) await call(() => redis.lrem(keys.items(kind), 0, json));
      }
    },
    async removeRecords(kind, ids) {
      if (ids.length > 0) await call(() => redis.hdel(keys.records(kind), ...ids));
    },
    async deleteSessionsOf(agentId) {
      const sessionKeys = await call(() => redis.smembers(keys.agentSessions(agentId)));
      if (sessionKeys.length > 0) await call(() => redis.del(...sessionKeys));
      await call(() => redis.del(keys.agentSessions(agentId)));
      return sessionKeys.length;
    },

    async publish(channel, message) {
      await call(() => redis.publish(keys.signalChannel(channel), JSON.stringify(message)));
    },
    subscribeChannel(channel, listener: MessageListener) {
      return listen(keys.signalChannel(channel), (message) => {
        try {
          listener(JSON.parse(message));
        } catch {
          // not JSON: ignored
        }
      });
    },

    async ping() {
      await call(() => redis.ping());
    },

    async close() {
      listeners.clear();
      await Promise.allSettled([redis.quit(), subscriber.quit()]);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
