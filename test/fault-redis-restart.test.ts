import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../bench/private-redis.js';
import { startServerProcess, type ServerProcess } from '../bench/server-process.js';
import type { ChatStore } from '../server/store/chat-store.js';
import { Redis } from 'ioredis';
import { createRedisStore } from '../server/store/redis-store.js';
import { TestAgent, signedInAgent } from './support/agent-client.js';
import { agentEvents, type Cleanup, matchProblems, messageEvents, readAll, receivedProblems, runCleanups, sequenceProblems, sleep, storedProblems, until, WidgetListener } from './support/faults.js';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

async function readyz(url: string): Promise<{ status: number; code?: string }> {
  try {
    const response = await fetch(`${url}/readyz`);
    const body = (await response.json()) as { code?: string };
    return { status: response.status, ...(body.code ? { code: body.code } : {}) };
  } catch {
    return { status: 0 };
  }
}

describe('Redis stops and restarts (AOF) under live chats', () => {
  it('refuses with STORE_UNAVAILABLE while down, then delivers every acknowledged message exactly once, in order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'redis-aof-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let redis: PrivateRedis = await startPrivateRedis({ appendOnly: true, dir });
    cleanups.push(() => redis.stop());
    const port = redis.port;

    // The server is its own process, so "no crash" is its exit code. main.ts uses namespace 'support', tenant 'default'.
    const node: ServerProcess = await startServerProcess({
      REDIS_URL: redis.url,
      HANDOFF_SWEEP_MS: '100',
      WIDGET_MESSAGES_PER_SECOND: '200',
      WIDGET_MESSAGE_BURST: '200',
      LOG_LEVEL: 'fatal',
    });
    cleanups.push(() => node.stop());
    const store: ChatStore = await createRedisStore({ url: redis.url, namespace: 'support', tenant: 'default' });
    cleanups.push(() => store.close());

    const { cookie } = await signedInAgent(node.url, store, { displayName: 'Sam', capacity: 3 });
    const agent = await TestAgent.connect(node.url, cookie);
    cleanups.push(() => agent.close());
    await agent.waitFor('agent.ready');

    const listeners = ['with-agent', 'bot-1', 'bot-2'].map((name) => new WidgetListener(node.wsUrl, name));
    cleanups.push(() => listeners.forEach((l) => l.close()));
    for (const l of listeners) l.open();
    await Promise.all(listeners.map((l) => l.ready()));
    const [withAgent, ...withBot] = listeners as [WidgetListener, ...WidgetListener[]];
    const conversationId = withAgent.conversationId!;

    withAgent.send('I want to talk to a human');
    await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === conversationId, 10_000);
    await until('the listener sees the agent join', () => withAgent.events.some((e) => e.type === 'conversation.state' && e.to === 'assigned'));

    const agentSent: { clientId: string; text: string }[] = [];
    async function agentSend(clientId: string, text: string) {
      agentSent.push({ clientId, text });
      return agent.request('chat.send', { conversationId, clientId, text });
    }

    // Before the outage.
    for (let i = 1; i <= 3; i++) {
      withAgent.send(`before ${i}: my payment failed`);
      for (const l of withBot) l.send(`before ${i}: how do I get a receipt`);
    }
    expect(await agentSend('ag-1', 'Hi, I am looking at your payment.')).toMatchObject({ ok: true });
    await Promise.all(listeners.map((l) => l.allAcked()));

    // Redis goes away.
    await redis.stop();
    await until('/readyz answers 503 STORE_UNAVAILABLE', async () => {
      const r = await readyz(node.url);
      return r.status === 503 && r.code === 'STORE_UNAVAILABLE';
    });
    const duringOutage = new Map<WidgetListener, string[]>();
    for (let i = 1; i <= 2; i++) for (const l of listeners) duringOutage.set(l, [...(duringOutage.get(l) ?? []), l.send(`during ${i}: are you still there?`)]);
    for (const [l, ids] of duringOutage) {
      await until(`${l.name} gets STORE_UNAVAILABLE for its messages`, () => ids.every((id) => l.errors.some((e) => e.code === 'STORE_UNAVAILABLE' && e.clientId === id)));
      expect(ids.filter((id) => l.isAcked(id)), `${l.name}: nothing is acknowledged while Redis is down`).toEqual([]);
      expect(l.pending).toEqual(expect.arrayContaining(ids));
    }
    const refused = await agentSend('ag-2', 'One moment please, checking.');
    expect(refused).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE' });
    await sleep(2500); // long enough for the widgets' resends to be refused again
    for (const [l, ids] of duringOutage) expect(ids.filter((id) => l.isAcked(id))).toEqual([]);
    expect(node.child.exitCode, 'the server process is still running').toBeNull();
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);

    // Redis comes back on the same port and dir: the AOF brings the data back.
    redis = await startPrivateRedis({ appendOnly: true, port, dir });
    await until('/readyz is ready again', async () => (await readyz(node.url)).status === 200, 15_000);
    // The widgets resend what was refused, with the same clientIds; the agent resends its message.
    await Promise.all(listeners.map((l) => l.allAcked(15_000)));
    await until('the agent resend is accepted', async () => (await agent.request('chat.send', { conversationId, clientId: 'ag-2', text: 'One moment please, checking.' })).ok === true, 10_000);

    // Every acknowledged message (before and after the outage) has reached the other side
    // now, without waiting for some later message to reveal a gap.
    for (const l of listeners) {
      const id = l.conversationId!;
      const stored = await readAll(store, id);
      expect(storedProblems(l, stored), `${l.name} stored`).toEqual([]);
      await until(`${l.name} has received every stored event after the restart`, async () => l.events.length >= (await readAll(store, id)).length, 8000).catch(() => {});
      const storedNow = await readAll(store, id);
      expect(sequenceProblems(`${l.name} received`, l.events, 1), `${l.name}: events received after the restart`).toEqual([]);
      expect(l.events.map((e) => e.seq), `${l.name}: received every stored event`).toEqual(storedNow.map((e) => e.seq));
    }
    // The first message (asking for a person) came before the agent joined; the agent's feed starts at the assignment.
    const acceptedBeforeMore = withAgent.sent.slice(1).map((m) => m.clientId);
    await until('the agent received every acknowledged listener message', () => receivedProblems('agent', withAgent, agentEvents(agent, conversationId), acceptedBeforeMore).length === 0, 8000).catch(() => {});
    expect(receivedProblems('agent', withAgent, agentEvents(agent, conversationId), acceptedBeforeMore)).toEqual([]);

    // After the restart: the conversation goes on both ways.
    for (let i = 1; i <= 2; i++) {
      withAgent.send(`after ${i}: thanks, it works now`);
      for (const l of withBot) l.send(`after ${i}: and how do I cancel?`);
    }
    expect(await agentSend('ag-3', 'Glad to hear it.')).toMatchObject({ ok: true });
    await Promise.all(listeners.map((l) => l.allAcked()));

    for (const l of listeners) {
      const id = l.conversationId!;
      await until(`${l.name} caught up with the store`, async () => l.events.length === (await readAll(store, id)).length, 8000).catch(() => {});
      const stored = await readAll(store, id);
      expect(storedProblems(l, stored), `${l.name} stored`).toEqual([]);
      expect(sequenceProblems(`${l.name} received`, l.events, 1)).toEqual([]);
      expect(matchProblems(`${l.name} received`, l.events, stored)).toEqual([]);
      expect(l.events.length).toBe(stored.length);
    }
    // The agent: every acknowledged listener message once, in order; its own three messages stored once each.
    await until('the agent caught up', () => receivedProblems('agent', withAgent, agentEvents(agent, conversationId), withAgent.sent.slice(1).map((m) => m.clientId)).length === 0, 8000).catch(() => {});
    const atAgent = agentEvents(agent, conversationId);
    const stored = await readAll(store, conversationId);
    expect(receivedProblems('agent', withAgent, atAgent, withAgent.sent.slice(1).map((m) => m.clientId))).toEqual([]);
    expect(sequenceProblems('agent chat.event', atAgent)).toEqual([]);
    expect(matchProblems('agent chat.event', atAgent, stored)).toEqual([]);
    for (const { clientId } of agentSent) expect(messageEvents(stored, 'agent').filter((m) => m.clientId === clientId), clientId).toHaveLength(1);
    expect(messageEvents(withAgent.events, 'agent').map((m) => m.clientId)).toEqual(['ag-1', 'ag-2', 'ag-3']);
    expect(node.child.exitCode).toBeNull();
  }, 60_000);

  it('a widget that (re)connects while Redis is down gets its conversation once Redis is back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'redis-aof-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let redis: PrivateRedis = await startPrivateRedis({ appendOnly: true, dir });
    cleanups.push(() => redis.stop());
    const node = await startServerProcess({ REDIS_URL: redis.url, LOG_LEVEL: 'fatal' });
    cleanups.push(() => node.stop());
    const store = await createRedisStore({ url: redis.url, namespace: 'support', tenant: 'default' });
    cleanups.push(() => store.close());

    const resuming = new WidgetListener(node.wsUrl, 'resuming');
    cleanups.push(() => resuming.close());
    resuming.open();
    await resuming.ready();
    const first = resuming.send('how do I get a receipt');
    await resuming.allAcked();

    await redis.stop();
    await until('/readyz answers 503', async () => (await readyz(node.url)).status === 503);
    // The network drops while Redis is down: the widget reconnects, and its resume is refused.
    resuming.drop();
    const offline = resuming.send('written during the outage');
    await until('the resume is refused with STORE_UNAVAILABLE', () => resuming.errors.some((e) => e.code === 'STORE_UNAVAILABLE' && e.clientId === undefined), 10_000);
    // A listener who opens the widget during the outage: the start is refused the same way.
    const newcomer = new WidgetListener(node.wsUrl, 'newcomer');
    cleanups.push(() => newcomer.close());
    newcomer.open();
    await until('the start is refused with STORE_UNAVAILABLE', () => newcomer.errors.some((e) => e.code === 'STORE_UNAVAILABLE'), 10_000);
    const early = newcomer.send('hello, anyone?');

    redis = await startPrivateRedis({ appendOnly: true, port: redis.port, dir });
    await until('/readyz is ready again', async () => (await readyz(node.url)).status === 200, 15_000);
    // Both widgets get their conversation and send what they kept, without a page reload.
    await until('both widgets have their conversation', () => resuming.readies.length === 2 && newcomer.readies.length === 1, 12_000).catch(() => {});
    // conversation.ready frames: the resuming widget's first plus one after Redis came back; the newcomer's one.
    expect({ resuming: resuming.readies.length, newcomer: newcomer.readies.length }).toEqual({ resuming: 2, newcomer: 1 });
    await resuming.allAcked(10_000);
    await newcomer.allAcked(10_000);
    const stored = await readAll(store, resuming.conversationId!);
    expect(storedProblems(resuming, stored)).toEqual([]);
    expect(resuming.acked).toEqual([first, offline]);
    expect(newcomer.acked).toEqual([early]);
  }, 60_000);

  it('events appended while the subscriber connection reconnects still reach both sides', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const node = await startServerProcess({ REDIS_URL: redis.url, HANDOFF_SWEEP_MS: '100', LOG_LEVEL: 'fatal' });
    cleanups.push(() => node.stop());
    const store = await createRedisStore({ url: redis.url, namespace: 'support', tenant: 'default' });
    cleanups.push(() => store.close());
    const { cookie } = await signedInAgent(node.url, store, { displayName: 'Sam' });
    const agent = await TestAgent.connect(node.url, cookie);
    cleanups.push(() => agent.close());
    await agent.waitFor('agent.ready');
    const listener = new WidgetListener(node.wsUrl, 'with-agent');
    cleanups.push(() => listener.close());
    listener.open();
    await listener.ready();
    const conversationId = listener.conversationId!;
    listener.send('I want to talk to a human');
    await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === conversationId, 10_000);
    await until('the listener sees the agent join', () => listener.events.some((e) => e.type === 'conversation.state' && e.to === 'assigned'));

    // A network blip on the server's subscriber connection (a Redis failover or restart does
    // the same): Redis drops every pub/sub client; ioredis reconnects and resubscribes.
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    cleanups.push(() => void admin.disconnect());
    await admin.client('KILL', 'TYPE', 'pubsub');
    // Right then, both sides write. Then the conversation is quiet.
    const fromListener = listener.send('are you still there?');
    const ack = await agent.request('chat.send', { conversationId, clientId: 'ag-blip', text: 'Yes, still here.' });
    expect(ack).toMatchObject({ ok: true });
    await listener.allAcked();

    await until(
      'each side receives the other side\'s message',
      () => messageEvents(listener.events, 'agent').some((m) => m.clientId === 'ag-blip') && receivedProblems('agent', listener, agentEvents(agent, conversationId), [fromListener]).length === 0,
      10_000,
    ).catch(() => {});
    const stored = await readAll(store, conversationId);
    expect(storedProblems(listener, stored)).toEqual([]);
    // Both messages sent during the blip, at the other side, with nothing sent after them.
    expect({
      atListener: messageEvents(listener.events, 'agent').map((m) => m.clientId),
      atAgent: receivedProblems('agent', listener, agentEvents(agent, conversationId), [fromListener]),
    }).toEqual({ atListener: ['ag-blip'], atAgent: [] });
    expect(sequenceProblems('listener received', listener.events, 1)).toEqual([]);
    expect(listener.events.length).toBe(stored.length);
  }, 40_000);
});
