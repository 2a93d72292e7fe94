import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyBotContext } from '../bot/bot-context.js';
import type { LoadedBot } from '../bot/load-bot.js';
import type { SurveyRecord } from '../server/domain/csat.js';
import { newId } from '../server/domain/ids.js';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { loadShippedBot, redisStore, startApp, TestClient, uniqueNamespace, type RunningApp } from './support/harness.js';

const INTENT = 'billing.refund_request';

function survey(handledBy: SurveyRecord['handledBy'], rating: number, i: number): SurveyRecord {
  const at = new Date(Date.UTC(2026, 10, 1, 10, 0, i)).toISOString();
  return {
    v: 1, conversationId: newId('conv'), startedAt: at, endedAt: at, endReason: handledBy === 'bot' ? 'resolved_by_bot' : 'closed_by_agent:resolved',
    handledBy, agentIds: handledBy === 'bot' ? [] : ['agt_x'], botIntents: [INTENT], agentIntent: handledBy === 'bot' ? null : INTENT,
    language: 'en', handoffReason: handledBy === 'bot' ? null : 'policy', waitMs: handledBy === 'bot' ? null : 30_000,
    rating, comment: null, resolved: rating >= 4, answeredAt: at,
  };
}

let nodeA: RunningApp;
let nodeB: RunningApp;
let loadedA: LoadedBot;
let loadedB: LoadedBot;
let cookie = '';

