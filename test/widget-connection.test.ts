import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../server/domain/ids.js';
import type { ConversationEvent, ReadyFrame } from '../server/transport/protocol.js';
import { ChatConnection, type ConnectionStatus, type KeyValueStorage } from '../widget/chat-connection.js';
import { redisStore, startApp, uniqueNamespace, type RunningApp } from './support/harness.js';

function memoryStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

function widgetConnection(server: RunningApp, storage: KeyValueStorage) {
  const events: ConversationEvent[] = [];
  const statuses: ConnectionStatus[] = [];
  const acked: string[] = [];
  let ready: ReadyFrame | undefined;
  const connection = new ChatConnection({
    url: server.wsUrl,
    language: 'en',
    storage,
    random: () => 0.9, // reconnect after ~450 ms: long enough to write while offline
    createSocket: (url) => new WebSocket(url) as never,
    handlers: {
      status: (s) => statuses.push(s),
      ready: (frame) => (ready = frame),
      event: (event) => events.push(event),
      acked: (clientId) => acked.push(clientId),
      typing: () => {},
      error: () => {},
      reset: () => events.splice(0),
      queue: () => {},
      surveyAcked: () => {},
      messageLeft: () => {},
    },
  });
  return { connection, events, statuses, acked, ready: () => ready };
}

function dropAllSockets(server: RunningApp): void {
  for (const client of server.app.websocketServer.clients) client.terminate();
}

describe('the widget connection (real sockets, Node side of the widget code)', () => {
  it('after a dropped connection, replays what it missed and resends unacknowledged messages exactly once', async () => {
    const server = await startApp();
    const storage = memoryStorage();
    const w = widgetConnection(server, storage);
    try {
      w.connection.connect();
      await expect.poll(() => w.ready()?.conversationId).toBeTruthy();
      const conversationId = w.ready()!.conversationId;
      const first = w.connection.send('how do I get a receipt');
      await expect.poll(() => w.acked).toContain(first);

      dropAllSockets(server);
      await expect.poll(() => w.statuses.at(-1)).toBe('reconnecting');
      // Written while offline: kept in storage until acknowledged.
      const offline = w.connection.send('and can I change my billing date?');
      expect(JSON.parse(storage.map.get('support-chat:outbox') ?? '[]')).toHaveLength(1);
      // And the conversation moves on meanwhile.
      await server.store.append({ conversationId, events: [{ type: 'message.new', at: new Date().toISOString(), messageId: newId('msg'), author: 'system', text: 'while you were away' }], updatedAt: new Date().toISOString() });

      await expect.poll(() => w.acked, { timeout: 10_000 }).toContain(offline);
      await expect.poll(() => w.events.some((e) => e.type === 'message.new' && e.text === 'while you were away')).toBe(true);
      await expect.poll(async () => (await server.store.readEvents(conversationId, 0)).length).toBe(w.events.length);
      const seqs = w.events.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // every event once, in order, no gap
      const stored = await server.store.readEvents(conversationId, 0);
      expect(stored.filter((e) => e.type === 'message.new' && e.text === 'and can I change my billing date?')).toHaveLength(1);
      expect(JSON.parse(storage.map.get('support-chat:outbox') ?? '[]')).toHaveLength(0);
    } finally {
      w.connection.close();
      await server.stop();
    }
  });

  it('continues the same conversation after a server restart on Redis', async () => {
    const namespace = uniqueNamespace('restart');
    const storage = memoryStorage();
    const before = await startApp({ store: await redisStore(namespace) });
    const w1 = widgetConnection(before, storage);
    w1.connection.connect();
    await expect.poll(() => w1.ready()).toBeTruthy();
    const sent = w1.connection.send('my downloads disappeared');
    await expect.poll(() => w1.acked).toContain(sent);
    await expect.poll(() => w1.events.filter((e) => e.type === 'message.new' && e.author === 'bot').length).toBeGreaterThan(1);
    const history = w1.events.map((e) => [e.seq, e.type === 'message.new' ? e.text : e.to]);
    w1.connection.close();
    await before.stop();

    const after = await startApp({ store: await redisStore(namespace) });
    const w2 = widgetConnection(after, storage);
    try {
      w2.connection.connect();
      await expect.poll(() => w2.ready()?.resumed).toBe(true);
      expect(w2.ready()?.conversationId).toBe(w1.ready()?.conversationId);
      await expect.poll(() => w2.events.length).toBe(history.length);
      expect(w2.events.map((e) => [e.seq, e.type === 'message.new' ? e.text : e.to])).toEqual(history);
    } finally {
      w2.connection.close();
      await after.stop();
    }
  });

  it('starts a new conversation when the stored token is no longer valid', async () => {
    const server = await startApp();
    const storage = memoryStorage();
    storage.setItem('support-chat:token', 'v1.conv_doesnotexist1.AAAA');
    const w = widgetConnection(server, storage);
    try {
      w.connection.connect();
      await expect.poll(() => w.ready()?.resumed).toBe(false);
      expect(storage.getItem('support-chat:token')).toBe(w.ready()?.token);
    } finally {
      w.connection.close();
      await server.stop();
    }
  });
});
