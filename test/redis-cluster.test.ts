import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStore, NewEvent } from '../server/store/chat-store.js';
import { createRedisKeys } from '../server/store/redis-keys.js';
import { createRedisStore } from '../server/store/redis-store.js';
import { CONVERSATION_SCHEMA_VERSION } from '../server/domain/conversation.js';
import { emptyBotContext } from '../bot/bot-context.js';
import { newId } from '../server/domain/ids.js';
import type { ConversationEvent } from '../server/transport/protocol.js';
import { uniqueNamespace } from './support/harness.js';
import { keysByNode, keySlots, readAll, sleep, startRedisCluster, until, type RedisCluster } from './support/faults.js';

async function clusterStore(options: { clusterNodes: { host: string; port: number }[]; namespace: string; tenant: string }): Promise<ChatStore> {
  return createRedisStore(options);
}

/** Every key and channel name the key builder makes for one tenant. */
function allKeyNames(namespace: string, tenant: string): string[] {
  const keys = createRedisKeys(namespace, tenant);
  const conv = 'conv_abcdefgh1234';
  return [
    keys.conversation(conv),
    keys.events(conv),
    keys.dedupe(conv),
    keys.eventsChannel(conv),
    keys.queue('en'),
    keys.queue('es'),
    keys.agentChats('agt_xyz12345'),
    keys.waits('en'),
    keys.agents(),
    keys.agentEmails(),
    keys.session('some-session-token'),
    keys.presence(),
    keys.items('left_message'),
    keys.items('feedback'),
    keys.signalChannel('queue:en'),
    keys.survey(conv),
    keys.surveyAnswer(conv),
    keys.surveys(),
  ];
}

function record(id: string) {
  const at = new Date().toISOString();
  return { v: CONVERSATION_SCHEMA_VERSION, id, createdAt: at, updatedAt: at, state: 'bot' as const, language: 'en' as const, context: emptyBotContext() };
}

