import { afterEach, describe, expect, it } from 'vitest';
import { emptyBotContext } from '../bot/bot-context.js';
import type { ConversationRecord } from '../server/domain/conversation.js';
import { newId } from '../server/domain/ids.js';
import type { ChatStore, NewEvent } from '../server/store/chat-store.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import type { ConversationEvent } from '../server/transport/protocol.js';
import { redisStore, uniqueNamespace } from './support/harness.js';

/** Two handles onto one store: the same instance in memory, two connections for Redis (as two app nodes). */
interface StoreFactory {
  name: string;
  open(): Promise<{ a: ChatStore; b: ChatStore; reopen(): Promise<ChatStore | null> }>;
}

const factories: StoreFactory[] = [
  {
    name: 'memory',
    async open() {
      const store = createMemoryStore();
      return { a: store, b: store, reopen: async () => null };
    },
  },
  {
    name: 'redis',
    async open() {
      const namespace = uniqueNamespace('contract');
      return { a: await redisStore(namespace), b: await redisStore(namespace), reopen: () => redisStore(namespace) };
    },
  },
];

const at = '2026-01-01T00:00:00.000Z';

function record(): Omit<ConversationRecord, 'lastSeq' | 'agentId' | 'handoff'> {
  return { v: 1, id: newId('conv'), createdAt: at, updatedAt: at, state: 'bot', language: 'en', context: emptyBotContext() };
}

function message(text: string, author: 'listener' | 'bot' = 'listener', clientId?: string): NewEvent {
  return { type: 'message.new', at, messageId: newId('msg'), author, text, ...(clientId ? { clientId } : {}) };
}

