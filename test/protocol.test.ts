import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../server/domain/ids.js';
import { MAX_TEXT_LENGTH } from '../server/transport/protocol.js';
import { startApp, TestClient, type RunningApp } from './support/harness.js';

let server: RunningApp;
beforeAll(async () => {
  server = await startApp({ env: { WIDGET_MESSAGES_PER_SECOND: '50', WIDGET_MESSAGE_BURST: '50', WIDGET_FLOOD_LIMIT: '200' } });
});
afterAll(async () => {
  await server.stop();
});

describe('widget protocol over a real WebSocket', () => {
  it('starts a conversation, acknowledges a message after storing it, and answers with the bot', async () => {
    const client = await TestClient.open(server.wsUrl);
    const ready = await client.start();
    expect(ready).toMatchObject({ resumed: false, state: 'bot', language: 'en', lastSeq: 2 });
    expect(ready.token).toMatch(/^v2\.conv_/);
    client.send({ type: 'message.send', clientId: 'm1', text: 'I was charged twice this month' });
    const ack = await client.waitFor('message.ack', (a) => a.clientId === 'm1');
    expect(ack).toMatchObject({ duplicate: false, seq: 3 });
    const stored = await server.store.readEvents(ready.conversationId, 2);
    expect(stored[0]).toMatchObject({ author: 'listener', text: 'I was charged twice this month', clientId: 'm1' });
    const answer = await client.waitFor('message.new', (m) => m.author === 'bot' && m.seq > 3);
    expect(answer.understanding?.intent).toBe('billing.charged_twice');
    expect(answer.text).toMatch(/charge/i);
    await client.waitFor('typing.indicator', (t) => t.active === false);
    client.close();
  });

  it('answers gibberish honestly and offers a person as a quick reply', async () => {
    const client = await TestClient.open(server.wsUrl);
    await client.start();
    client.send({ type: 'message.send', clientId: 'g1', text: 'qwxz vlorp snarfle bzzt' });
    const reply = await client.waitFor('message.new', (m) => m.author === 'bot' && m.seq > 3);
    expect(reply.text).toMatch(/not sure I understood/);
    expect(reply.quickReplies?.map((q) => q.value)).toContain('handoff');
    expect(reply.understanding?.outcome).toBe('not_understood');
    client.close();
  });

  it('acknowledges a resent clientId again without storing it twice', async () => {
    const client = await TestClient.open(server.wsUrl);
    const ready = await client.start();
    client.send({ type: 'message.send', clientId: 'dup-1', text: 'how do I get a receipt' });
    const first = await client.waitFor('message.ack', (a) => a.clientId === 'dup-1' && !a.duplicate);
    await client.waitFor('message.new', (m) => m.author === 'bot' && m.seq > first.seq);
    client.send({ type: 'message.send', clientId: 'dup-1', text: 'how do I get a receipt' });
    const second = await client.waitFor('message.ack', (a) => a.clientId === 'dup-1' && a.duplicate);
    expect(second.seq).toBe(first.seq);
    expect(second.messageId).toBe(first.messageId);
    const events = await server.store.readEvents(ready.conversationId, 0);
    expect(events.filter((e) => e.type === 'message.new' && e.clientId === 'dup-1')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'message.new' && e.author === 'bot').length).toBe(client.messages('bot').length);
    client.close();
  });

  const badFrames: [string, string | Buffer, string][] = [
    ['malformed JSON', '{"type": "message.send",', 'MALFORMED_JSON'],
    ['an unknown type', JSON.stringify({ type: 'message.delete', clientId: 'u1' }), 'UNKNOWN_TYPE'],
    ['a missing field', JSON.stringify({ type: 'message.send', clientId: 'x1' }), 'VALIDATION_FAILED'],
    ['a JSON array', '[1,2]', 'VALIDATION_FAILED'],
    ['text over 2,000 characters', JSON.stringify({ type: 'message.send', clientId: 'long1', text: 'a'.repeat(MAX_TEXT_LENGTH + 1) }), 'TEXT_TOO_LONG'],
    ['a binary frame', Buffer.from([0, 1, 2, 3]), 'BINARY_NOT_SUPPORTED'],
  ];
  it.each(badFrames)('refuses %s with an error frame, stores nothing, and stays usable', async (_name, frame, code) => {
    const client = await TestClient.open(server.wsUrl);
    const ready = await client.start();
    client.socket.send(frame);
    const error = await client.waitFor('error');
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(5);
    expect(await server.store.readEvents(ready.conversationId, ready.lastSeq)).toEqual([]);
    client.send({ type: 'message.send', clientId: 'after', text: 'hello' });
    await client.waitFor('message.ack', (a) => a.clientId === 'after');
    client.close();
  });

  it('refuses a message before a conversation is started or resumed', async () => {
    const client = await TestClient.open(server.wsUrl);
    client.send({ type: 'message.send', clientId: 'early', text: 'hi' });
    expect((await client.waitFor('error')).code).toBe('NOT_STARTED');
    client.send({ type: 'ping' });
    await client.waitFor('pong');
    client.close();
  });

  it('replays everything after the given sequence on resume, including what arrived while disconnected', async () => {
    const first = await TestClient.open(server.wsUrl);
    const ready = await first.start();
    first.send({ type: 'message.send', clientId: 'r1', text: 'how much is the family plan' });
    const ack = await first.waitFor('message.ack');
    const lastSeen = ack.seq;
    first.socket.terminate(); // dropped, not closed politely
    // While the listener is away, the conversation moves on (the bot's answer, and a note from elsewhere).
    await server.store.append({ conversationId: ready.conversationId, events: [{ type: 'message.new', at: new Date().toISOString(), messageId: newId('msg'), author: 'system', text: 'noted while away' }], updatedAt: new Date().toISOString() });
    const second = await TestClient.open(server.wsUrl);
    second.send({ type: 'conversation.resume', token: ready.token, afterSeq: lastSeen });
    const resumed = await second.waitFor('conversation.ready');
    expect(resumed).toMatchObject({ resumed: true, conversationId: ready.conversationId });
    await second.waitFor('message.new', (m) => m.text === 'noted while away');
    const seqs = second.messages().map((m) => m.seq);
    expect(seqs[0]).toBe(lastSeen + 1);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    const all = await server.store.readEvents(ready.conversationId, lastSeen);
    expect(second.frames.filter((f) => f.type === 'message.new' || f.type === 'conversation.state').map((f) => (f as { seq: number }).seq)).toEqual(all.map((e) => e.seq));
    second.close();
  });

  it('refuses a forged or altered token', async () => {
    const owner = await TestClient.open(server.wsUrl);
    const ready = await owner.start();
    owner.close();
    const intruder = await TestClient.open(server.wsUrl);
    const otherId = ready.conversationId.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const [version, , issued, signature] = ready.token.split('.');
    const forged = `${version}.${otherId}.${issued}.${signature}`;
    intruder.send({ type: 'conversation.resume', token: forged, afterSeq: 0 });
    expect((await intruder.waitFor('error')).code).toBe('INVALID_TOKEN');
    intruder.send({ type: 'conversation.resume', token: 'garbage', afterSeq: 0 });
    await intruder.waitForCount('error', 2);
    expect(intruder.frames.some((f) => f.type === 'message.new')).toBe(false);
    intruder.close();
  });

  it('sends typing indicators around a bot answer', async () => {
    const client = await TestClient.open(server.wsUrl);
    await client.start();
    client.send({ type: 'typing', active: true });
    client.send({ type: 'message.send', clientId: 't1', text: 'hello there' });
    await client.waitFor('typing.indicator', (t) => t.author === 'bot' && t.active);
    await client.waitFor('typing.indicator', (t) => t.author === 'bot' && !t.active);
    expect(client.frames.some((f) => f.type === 'error')).toBe(false);
    client.close();
  });
});

