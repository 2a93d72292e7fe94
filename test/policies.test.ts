import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, TestClient, type RunningApp } from './support/harness.js';

let server: RunningApp;
beforeAll(async () => {
  server = await startApp();
});
afterAll(async () => {
  await server.stop();
});

async function conversation(language: 'en' | 'es' = 'en') {
  const client = await TestClient.open(server.wsUrl);
  const ready = await client.start(language);
  let n = 0;
  return {
    client,
    id: ready.conversationId,
    /** Sends a message and resolves with the bot's replies to it (and any state change). */
    async say(text: string, quickReply?: string) {
      const before = client.frames.length;
      const clientId = `m${++n}`;
      client.send({ type: 'message.send', clientId, text, ...(quickReply ? { quickReply } : {}) });
      const ack = await client.waitFor('message.ack', (a) => a.clientId === clientId);
      await new Promise((r) => setTimeout(r, 150));
      const after = client.frames.slice(before);
      return {
        ack,
        replies: after.filter((f) => f.type === 'message.new' && f.author === 'bot') as Extract<(typeof after)[number], { type: 'message.new' }>[],
        state: after.filter((f) => f.type === 'conversation.state').map((f) => (f.type === 'conversation.state' ? f : null)),
      };
    },
  };
}

describe('each policy kind through the real WebSocket protocol', () => {
  it('answer: the bot answers and stays', async () => {
    const c = await conversation();
    const turn = await c.say('how much does the student plan cost?');
    expect(turn.replies[0]?.understanding).toMatchObject({ intent: 'billing.plans_and_pricing', outcome: 'answered' });
    expect(turn.state).toEqual([]);
    c.client.close();
  });

  it('answer then confirm: "yes" resolves the chat as resolved by the bot', async () => {
    const c = await conversation();
    const turn = await c.say('my music keeps stopping after a few seconds');
    expect(turn.replies[0]?.understanding?.intent).toBe('troubleshooting.playback_stops');
    expect(turn.replies.at(-1)?.quickReplies?.map((q) => q.value)).toEqual(['confirm:yes', 'confirm:no']);
    const yes = await c.say('Yes, solved', 'confirm:yes');
    expect(yes.state[0]).toMatchObject({ to: 'closed', reason: 'resolved_by_bot' });
    c.client.close();
  });

  it('answer then confirm: "no" asks to clarify (onNo: clarify) or hands off (onNo: handoff)', async () => {
    const clarify = await conversation();
    await clarify.say('my music keeps stopping after a few seconds');
    const no = await clarify.say('No', 'confirm:no');
    expect(no.replies[0]?.text).toMatch(/tell me a bit more/);
    expect(no.replies[0]?.quickReplies?.map((q) => q.value)).toContain('handoff');
    expect(no.state).toEqual([]);
    clarify.client.close();

    const handoff = await conversation();
    const refund = await handoff.say('Refund', 'intent:billing.refund_request');
    expect(refund.replies.at(-1)?.quickReplies?.map((q) => q.value)).toEqual(['confirm:yes', 'confirm:no']);
    const refused = await handoff.say('No', 'confirm:no');
    expect(refused.state[0]).toMatchObject({ to: 'queued', reason: 'handoff:confirmation_failed' });
    handoff.client.close();
  });

  it('handoff: an intent that needs account access is handed to a person after a short answer', async () => {
    const c = await conversation();
    const turn = await c.say('I was charged twice this month');
    expect(turn.replies.length).toBeGreaterThanOrEqual(2);
    expect(turn.state[0]).toMatchObject({ to: 'queued', reason: 'handoff:policy' });
    expect((await server.store.getConversation(c.id))?.handoff).toMatchObject({ priority: 'normal', intent: 'billing.charged_twice' });
    c.client.close();
  });

  it('priority handoff: a hacked account goes to the front of the queue', async () => {
    const normal = await conversation();
    await normal.say('I want to talk to a human');
    const hacked = await conversation();
    const turn = await hacked.say('someone hacked my account and changed my password');
    expect(turn.state[0]).toMatchObject({ to: 'queued' });
    expect((await server.store.getConversation(hacked.id))?.handoff?.priority).toBe('high');
    const queue = (await server.store.queueMembers('en')).map((m) => m.conversationId);
    expect(queue.indexOf(hacked.id)).toBeLessThan(queue.indexOf(normal.id));
    normal.client.close();
    hacked.client.close();
  });

  it('a frustrated listener is offered a person at once, without asking twice', async () => {
    const c = await conversation();
    const turn = await c.say('THIS APP IS USELESS, third time I ask!!! nothing works');
    expect(turn.replies[0]?.text).toMatch(/frustrating/);
    expect(turn.state[0]).toMatchObject({ to: 'queued', reason: 'handoff:frustrated' });
    c.client.close();
  });

  it('answers a Spanish conversation in Spanish, and follows the listener into Spanish', async () => {
    const es = await conversation('es');
    const turn = await es.say('me cobraron dos veces este mes');
    expect(turn.replies[0]?.text).toMatch(/cobro doble/);
    es.client.close();
    const switching = await conversation('en');
    const spanish = await switching.say('¿cuánto cuesta el plan familiar?');
    expect(spanish.replies[0]?.understanding?.intent).toBe('billing.plans_and_pricing');
    expect((await server.store.getConversation(switching.id))?.language).toBe('es');
    switching.client.close();
  });

  it('records feedback as a tagged item for analysts, and offers help for a bug report', async () => {
    const c = await conversation();
    const turn = await c.say('feature idea: let me sort playlists by the date a song was added');
    expect(turn.replies[0]?.understanding?.intent).toBe('feedback.feature_request');
    const items = await server.store.listItems('feedback');
    expect(items.find((i) => i.data.conversationId === c.id)?.data).toMatchObject({ intent: 'feedback.feature_request', tags: ['feedback', 'feature_request'] });
    c.client.close();
  });

  it('answers out-of-scope messages honestly, never with a random FAQ', async () => {
    const c = await conversation();
    const turn = await c.say('what is the weather going to be like in Lisbon tomorrow?');
    expect(turn.replies[0]?.understanding?.outcome).toBe('not_understood');
    expect(turn.replies[0]?.text).toMatch(/billing, your account and playback/);
    c.client.close();
  });
});
