import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgent, signedInAgent } from './support/agent-client.js';
import { type Cleanup, messageEvents, neverReadingClient, readAll, runCleanups, sequenceProblems, storedProblems, until, WidgetListener } from './support/faults.js';
import { startApp, TestClient, type RunningApp } from './support/harness.js';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const FLOOD_MESSAGES = 4000;
const LONG_TEXT = 'This is a long answer about your subscription, step by step. '.repeat(32).slice(0, 1990);

/** The largest send buffer (bytes the server queued but the kernel did not take) among the node's widget sockets. */
function largestSendBuffer(app: RunningApp): number {
  return Math.max(0, ...[...app.app.websocketServer.clients].map((socket) => socket.bufferedAmount));
}

const FAST_FRAMES = { HANDOFF_SWEEP_MS: '100', WIDGET_MESSAGES_PER_SECOND: '1000', WIDGET_MESSAGE_BURST: '1000', WIDGET_FLOOD_LIMIT: '10000' };

/** A node, a signed-in agent, and a listener whose chat that agent has taken. */
async function chatWithAgent(env: Record<string, string>) {
  const app = await startApp({ env: { ...FAST_FRAMES, ...env } });
  cleanups.push(() => app.stop());
  const { cookie } = await signedInAgent(app.url, app.store, { displayName: 'Kim', capacity: 5 });
  const agent = await TestAgent.connect(app.url, cookie);
  cleanups.push(() => agent.close());
  await agent.waitFor('agent.ready');
  const listener = await TestClient.open(app.wsUrl);
  cleanups.push(() => listener.socket.terminate());
  const ready = await listener.start();
  listener.send({ type: 'message.send', clientId: 's-0', text: 'I want to talk to a human' });
  await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === ready.conversationId, 10_000);
  await listener.waitFor('conversation.state', (s) => s.to === 'assigned');
  return { app, agent, listener, ready, port: Number(new URL(app.url).port) };
}