describe('rate limits and floods', () => {
  it('refuses messages over the per-second limit without storing them, then closes a flood', async () => {
    const strict = await startApp({ env: { WIDGET_MESSAGES_PER_SECOND: '2', WIDGET_MESSAGE_BURST: '3', WIDGET_FLOOD_LIMIT: '10' } });
    try {
      const client = await TestClient.open(strict.wsUrl);
      client.send({ type: 'conversation.start' });
      const ready = await client.waitFor('conversation.ready');
      for (let i = 0; i < 30; i++) client.send({ type: 'message.send', clientId: `f${i}`, text: `spam ${i}` });
      expect((await client.waitFor('error', (e) => e.code === 'RATE_LIMITED')).clientId).toBeUndefined();
      expect(await client.waitClosed()).toBe(4008);
      const stored = await strict.store.readEvents(ready.conversationId, 0);
      const listener = stored.filter((e) => e.type === 'message.new' && e.author === 'listener');
      expect(listener.length).toBeLessThanOrEqual(3);
      // another listener is unaffected
      const other = await TestClient.open(strict.wsUrl);
      await other.start();
      other.send({ type: 'message.send', clientId: 'ok', text: 'hello' });
      await other.waitFor('message.ack');
      other.close();
    } finally {
      await strict.stop();
    }
  });
});

describe('origins and draining', () => {
  it('refuses the upgrade from an origin that is not allowed', async () => {
    const guarded = await startApp({ env: { WIDGET_ORIGINS: 'https://help.example.com' } });
    try {
      await expect(TestClient.open(guarded.wsUrl, { origin: 'https://evil.example.net' })).rejects.toThrow(/403/);
      const allowed = await TestClient.open(guarded.wsUrl, { origin: 'https://help.example.com' });
      await allowed.start();
      allowed.close();
    } finally {
      await guarded.stop();
    }
  });

  it('tells connected widgets to reconnect when the server drains', async () => {
    const draining = await startApp();
    const client = await TestClient.open(draining.wsUrl);
    await client.start();
    const closing = draining.stop();
    const frame = await client.waitFor('server.draining');
    expect(frame.retryAfterMs).toBeGreaterThan(0);
    expect(await client.waitClosed()).toBe(1012);
    await closing;
  });
});
