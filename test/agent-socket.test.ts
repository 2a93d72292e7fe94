import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent, signedInAgent } from './support/agent-client.js';
import { redisStore, startApp, TestClient, uniqueNamespace, type RunningApp } from './support/harness.js';

let server: RunningApp;
beforeAll(async () => {
  server = await startApp({ env: { HANDOFF_SWEEP_MS: '100' } });
});
afterAll(async () => {
  await server.stop();
});

async function listenerAskingForPerson(app: RunningApp, language: 'en' | 'es' = 'en') {
  const listener = await TestClient.open(app.wsUrl);
  const ready = await listener.start(language);
  listener.send({ type: 'message.send', clientId: 'p1', text: language === 'en' ? 'I want to talk to a human' : 'quiero hablar con una persona' });
  await listener.waitFor('conversation.state', (s) => s.to === 'queued');
  return { listener, conversationId: ready.conversationId };
}

describe('the agent socket', () => {
  it('refuses connections without a session, with a listener token, and from other roles', async () => {
    await expect(TestAgent.connect(server.url)).rejects.toThrow('UNAUTHORIZED');
    await expect(TestAgent.connect(server.url, 'sid=v1.conv_abcdefghijkl.forged')).rejects.toThrow('UNAUTHORIZED');
    const analyst = await signedInAgent(server.url, server.store, { role: 'analyst' });
    await expect(TestAgent.connect(server.url, analyst.cookie)).rejects.toThrow('FORBIDDEN');
  });

  it('refuses a wrong password with INVALID_CREDENTIALS', async () => {
    await signedInAgent(server.url, server.store, { email: 'pat@example.com', password: 'the right password' });
    const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'pat@example.com', password: 'wrong password!' }) });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('upgrades the widget WebSocket and socket.io on the same port', async () => {
    const { cookie } = await signedInAgent(server.url, server.store);
    const agent = await TestAgent.connect(server.url, cookie);
    expect(agent.socket.io.engine.transport.name).toBe('websocket');
    const listener = await TestClient.open(server.wsUrl);
    await listener.start();
    listener.close();
    agent.close();
  });

  it('hands a listener to an online agent: queue position, agent joins, messages both ways, typing, close', async () => {
    const { cookie } = await signedInAgent(server.url, server.store, { displayName: 'Jordan', capacity: 2 });
    const agent = await TestAgent.connect(server.url, cookie);
    await agent.waitFor('agent.ready');
    const { listener, conversationId } = await listenerAskingForPerson(server);
    const assigned = await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === conversationId);
    expect(assigned.chat).toMatchObject({ reason: 'requested', language: 'en', intent: 'meta.human_agent' });
    expect(assigned.chat.summary.join('\n')).toMatch(/talk to a human/);
    const joined = await listener.waitFor('conversation.state', (s) => s.to === 'assigned');
    expect(joined.agentName).toBe('Jordan');

    const opened = await agent.request('chat.open', { conversationId });
    expect(opened.ok).toBe(true);
    const transcript = (opened as unknown as { events: { type: string; author?: string; understanding?: { intent: string } }[] }).events;
    expect(transcript.some((e) => e.author === 'bot' && e.understanding?.intent === 'meta.human_agent')).toBe(true);

    const sent = await agent.request('chat.send', { conversationId, clientId: 'a-1', text: 'Hi, I am Jordan. How can I help?' });
    expect(sent.ok).toBe(true);
    await listener.waitFor('message.new', (m) => m.author === 'agent' && m.text.includes('Jordan'));

    await agent.request('chat.typing', { conversationId, active: true });
    await listener.waitFor('typing.indicator', (t) => t.author === 'agent' && t.active);
    listener.send({ type: 'typing', active: true });
    await agent.waitFor('chat.typing', (t) => t.conversationId === conversationId && t.active);

    listener.send({ type: 'message.send', clientId: 'l-2', text: 'my card was charged twice' });
    const fromListener = await agent.waitFor('chat.event', (e) => e.conversationId === conversationId && e.event.type === 'message.new' && e.event.author === 'listener' && e.event.text === 'my card was charged twice');
    expect(fromListener.event.seq).toBeGreaterThan(0);
    // the bot stays quiet while a person has the chat
    await new Promise((r) => setTimeout(r, 100));
    expect(listener.messages('bot').filter((m) => m.seq > fromListener.event.seq)).toEqual([]);

    const closed = await agent.request('chat.close', { conversationId, resolution: { resolved: true, intent: 'billing.charged_twice', note: 'refunded one' } });
    expect(closed.ok).toBe(true);
    await listener.waitFor('conversation.state', (s) => s.to === 'closed' && s.reason === 'closed_by_agent:resolved');
    await agent.waitFor('chat.removed', (r) => r.conversationId === conversationId);
    listener.close();
    agent.close();
  });

  it('answers NOT_FOUND when an agent acts on a conversation that is not theirs, and VALIDATION_FAILED on bad payloads', async () => {
    const owner = await signedInAgent(server.url, server.store, { capacity: 1 });
    const ownerSocket = await TestAgent.connect(server.url, owner.cookie);
    const { listener, conversationId } = await listenerAskingForPerson(server);
    await ownerSocket.waitFor('chat.assigned', (p) => p.chat.conversationId === conversationId).catch(async () => {
      await ownerSocket.request('chat.claim', { conversationId });
    });
    const other = await signedInAgent(server.url, server.store);
    const otherSocket = await TestAgent.connect(server.url, other.cookie);
    await otherSocket.request('presence.set', { status: 'away' });
    const current = await server.store.getConversation(conversationId);
    const stranger = current?.agentId === owner.id ? otherSocket : ownerSocket;
    for (const attempt of [
      stranger.request('chat.send', { conversationId, clientId: 'x', text: 'not mine' }),
      stranger.request('chat.open', { conversationId }),
      stranger.request('chat.close', { conversationId, resolution: { resolved: false, intent: null } }),
      stranger.request('chat.returnToBot', { conversationId }),
    ]) {
      expect(await attempt).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    }
    expect(await stranger.request('chat.send', { conversationId: 'nope', clientId: 'x', text: 'hi' } as never)).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    listener.close();
    ownerSocket.close();
    otherSocket.close();
  });

  it('tells the listener honestly when nobody who speaks the language is online, and takes a message', async () => {
    const lonely = await startApp();
    try {
      const { listener, conversationId } = await listenerAskingForPerson(lonely, 'es');
      const notice = await listener.waitFor('message.new', (m) => m.author === 'bot' && /no hay nadie disponible/.test(m.text));
      expect(notice.quickReplies?.map((q) => q.value)).toContain('leave_message');
      const position = await listener.waitFor('queue.position');
      expect(position).toMatchObject({ position: 1, agentsOnline: 0, etaSeconds: null });
      listener.send({ type: 'message.leave', email: 'oyente@example.com', text: 'Me cobraron dos veces, escribidme por favor' });
      await listener.waitFor('message.left');
      await listener.waitFor('conversation.state', (s) => s.to === 'closed');
      const items = await lonely.store.listItems('left_message');
      expect(items[0]?.data).toMatchObject({ conversationId, email: 'oyente@example.com', language: 'es' });
      listener.close();
    } finally {
      await lonely.stop();
    }
  });

  it('lets the listener leave the queue at any time', async () => {
    const lonely = await startApp();
    try {
      const { listener, conversationId } = await listenerAskingForPerson(lonely);
      listener.send({ type: 'conversation.leave' });
      await listener.waitFor('conversation.state', (s) => s.to === 'closed' && s.reason === 'listener_left');
      expect(await lonely.store.queueMembers('en')).toEqual([]);
      expect((await lonely.store.getConversation(conversationId))?.state).toBe('closed');
      listener.close();
    } finally {
      await lonely.stop();
    }
  });
});