function listenerMessage(text: string, clientId: string): NewEvent {
  return { type: 'message.new', at: new Date().toISOString(), messageId: newId('msg'), author: 'listener', text, clientId };
}

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('a Redis Cluster of three primaries', () => {
  it('puts every key and channel of one tenant in one slot, and another tenant in another slot', async () => {
    const namespace = uniqueNamespace('cluster');
    const first = await keySlots(cluster.nodes[0]!, allKeyNames(namespace, 'default'));
    const second = await keySlots(cluster.nodes[0]!, allKeyNames(namespace, 'other-site'));
    const firstSlots = new Set(first.values());
    const secondSlots = new Set(second.values());
    expect([...firstSlots], JSON.stringify(Object.fromEntries(first))).toHaveLength(1);
    expect([...secondSlots], JSON.stringify(Object.fromEntries(second))).toHaveLength(1);
    // The slot depends on the tag only (CRC16 of the tenant), so this holds for every namespace.
    expect([...secondSlots][0]).not.toBe([...firstSlots][0]);
  });

  it('runs the store contract operations (Lua append, dedupe, queue claim, pub/sub) on the cluster, each tenant in its own slot', async () => {
    const namespace = uniqueNamespace('cluster');
    const nodes = cluster.nodes.map((n) => ({ host: n.host, port: n.port }));
    const stores: ChatStore[] = [];
    try {
      const a = await clusterStore({ clusterNodes: nodes, namespace, tenant: 'default' });
      stores.push(a);
      const b = await clusterStore({ clusterNodes: nodes, namespace, tenant: 'default' });
      stores.push(b);
      const other = await clusterStore({ clusterNodes: nodes, namespace, tenant: 'other-site' });
      stores.push(other);

      // create
      const id = newId('conv');
      const created = await a.createConversation(record(id), [{ type: 'conversation.state', at: new Date().toISOString(), from: null, to: 'bot', reason: 'started' }]);
      expect(created.map((e) => e.seq)).toEqual([1]);

      // subscribe on one instance, append on the other
      const heard: ConversationEvent[] = [];
      const unsubscribe = await b.subscribe(id, (events) => heard.push(...events));
      const appended = await a.append({ conversationId: id, events: [listenerMessage('hello', 'c1')], dedupeKey: 'c1', expectStates: ['bot'], updatedAt: new Date().toISOString() });
      expect(appended).toMatchObject({ status: 'appended', lastSeq: 2 });
      // append with dedupe: a resend is not stored again
      const again = await b.append({ conversationId: id, events: [listenerMessage('hello', 'c1')], dedupeKey: 'c1', expectStates: ['bot'], updatedAt: new Date().toISOString() });
      expect(again).toMatchObject({ status: 'duplicate', seq: 2 });
      await until('the append notification reached the other instance', () => heard.some((e) => e.seq === 2), 5000);
      await unsubscribe();

      // queue: hand off (join the queue), then claim (leave it, join the agent's chats, guard capacity)
      const enqueue = await a.append({
        conversationId: id,
        events: [{ type: 'conversation.state', at: new Date().toISOString(), from: 'bot', to: 'queued', reason: 'handoff:requested' }],
        expectStates: ['bot'],
        patch: { state: 'queued' },
        queue: { add: { queue: 'en', score: 1000 } },
        updatedAt: new Date().toISOString(),
      });
      expect(enqueue.status).toBe('appended');
      expect(await b.queueMembers('en')).toEqual([{ conversationId: id, score: 1000 }]);
      const claim = (agentId: string, store: ChatStore) =>
        store.append({
          conversationId: id,
          events: [{ type: 'conversation.state', at: new Date().toISOString(), from: 'queued', to: 'assigned', reason: 'claimed', agentName: 'Robin', agentId }],
          expectStates: ['queued'],
          expectAgentId: null,
          patch: { state: 'assigned', agentId },
          queue: { remove: 'en' },
          agentChats: { add: { agentId, capacity: 2 } },
          updatedAt: new Date().toISOString(),
        });
      const results = await Promise.all([claim('agt_one12345', a), claim('agt_two12345', b)]);
      expect(results.filter((r) => r.status === 'appended')).toHaveLength(1);
      const winner = results[0]?.status === 'appended' ? 'agt_one12345' : 'agt_two12345';
      expect(await a.queueMembers('en')).toEqual([]);
      expect(await b.agentChats(winner)).toEqual([id]);
      expect((await a.getConversation(id))?.agentId).toBe(winner);

      // read
      const events = await readAll(b, id);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(events.filter((e) => e.type === 'message.new' && e.clientId === 'c1')).toHaveLength(1);

      // publish / subscribe of signals across instances
      const signals: unknown[] = [];
      const stopSignals = await b.subscribeChannel('queue:en', (message) => signals.push(message));
      await sleep(50);
      await a.publish('queue:en', { type: 'changed' });
      await until('the signal reached the other instance', () => signals.length > 0, 5000);
      await stopSignals();

      // a second tenant: its own conversation, in its own slot
      const otherId = newId('conv');
      await other.createConversation(record(otherId), [{ type: 'conversation.state', at: new Date().toISOString(), from: null, to: 'bot', reason: 'started' }]);
      expect(await other.append({ conversationId: otherId, events: [listenerMessage('hola', 'x1')], dedupeKey: 'x1', updatedAt: new Date().toISOString() })).toMatchObject({ status: 'appended' });
      expect(await other.getConversation(id)).toBeNull(); // tenants do not see each other

      const written = [...(await keysByNode(cluster.nodes, `${namespace}:*`)).values()].flat();
      const slots = await keySlots(cluster.nodes[0]!, written);
      const slotOf = (tenant: string) => new Set(written.filter((k) => k.includes(`{${tenant}}`)).map((k) => slots.get(k)));
      expect(written.length).toBeGreaterThan(4);
      expect([...slotOf('default')]).toHaveLength(1);
      expect([...slotOf('other-site')]).toHaveLength(1);
      expect([...slotOf('default')][0]).not.toBe([...slotOf('other-site')][0]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
