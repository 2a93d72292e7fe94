import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent, signedInAgent } from './support/agent-client.js';
import { startApp, TestClient, type RunningApp } from './support/harness.js';

let server: RunningApp;
beforeAll(async () => {
  server = await startApp({ env: { HANDOFF_SWEEP_MS: '100' } });
});
afterAll(async () => {
  await server.stop();
});

async function say(client: TestClient, clientId: string, text: string, quickReply?: string) {
  client.send({ type: 'message.send', clientId, text, ...(quickReply ? { quickReply } : {}) });
  await client.waitFor('message.ack', (a) => a.clientId === clientId);
}

describe('the post-chat survey', () => {
  it('after the bot resolves a chat: asked once, answered once, a resend changes nothing', async () => {
    const client = await TestClient.open(server.wsUrl);
    const ready = await client.start();
    client.send({ type: 'survey.answer', rating: 5 });
    expect((await client.waitFor('error')).code).toBe('SURVEY_NOT_OPEN');
    await say(client, 'c1', 'Receipt', 'intent:billing.refund_request');
    await client.waitFor('message.new', (m) => m.quickReplies?.some((q) => q.value === 'confirm:yes') ?? false);
    await say(client, 'c2', 'Yes, solved', 'confirm:yes');
    await client.waitFor('conversation.state', (s) => s.to === 'closed' && s.reason === 'resolved_by_bot');
    await expect.poll(() => server.store.getSurvey(ready.conversationId)).toMatchObject({ handledBy: 'bot', endReason: 'resolved_by_bot', botIntents: ['billing.refund_request'], rating: null, answeredAt: null });
    client.send({ type: 'survey.answer', rating: 4, comment: '  quick and clear ', resolved: true });
    expect(await client.waitFor('survey.ack')).toEqual({ type: 'survey.ack', duplicate: false });
    client.send({ type: 'survey.answer', rating: 1, comment: 'changed my mind' });
    await client.waitForCount('survey.ack', 2);
    expect(client.frames.filter((f) => f.type === 'survey.ack').at(-1)).toEqual({ type: 'survey.ack', duplicate: true });
    expect(await server.store.getSurvey(ready.conversationId)).toMatchObject({ rating: 4, comment: 'quick and clear', resolved: true });
    client.close();
  });

  it('after the listener says goodbye, and after the listener leaves the queue', async () => {
    const bye = await TestClient.open(server.wsUrl);
    const first = await bye.start();
    await say(bye, 'b1', 'bye');
    await bye.waitFor('conversation.state', (s) => s.to === 'closed');
    await expect.poll(() => server.store.getSurvey(first.conversationId)).toMatchObject({ endReason: 'listener_goodbye', handledBy: 'bot' });
    const leaver = await TestClient.open(server.wsUrl);
    const second = await leaver.start();
    await say(leaver, 'l1', 'I want to talk to a human');
    await leaver.waitFor('conversation.state', (s) => s.to === 'queued');
    leaver.send({ type: 'conversation.leave' });
    await leaver.waitFor('conversation.state', (s) => s.to === 'closed');
    await expect.poll(() => server.store.getSurvey(second.conversationId)).toMatchObject({ endReason: 'listener_left', handoffReason: 'requested', waitMs: null });
    bye.close();
    leaver.close();
  });

  it('after an agent closes: who handled it, the intents, the wait', async () => {
    const { cookie, id } = await signedInAgent(server.url, server.store, { displayName: 'Quinn' });
    const agent = await TestAgent.connect(server.url, cookie);
    await agent.waitFor('agent.ready');
    const client = await TestClient.open(server.wsUrl);
    const ready = await client.start();
    await say(client, 'a1', 'how much is the family plan');
    await client.waitFor('message.new', (m) => m.author === 'bot' && m.seq > 3);
    await say(client, 'a2', 'can I talk to a person please');
    await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === ready.conversationId);
    await agent.request('chat.close', { conversationId: ready.conversationId, resolution: { resolved: true, intent: 'billing.plans_and_pricing' } });
    await client.waitFor('conversation.state', (s) => s.to === 'closed');
    const survey = await server.store.getSurvey(ready.conversationId);
    expect(survey).toMatchObject({ handledBy: 'bot_then_agent', agentIds: [id], agentIntent: 'billing.plans_and_pricing', handoffReason: 'requested', endReason: 'closed_by_agent:resolved' });
    expect(survey?.botIntents).toContain('billing.plans_and_pricing');
    expect(survey?.waitMs).toBeGreaterThanOrEqual(0);
    // the agent's id never reaches the listener
    expect(client.raw.some((raw) => raw.includes(id))).toBe(false);
    expect(client.messages().length).toBeGreaterThan(0);
    client.close();
    agent.close();
  });

  it('refuses a late answer with a clear error', async () => {
    const quick = await startApp({ env: { SURVEY_WINDOW_MS: '1000' } });
    try {
      const client = await TestClient.open(quick.wsUrl);
      await client.start();
      await say(client, 'x1', 'goodbye');
      await client.waitFor('conversation.state', (s) => s.to === 'closed');
      await new Promise((r) => setTimeout(r, 1200));
      client.send({ type: 'survey.answer', rating: 3 });
      const error = await client.waitFor('error');
      expect(error).toMatchObject({ code: 'SURVEY_CLOSED' });
      expect(error.message).toMatch(/closed/);
      client.close();
    } finally {
      await quick.stop();
    }
  });

  it('refuses a rating outside 1-5', async () => {
    const client = await TestClient.open(server.wsUrl);
    await client.start();
    client.send({ type: 'survey.answer', rating: 7 });
    expect((await client.waitFor('error')).code).toBe('VALIDATION_FAILED');
    client.close();
  });
});