async function api(node: RunningApp, method: string, path: string, body?: unknown) {
  const response = await fetch(`${node.url}${path}`, { method, headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  const namespace = uniqueNamespace('tuning');
  [loadedA, loadedB] = await Promise.all([loadShippedBot(), loadShippedBot()]);
  nodeA = await startApp({ store: await redisStore(namespace), loaded: loadedA });
  nodeB = await startApp({ store: await redisStore(namespace), loaded: loadedB });
  await createAgentAccount(nodeA.store, { email: 'ana@example.com', displayName: 'Ana', password: 'analyst password', languages: ['en'], role: 'analyst' });
  const login = await fetch(`${nodeA.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ana@example.com', password: 'analyst password' }) });
  cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}, 60_000);
afterAll(async () => {
  await nodeA?.stop();
  await nodeB?.stop();
});

describe('the tuning loop on two nodes sharing Redis', () => {
  it('is for analysts only', async () => {
    const anonymous = await fetch(`${nodeA.url}/api/tuning/proposals`);
    expect(anonymous.status).toBe(401);
    await createAgentAccount(nodeA.store, { email: 'agent-t@example.com', displayName: 'A', password: 'agent password', languages: ['en'] });
    const login = await fetch(`${nodeA.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'agent-t@example.com', password: 'agent password' }) });
    const agentCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await fetch(`${nodeA.url}/api/tuning/proposals`, { headers: { cookie: agentCookie } })).status).toBe(403);
  });

  it('proposes a change from CSAT evidence, applies it only when approved, and every node follows', async () => {
    // The bot's CSAT for refunds is reliably below the agents'; its threshold is already high, so the proposal is a switch to handoff.
    await nodeA.store.putRecord('tuning', 'policy', { version: 1, intents: { [INTENT]: { minConfidence: 0.85 } } });
    for (let i = 0; i < 12; i++) await nodeA.store.saveSurvey(survey('bot', i < 10 ? 1 : 4, i));
    for (let i = 0; i < 12; i++) await nodeA.store.saveSurvey(survey('bot_then_agent', 5, 100 + i));
    const proposed = await api(nodeA, 'POST', '/api/tuning/proposals');
    expect(proposed.status).toBe(200);
    const proposal = proposed.body.proposals.find((p: { intent: string }) => p.intent === INTENT);
    expect(proposal).toMatchObject({ kind: 'switch_to_handoff', to: { handoff: true }, status: 'proposed', createdBy: 'ana@example.com' });
    expect(proposal.evidence.botHigh).toBeLessThan(proposal.evidence.agentLow);
    // nothing applies before approval
    expect((await api(nodeA, 'GET', '/api/tuning/policy')).body.intents[INTENT]).toEqual({ minConfidence: 0.85 });

    const approved = await api(nodeA, 'POST', `/api/tuning/proposals/${proposal.id}`, { approve: true });
    expect(approved.body.proposal).toMatchObject({ status: 'applied', decidedBy: 'ana@example.com' });
    const refund = () => loadedB.bot.respond({ text: 'I want a refund for last month please', language: 'en', context: emptyBotContext() });
    await expect.poll(() => refund().handoff?.reason).toBe('policy');
    // and through node B's widget socket
    const listener = await TestClient.open(nodeB.wsUrl);
    await listener.start();
    listener.send({ type: 'message.send', clientId: 'r1', text: 'I want a refund for last month please' });
    await listener.waitFor('conversation.state', (s) => s.to === 'queued');
    listener.close();
    const log = (await api(nodeA, 'GET', '/api/tuning/log')).body.log;
    expect(log.some((entry: { action: string; by: string }) => entry.action === 'policy.applied' && entry.by === 'ana@example.com')).toBe(true);
    expect((await api(nodeA, 'POST', `/api/tuning/proposals/${proposal.id}`, { approve: true })).status).toBe(409);
  });

  it('turns agents\' corrections into a review list, trains a candidate, promotes it to every node without restart, and rolls back', async () => {
    // An agent closed a chat whose first message the bot did not get, correcting the intent.
    const at = new Date().toISOString();
    const conversationId = newId('conv');
    await nodeA.store.createConversation({ v: 1, id: conversationId, createdAt: at, updatedAt: at, state: 'bot', language: 'en', context: emptyBotContext() }, [
      { type: 'conversation.state', at, from: null, to: 'bot', reason: 'started' },
      { type: 'message.new', at, messageId: newId('msg'), author: 'listener', text: 'the app took money off me for nothing, give it back', clientId: 'c1' },
      { type: 'conversation.state', at, from: 'bot', to: 'queued', reason: 'handoff:not_understood' },
      { type: 'conversation.state', at, from: 'queued', to: 'closed', reason: 'closed_by_agent:resolved' },
    ]);
    await nodeA.store.addItem({ id: newId('item'), kind: 'resolution', at, data: { conversationId, agentId: 'agt_x', resolved: true, botIntent: null, intent: INTENT, language: 'en' } });
    const refreshed = await api(nodeA, 'POST', '/api/tuning/candidates/refresh');
    const candidate = refreshed.body.candidates.find((c: { text: string }) => c.text.startsWith('the app took money'));
    expect(candidate).toMatchObject({ intent: INTENT, source: 'agent_close', status: 'pending' });
    expect((await api(nodeA, 'POST', `/api/tuning/candidates/${candidate.id}`, { action: 'relabel', intent: 'billing.charged_twice' })).body.candidate).toMatchObject({ status: 'accepted', intent: 'billing.charged_twice' });
    expect((await api(nodeA, 'POST', `/api/tuning/candidates/${candidate.id}`, { action: 'relabel' })).status).toBe(400);

    const before = { a: loadedA.bot.modelVersion, b: loadedB.bot.modelVersion };
    const trained = await api(nodeA, 'POST', '/api/tuning/models');
    expect(trained.status).toBe(200);
    const model = trained.body.model;
    expect(model).toMatchObject({ status: 'candidate', acceptedCandidates: 1, createdBy: 'ana@example.com' });
    expect(model.evaluation.n).toBeGreaterThan(500);
    expect(model.baseline.version).toBe('shipped');
    const promoted = await api(nodeB, 'POST', `/api/tuning/models/${model.version}/promote`);
    expect(promoted.body, JSON.stringify(promoted.body)).toHaveProperty('model.status', 'promoted');
    await expect.poll(() => loadedA.bot.modelVersion, { timeout: 10_000 }).not.toBe(before.a);
    await expect.poll(() => loadedB.bot.modelVersion, { timeout: 10_000 }).not.toBe(before.b);
    expect(loadedA.bot.modelVersion).toBe(loadedB.bot.modelVersion);

    const rolledBack = await api(nodeA, 'POST', '/api/tuning/rollback');
    expect(rolledBack.body.current).toBe('shipped');
    await expect.poll(() => loadedA.bot.modelVersion, { timeout: 10_000 }).toBe(before.a);
    await expect.poll(() => loadedB.bot.modelVersion, { timeout: 10_000 }).toBe(before.b);
    const models = (await api(nodeA, 'GET', '/api/tuning/models')).body;
    expect(models.pointer.current).toBeNull();
    expect((await api(nodeA, 'POST', '/api/tuning/rollback')).status).toBe(409);
  }, 60_000);
});
