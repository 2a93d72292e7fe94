import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../bench/private-redis.js';
import { startServerProcess, type ServerProcess } from '../bench/server-process.js';
import type { ChatStore } from '../server/store/chat-store.js';
import { createRedisStore } from '../server/store/redis-store.js';
import type { ConversationEvent } from '../server/transport/protocol.js';
import { TestAgent, signedInAgent } from './support/agent-client.js';
import { agentEvents, type Cleanup, matchProblems, messageEvents, readAll, receivedProblems, runCleanups, sequenceProblems, sleep, storedProblems, until, WidgetListener } from './support/faults.js';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const NODE_ENV_VARS = {
  HANDOFF_SWEEP_MS: '100',
  WIDGET_MESSAGES_PER_SECOND: '200',
  WIDGET_MESSAGE_BURST: '200',
  LOG_LEVEL: 'fatal',
};

describe('a node is killed (SIGKILL) mid-conversation', () => {
  it('listeners and the agent move to the other node and nothing acknowledged is lost or doubled', async () => {
    // A fresh private Redis: main.ts always uses namespace 'support' and tenant 'default'.
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const env = { REDIS_URL: redis.url, ...NODE_ENV_VARS };
    const [nodeA, nodeB] = (await Promise.all([startServerProcess(env), startServerProcess(env)])) as [ServerProcess, ServerProcess];
    // ServerProcess.stop() waits for an 'exit' that already happened when the child died by a signal
    // (it checks exitCode only, which stays null after SIGKILL), so a killed node is not stopped again.
    const stopUnlessDead = (node: ServerProcess) => () => (node.child.exitCode === null && node.child.signalCode === null ? node.stop() : undefined);
    cleanups.push(stopUnlessDead(nodeA), stopUnlessDead(nodeB));
    const store: ChatStore = await createRedisStore({ url: redis.url, namespace: 'support', tenant: 'default' });
    cleanups.push(() => store.close());

    // The agent account lives in Redis; the session (cookie) is valid on both nodes.
    const { cookie } = await signedInAgent(nodeA.url, store, { displayName: 'Alex', capacity: 3 });
    const agentA = await TestAgent.connect(nodeA.url, cookie);
    cleanups.push(() => agentA.close());
    await agentA.waitFor('agent.ready');

    const listeners = ['with-agent', 'bot-1', 'reloads'].map((name) => new WidgetListener(nodeA.wsUrl, name));
    cleanups.push(() => listeners.forEach((l) => l.close()));
    for (const l of listeners) l.open();
    await Promise.all(listeners.map((l) => l.ready()));
    const [withAgent, botListener, reloads] = listeners as [WidgetListener, WidgetListener, WidgetListener];
    const conversationId = withAgent.conversationId!;

    withAgent.send('I want to talk to a human');
    await agentA.waitFor('chat.assigned', (p) => p.chat.conversationId === conversationId, 10_000);
    await until('the listener sees the agent join', () => withAgent.events.some((e) => e.type === 'conversation.state' && e.to === 'assigned'));
    expect(await agentA.request('chat.send', { conversationId, clientId: 'ag-1', text: 'Hi, Alex here.' })).toMatchObject({ ok: true });
    for (let i = 1; i <= 3; i++) for (const l of listeners) l.send(`before ${i}: my playlist vanished`);
    await Promise.all(listeners.map((l) => l.allAcked()));

    // A burst is in flight when node A dies: some stored and acknowledged, some stored but not
    // acknowledged, some not even read. The load balancer sends every reconnection to node B.
    for (const l of listeners) l.routeTo(nodeB.wsUrl);
    const readiesOnA = new Map(listeners.map((l) => [l, l.readies.length]));
    const burst = Array.from({ length: 6 }, (_, i) => listeners.map((l) => ({ l, text: `burst ${i + 1}: still there?` }))).flat();
    const sending = (async () => {
      for (const { l, text } of burst) {
        l.send(text);
        await sleep(2);
      }
    })();
    await sleep(12);
    nodeA.child.kill('SIGKILL');
    await sending;
    await new Promise<void>((resolve) => (nodeA.child.exitCode !== null || nodeA.child.signalCode !== null ? resolve() : nodeA.child.once('exit', () => resolve())));
    const ackedOnA = new Map(listeners.map((l) => [l, [...l.acked]]));

    // "reloads" is a page reload onto node B: a new ChatConnection on the same storage (outbox, token).
    reloads.open();

    // The agent console reconnects to node B with the same session and keeps its chat.
    const agentB = await TestAgent.connect(nodeB.url, cookie);
    cleanups.push(() => agentB.close());
    const ready = await agentB.waitFor('agent.ready');
    expect(ready.chats.map((c) => c.conversationId)).toContain(conversationId);

    await Promise.all(listeners.map((l) => l.ready(readiesOnA.get(l))));
    await Promise.all(listeners.map((l) => l.allAcked(15_000)));
    for (const l of listeners) {
      expect(l.sockets.at(-1)?.url, `${l.name} reconnected to node B`).toBe(nodeB.wsUrl);
      expect(l.readies.at(-1)?.conversationId).toBe(l.conversationId);
      expect(l.readies.at(-1)?.resumed).toBe(true);
    }
    // What node A acknowledged before dying is still acknowledged and stored once.
    for (const [l, ids] of ackedOnA) expect(ids.every((id) => l.isAcked(id))).toBe(true);

    // After the move: more messages both ways, through node B.
    for (let i = 1; i <= 2; i++) for (const l of listeners) l.send(`after ${i}: it is back, thanks`);
    expect(await agentB.request('chat.send', { conversationId, clientId: 'ag-2', text: 'Welcome back.' })).toMatchObject({ ok: true });
    await Promise.all(listeners.map((l) => l.allAcked()));

    for (const l of listeners) {
      const id = l.conversationId!;
      await until(`${l.name} caught up with the store`, async () => l.events.length >= (await readAll(store, id)).length, 8000).catch(() => {});
      const stored = await readAll(store, id);
      expect(storedProblems(l, stored), `${l.name} stored`).toEqual([]);
      // The routed widget resumed from its last sequence: one stream with no gap across both nodes.
      const stream = l === reloads ? l.events : l.sessions.flat();
      expect(sequenceProblems(`${l.name} received`, stream, 1)).toEqual([]);
      expect(matchProblems(`${l.name} received`, stream, stored)).toEqual([]);
      expect(stream.length, `${l.name}: received every stored event`).toBe(stored.length);
    }
    expect(reloads.sessions).toHaveLength(2);

    // The agent: the transcript on B has every acknowledged listener message once, in order,
    // and what arrives after the move arrives once, in order.
    const opened = await agentB.request('chat.open', { conversationId });
    expect(opened.ok).toBe(true);
    const transcript = (opened as unknown as { events: ConversationEvent[] }).events;
    const stored = await readAll(store, conversationId);
    expect(sequenceProblems('agent transcript', transcript, 1)).toEqual([]);
    expect(receivedProblems('agent transcript', withAgent, transcript, withAgent.acked)).toEqual([]);
    const afterMove = withAgent.sent.filter((m) => m.text.startsWith('after')).map((m) => m.clientId);
    await until('the agent on B received the messages sent after the move', () => receivedProblems('agent on B', withAgent, agentEvents(agentB, conversationId), afterMove).length === 0, 8000).catch(() => {});
    const onB = agentEvents(agentB, conversationId);
    expect(receivedProblems('agent on B', withAgent, onB, afterMove)).toEqual([]);
    expect(sequenceProblems('agent on B chat.event', onB)).toEqual([]);
    expect(matchProblems('agent on B chat.event', onB, stored)).toEqual([]);
    // What agent A saw before the kill was in order too.
    expect(sequenceProblems('agent on A chat.event', agentEvents(agentA, conversationId))).toEqual([]);
    expect(messageEvents(stored, 'agent').map((m) => m.clientId)).toEqual(['ag-1', 'ag-2']);
    expect((await store.getConversation(conversationId))?.agentId).toBe(ready.agent.id);
    expect(botListener.errors.filter((e) => e.code === 'INTERNAL')).toEqual([]);
    expect(nodeB.child.exitCode).toBeNull();
  }, 60_000);
});