describe('a network-slow client', () => {
  it('does not stall other listeners or the agent: their replies keep arriving', async () => {
    // The limit is set out of reach here: this test is about the backlog itself.
    const { app, agent, listener: slow, ready: slowReady, port } = await chatWithAgent({ WIDGET_SEND_BUFFER_LIMIT_BYTES: String(256 * 1024 * 1024) });

    // The slow listener: a real WebSocket that stops reading once its chat is with the agent.
    const slowTcp = (slow.socket as unknown as { _socket: Socket })._socket;
    slowTcp.pause();
    // And raw clients that resume the same conversation (full replay) and never read after the upgrade.
    const deaf: Socket[] = [];
    cleanups.push(() => deaf.forEach((s) => s.destroy()));
    for (let i = 0; i < 2; i++) deaf.push(await neverReadingClient(port, [JSON.stringify({ type: 'conversation.resume', token: slowReady.token, afterSeq: 0 })]));

    // Other listeners: with the bot, and one with the same agent.
    const others = ['bot-1', 'bot-2', 'bot-3', 'with-agent'].map((name) => new WidgetListener(app.wsUrl, name));
    cleanups.push(() => others.forEach((l) => l.close()));
    for (const l of others) l.open();
    await Promise.all(others.map((l) => l.ready()));
    const withAgent = others[3]!;
    withAgent.send('I want to talk to a human');
    await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === withAgent.conversationId, 10_000);

    // The flood into the slow conversation: the agent writes long messages, the slow client keeps writing too.
    const flood = (async () => {
      for (let i = 0; i < FLOOD_MESSAGES; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) => agent.request('chat.send', { conversationId: slowReady.conversationId, clientId: `f-${i + j}`, text: `${i + j}: ${LONG_TEXT}` })),
        );
        slow.send({ type: 'message.send', clientId: `s-${i + 1}`, text: `still typing ${i}` });
      }
    })();
    await until('the slow client has a backlog on the server', () => largestSendBuffer(app) > 1024 * 1024, 20_000);

    // Meanwhile, everyone else gets their replies.
    const botReplies = new Map(others.map((l) => [l, messageEvents(l.events, 'bot').length]));
    for (let round = 1; round <= 3; round++) {
      for (const l of others.slice(0, 3)) l.send(`round ${round}: how do I download songs for offline listening?`);
      withAgent.send(`round ${round}: are you there?`);
      const ack = await agent.request('chat.send', { conversationId: withAgent.conversationId!, clientId: `w-${round}`, text: `Yes, round ${round}.` });
      expect(ack).toMatchObject({ ok: true });
      await Promise.all(others.map((l) => l.allAcked(10_000)));
      for (const l of others.slice(0, 3)) {
        const before = botReplies.get(l)!;
        await until(`${l.name} gets a bot reply in round ${round}`, () => messageEvents(l.events, 'bot').length > before, 10_000);
        botReplies.set(l, messageEvents(l.events, 'bot').length);
      }
      await until(`with-agent gets the agent's round ${round}`, () => messageEvents(withAgent.events, 'agent').some((m) => m.text === `Yes, round ${round}.`), 10_000);
      await agent.waitFor('chat.event', (e) => e.conversationId === withAgent.conversationId && e.event.type === 'message.new' && e.event.text === `round ${round}: are you there?`, 10_000);
    }
    // The backlog really was there while they were served.
    expect(largestSendBuffer(app)).toBeGreaterThan(1024 * 1024);
    await flood;

    for (const l of others) {
      const stored = await readAll(app.store, l.conversationId!);
      expect(storedProblems(l, stored)).toEqual([]);
      expect(sequenceProblems(`${l.name} received`, l.events, 1)).toEqual([]);
    }
    // When the slow client reads again, it gets everything, once, in order.
    slowTcp.resume();
    const lastSlowId = `s-${FLOOD_MESSAGES - 50 + 1}`;
    await slow.waitFor('message.ack', (a) => a.clientId === lastSlowId, 20_000);
    const slowStored = await readAll(app.store, slowReady.conversationId);
    expect(sequenceProblems('slow stored log', slowStored, 1)).toEqual([]);
    expect(new Set(messageEvents(slowStored, 'agent').map((m) => m.clientId)).size).toBe(FLOOD_MESSAGES);
    await slow.waitFor('message.new', (m) => m.seq === slowStored.at(-1)!.seq, 20_000);
    const slowEvents = slow.frames.filter((f) => f.type === 'message.new' || f.type === 'conversation.state') as unknown as typeof slowStored;
    expect(sequenceProblems('slow client received', slowEvents, 1)).toEqual([]);
    expect(slowEvents.length).toBe(slowStored.length);
  }, 55_000);

  it('is dropped once its unread backlog passes the limit, and resumes with every event once, in order', async () => {
    // 1 MiB: above what a reading client ever leaves queued here, though it shares this process's event loop.
    const { app, agent, listener, ready } = await chatWithAgent({ WIDGET_SEND_BUFFER_LIMIT_BYTES: String(1024 * 1024) });
    // A long conversation (about 6 MB), read as it happens by the listener.
    for (let i = 0; i < 3000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => agent.request('chat.send', { conversationId: ready.conversationId, clientId: `f-${i + j}`, text: `${i + j}: ${LONG_TEXT}` })),
      );
    }
    const stored = await readAll(app.store, ready.conversationId);
    await listener.waitFor('message.new', (m) => m.seq === stored.at(-1)!.seq, 20_000);

    // A client that asks for the whole replay and never reads it: the replay waits for it, then the node
    // cuts it (no progress for 10 s) instead of buffering ~6 MB.
    const before = app.app.websocketServer.clients.size;
    const deaf = await neverReadingClient(Number(new URL(app.url).port), [JSON.stringify({ type: 'conversation.resume', token: ready.token, afterSeq: 0 })]);
    cleanups.push(() => void deaf.destroy());
    await until('the deaf client is dropped', () => app.app.websocketServer.clients.size === before, 20_000);
    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^support_widget_slow_consumers_dropped_total 1$/m);

    // The listener's own connection was never touched, and the agent still reaches it.
    const ack = await agent.request('chat.send', { conversationId: ready.conversationId, clientId: 'after', text: 'Still here.' });
    expect(ack).toMatchObject({ ok: true });
    await listener.waitFor('message.new', (m) => m.text === 'Still here.', 10_000);

    // The dropped reader comes back (as the widget does) and gets the whole conversation once, in order.
    const back = await TestClient.open(app.wsUrl);
    cleanups.push(() => back.socket.terminate());
    back.send({ type: 'conversation.resume', token: ready.token, afterSeq: 0 });
    const all = await readAll(app.store, ready.conversationId);
    await back.waitFor('message.new', (m) => m.seq === all.at(-1)!.seq, 20_000);
    const replayed = back.frames.filter((f) => f.type === 'message.new' || f.type === 'conversation.state') as unknown as typeof all;
    expect(sequenceProblems('replay after the drop', replayed, 1)).toEqual([]);
    expect(replayed.length).toBe(all.length);
  }, 55_000);
});