describe.each(factories)('ChatStore contract: $name', (factory) => {
  const opened: ChatStore[] = [];
  async function open() {
    const handles = await factory.open();
    opened.push(handles.a, handles.b);
    return handles;
  }
  afterEach(async () => {
    await Promise.all([...new Set(opened.splice(0))].map((store) => store.close()));
  });

  it('creates a conversation numbered from 1 and reads it back', async () => {
    const { a } = await open();
    const conv = record();
    const created = await a.createConversation(conv, [message('hi', 'bot')]);
    expect(created.map((e) => e.seq)).toEqual([1]);
    expect(await a.getConversation(conv.id)).toEqual({ ...conv, lastSeq: 1, agentId: null, handoff: null });
    expect(await a.getConversation('conv_missing123')).toBeNull();
  });

  it('numbers appended events in order and applies the patch', async () => {
    const { a } = await open();
    const conv = record();
    await a.createConversation(conv, [message('welcome', 'bot')]);
    const result = await a.append({ conversationId: conv.id, events: [message('one'), message('two', 'bot')], patch: { state: 'queued', context: { ...emptyBotContext(), notUnderstoodStreak: 2 } }, updatedAt: 'later' });
    expect(result.status).toBe('appended');
    expect(result.status === 'appended' && result.events.map((e) => e.seq)).toEqual([2, 3]);
    const stored = await a.getConversation(conv.id);
    expect(stored).toMatchObject({ state: 'queued', lastSeq: 3, updatedAt: 'later', context: { notUnderstoodStreak: 2 } });
    const events = await a.readEvents(conv.id, 0);
    expect(events.map((e) => (e.type === 'message.new' ? e.text : e.type))).toEqual(['welcome', 'one', 'two']);
    expect((await a.readEvents(conv.id, 2)).map((e) => e.seq)).toEqual([3]);
    expect((await a.readEvents(conv.id, 0, 2)).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('stores a message with a seen dedupe key only once and reports the first copy', async () => {
    const { a, b } = await open();
    const conv = record();
    await a.createConversation(conv, []);
    const first = message('hello', 'listener', 'client-1');
    const one = await a.append({ conversationId: conv.id, events: [first], dedupeKey: 'client-1', updatedAt: at });
    const again = await b.append({ conversationId: conv.id, events: [message('hello', 'listener', 'client-1')], dedupeKey: 'client-1', updatedAt: at });
    expect(one.status).toBe('appended');
    expect(again).toEqual({ status: 'duplicate', seq: 1, messageId: first.type === 'message.new' ? first.messageId : '' });
    expect(await a.readEvents(conv.id, 0)).toHaveLength(1);
  });

  it('refuses an append whose expected state does not hold, writing nothing', async () => {
    const { a } = await open();
    const conv = record();
    await a.createConversation(conv, []);
    await a.append({ conversationId: conv.id, events: [], patch: { state: 'closed' }, updatedAt: at });
    const refused = await a.append({ conversationId: conv.id, events: [message('late')], expectStates: ['bot', 'queued'], dedupeKey: 'k', updatedAt: at });
    expect(refused).toEqual({ status: 'conflict', state: 'closed' });
    expect(await a.readEvents(conv.id, 0)).toHaveLength(0);
    // the refused key was not recorded either
    const retry = await a.append({ conversationId: conv.id, events: [message('late')], dedupeKey: 'k', updatedAt: at });
    expect(retry.status).toBe('appended');
  });

  it('answers not_found for a missing conversation', async () => {
    const { a } = await open();
    expect(await a.append({ conversationId: 'conv_nothere1', events: [message('x')], updatedAt: at })).toEqual({ status: 'not_found' });
    expect(await a.readEvents('conv_nothere1', 0)).toEqual([]);
  });

  it('gives concurrent appends from two handles distinct, gap-free sequence numbers', async () => {
    const { a, b } = await open();
    const conv = record();
    await a.createConversation(conv, []);
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append({ conversationId: conv.id, events: [message(`m${i}`)], dedupeKey: `c${i}`, updatedAt: at })));
    const seqs = (await a.readEvents(conv.id, 0)).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await b.getConversation(conv.id))?.lastSeq).toBe(40);
  });

  it('publishes appended events to subscribers on the other handle, in order', async () => {
    const { a, b } = await open();
    const conv = record();
    await a.createConversation(conv, []);
    const received: ConversationEvent[] = [];
    const unsubscribe = await b.subscribe(conv.id, (events) => received.push(...events));
    await a.append({ conversationId: conv.id, events: [message('one'), message('two', 'bot')], updatedAt: at });
    await a.append({ conversationId: conv.id, events: [message('three')], updatedAt: at });
    await expect.poll(() => received.map((e) => e.seq)).toEqual([1, 2, 3]);
    await unsubscribe();
    await a.append({ conversationId: conv.id, events: [message('four')], updatedAt: at });
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(3);
  });

  it('notifies exactly what it stored, and nothing for a duplicate or a refused append', async () => {
    const { a, b } = await open();
    const conv = record();
    const received: ConversationEvent[] = [];
    const unsubscribe = await b.subscribe(conv.id, (events) => received.push(...events));
    await a.createConversation(conv, [message('welcome', 'bot')]);
    await a.append({ conversationId: conv.id, events: [message('héllo "quoted" \\ text', 'listener', 'c1')], dedupeKey: 'c1', updatedAt: at });
    await a.append({ conversationId: conv.id, events: [message('again', 'listener', 'c1')], dedupeKey: 'c1', updatedAt: at });
    await a.append({ conversationId: conv.id, events: [message('refused')], expectStates: ['closed'], updatedAt: at });
    await a.append({ conversationId: conv.id, events: [message('one'), message('two', 'bot')], updatedAt: at });
    const stored = await a.readEvents(conv.id, 0);
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await expect.poll(() => received.length).toBe(4);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual(stored);
    await unsubscribe();
  });

  it('keeps conversations across a reopen of the store (a server restart) where it persists', async () => {
    const { a, reopen } = await open();
    const conv = record();
    await a.createConversation(conv, [message('welcome', 'bot')]);
    await a.append({ conversationId: conv.id, events: [message('kept', 'listener', 'c1')], dedupeKey: 'c1', updatedAt: at });
    await a.close();
    const again = await reopen();
    if (!again) return; // the memory store lives and dies with its process
    opened.push(again);
    expect((await again.getConversation(conv.id))?.lastSeq).toBe(2);
    expect((await again.readEvents(conv.id, 0)).map((e) => e.type === 'message.new' && e.text)).toEqual(['welcome', 'kept']);
    expect((await again.append({ conversationId: conv.id, events: [message('kept', 'listener', 'c1')], dedupeKey: 'c1', updatedAt: at })).status).toBe('duplicate');
  });

  it('ping succeeds while open', async () => {
    const { a } = await open();
    await expect(a.ping()).resolves.toBeUndefined();
  });
});