describe('two app instances sharing Redis', () => {
  it('lets a listener on one node and an agent on the other chat normally', async () => {
    const namespace = uniqueNamespace('nodes');
    const nodeA = await startApp({ store: await redisStore(namespace), env: { HANDOFF_SWEEP_MS: '100' } });
    const nodeB = await startApp({ store: await redisStore(namespace), env: { HANDOFF_SWEEP_MS: '100' } });
    try {
      const { cookie } = await signedInAgent(nodeB.url, nodeB.store, { displayName: 'Casey' });
      const agent = await TestAgent.connect(nodeB.url, cookie);
      await agent.waitFor('agent.ready');
      const { listener, conversationId } = await listenerAskingForPerson(nodeA);
      await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === conversationId, 8000);
      await listener.waitFor('conversation.state', (s) => s.to === 'assigned' && s.agentName === 'Casey');
      await agent.request('chat.send', { conversationId, clientId: 'b-1', text: 'Hello from node B' });
      await listener.waitFor('message.new', (m) => m.author === 'agent' && m.text === 'Hello from node B');
      listener.send({ type: 'message.send', clientId: 'a-1', text: 'Hello from node A' });
      await agent.waitFor('chat.event', (e) => e.event.type === 'message.new' && e.event.text === 'Hello from node A');
      await agent.request('chat.typing', { conversationId, active: true });
      await listener.waitFor('typing.indicator', (t) => t.author === 'agent' && t.active);
      listener.close();
      agent.close();
    } finally {
      await nodeA.stop();
      await nodeB.stop();
    }
  });
});
