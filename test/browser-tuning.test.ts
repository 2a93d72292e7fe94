import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyBotContext } from '../bot/bot-context.js';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import type { SurveyRecord } from '../server/domain/csat.js';
import { newId } from '../server/domain/ids.js';
import type { ChatStore } from '../server/store/chat-store.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { launchBrowser, watchPage } from './support/browser.js';
import { loadShippedBot, startApp, type RunningApp } from './support/harness.js';

const PASSWORD = 'analyst password, long enough';
const ANALYST = { email: 'noor@melodrift.test', displayName: 'Noor Analyst' };
const INTENT = 'billing.refund_request';
const CHARGED_TWICE = 'billing.charged_twice';
const WEIGHTY = 'there are two identical charges on my statement this month';
const RELABELLED = 'the app took money off me for nothing, give it back';
const MARKUP = '<img src=x onerror="window.__xss=1"> refund this now';
const WORSE = 'm0-worse-seeded';

function survey(handledBy: SurveyRecord['handledBy'], rating: number, i: number, intent = INTENT, conversationId = newId('conv')): SurveyRecord {
  const at = new Date(Date.UTC(2026, 10, 1, 10, 0, i)).toISOString();
  return {
    v: 1, conversationId, startedAt: at, endedAt: at, endReason: handledBy === 'bot' ? 'resolved_by_bot' : 'closed_by_agent:resolved',
    handledBy, agentIds: handledBy === 'bot' ? [] : ['agt_x'], botIntents: [intent], agentIntent: handledBy === 'bot' ? null : intent,
    language: 'en', handoffReason: handledBy === 'bot' ? null : 'policy', waitMs: handledBy === 'bot' ? null : 30_000,
    rating, comment: null, resolved: rating >= 4, answeredAt: at,
  };
}

/** A chat an agent closed with an intent; the listener's first message is what the bot should have understood. */
async function resolvedChat(store: ChatStore, text: string, intent: string): Promise<string> {
  const at = new Date().toISOString();
  const conversationId = newId('conv');
  await store.createConversation({ v: 1, id: conversationId, createdAt: at, updatedAt: at, state: 'bot', language: 'en', context: emptyBotContext() }, [
    { type: 'conversation.state', at, from: null, to: 'bot', reason: 'started' },
    { type: 'message.new', at, messageId: newId('msg'), author: 'listener', text, clientId: newId('msg') },
    { type: 'conversation.state', at, from: 'bot', to: 'queued', reason: 'handoff:not_understood' },
    { type: 'conversation.state', at, from: 'queued', to: 'closed', reason: 'closed_by_agent:resolved' },
  ]);
  await store.addItem({ id: newId('item'), kind: 'resolution', at, data: { conversationId, agentId: 'agt_x', resolved: true, botIntent: null, intent, language: 'en' } });
  return conversationId;
}

let node: RunningApp;
let browser: Browser;

beforeAll(async () => {
  const store = createMemoryStore();
  // The bot's CSAT for refunds is reliably below the agents' and its threshold is already high: a switch to handoff.
  await store.putRecord('tuning', 'policy', { version: 1, intents: { [INTENT]: { minConfidence: 0.85 } } });
  for (let i = 0; i < 12; i++) await store.saveSurvey(survey('bot', i < 10 ? 1 : 4, i));
  for (let i = 0; i < 12; i++) await store.saveSurvey(survey('bot_then_agent', 5, 100 + i));
  // Three phrases for the review list; the first stands for a handed-off chat rated 2, so it weighs most.
  const weighty = await resolvedChat(store, WEIGHTY, CHARGED_TWICE);
  await store.saveSurvey(survey('bot_then_agent', 2, 200, CHARGED_TWICE, weighty));
  await resolvedChat(store, RELABELLED, INTENT);
  await resolvedChat(store, MARKUP, INTENT);
  // An earlier candidate that is worse than the model it was compared with: promotion must refuse it.
  await store.putRecord('model', WORSE, {
    version: WORSE, createdAt: '2026-01-05T09:00:00.000Z', createdBy: 'earlier@melodrift.test', acceptedCandidates: 3, phrases: 10,
    evaluation: { inScopeAccuracy: 0.612, accuracy: 0.6, wrongAnswerRate: 0.2, oosRecall: 0.5, n: 600 },
    baseline: { version: 'shipped', inScopeAccuracy: 0.9, accuracy: 0.88, wrongAnswerRate: 0.05, oosRecall: 0.8 },
    status: 'candidate',
  });
  await createAgentAccount(store, { ...ANALYST, password: PASSWORD, languages: ['en'], role: 'analyst' });
  node = await startApp({ store, loaded: await loadShippedBot() });
  // The server reads the bundle once (the global setup built it): read it now, to the end.
  const bundle = await fetch(`${node.url}/analytics.js`);
  expect(bundle.status).toBe(200);
  expect((await bundle.text()).length).toBeGreaterThan(1000);
  browser = await launchBrowser();
  mkdirSync('test-artifacts', { recursive: true });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await node?.stop();
});


/** The API as the signed-in browser sees it (the context shares the session cookie). */
async function api<T>(context: BrowserContext, path: string): Promise<T> {
  const response = await context.request.get(`${node.url}${path}`);
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

describe('the tuning panel in a real browser', () => {
  it('an analyst tunes: approves a proposal, reviews phrases, trains, promotes, rolls back, is refused a worse model, and sees the log', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page, node.url);
    await page.goto(`${node.url}/analytics`);
    await page.getByTestId('signin-email').fill(ANALYST.email);
    await page.getByTestId('signin-password').fill(PASSWORD);
    await page.getByTestId('signin-submit').click();
    await page.locator('main.dashboard[data-ready="true"]').waitFor({ timeout: 15_000 });

    // The section loads when opened.
    const tuning = page.getByTestId('tuning');
    await page.getByTestId('tuning-open').click();
    await expect.poll(() => page.getByTestId('tuning-policy').textContent()).toBe(`Policy version 1: ${INTENT}, answer at confidence 0.85 or more`);
    await expect.poll(() => page.getByTestId('model-current').textContent()).toBe('In use: the shipped model');
    expect(await page.getByTestId('rollback').isDisabled()).toBe(true);

    // Tune: the proposal with its evidence.
    await page.getByTestId('tune').click();
    const proposal = page.locator(`[data-testid="proposal"][data-intent="${INTENT}"]`);
    await proposal.waitFor();
    expect(await page.getByTestId('tuning-status').textContent()).toMatch(/^1 proposal to review\. 3 training phrases in the review list\.$/);
    const { proposals } = await api<{ proposals: { id: string; intent: string; reason: string; status: string; evidence: Record<string, number> }[] }>(context, '/api/tuning/proposals');
    const expected = proposals.find((p) => p.intent === INTENT && p.status === 'proposed')!;
    expect(await proposal.getAttribute('data-proposal-id')).toBe(expected.id);
    const asPct = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(1)}%`;
    const evidence = proposal.getByTestId('proposal-evidence');
    const bot = (await evidence.locator('tbody tr').nth(0).locator('td').allTextContents()).map((t) => t.trim());
    const agent = (await evidence.locator('tbody tr').nth(1).locator('td').allTextContents()).map((t) => t.trim());
    expect(bot).toEqual(['Bot', '16.7%', '12', `95% CI ${asPct(expected.evidence.botLow)} – ${asPct(expected.evidence.botHigh)}`]);
    expect(agent).toEqual(['Agent', '100.0%', '12', `95% CI ${asPct(expected.evidence.agentLow)} – ${asPct(expected.evidence.agentHigh)}`]);
    expect(await proposal.getByTestId('proposal-handoffs').textContent()).toBe('Handoff rate: 50.0% of 24 conversations');
    expect(await proposal.getByTestId('proposal-reason').textContent()).toBe(expected.reason);
    expect(await proposal.getByTestId('proposal-change').textContent()).toBe('Change: answer at confidence 0.85 or more → hand off to a person; answer at confidence 0.85 or more');
    expect(await proposal.textContent()).toContain('Hand this intent to a person');

    // Approve: the policy changes on the server, and the panel says so.
    await proposal.getByTestId('proposal-approve').click();
    await expect.poll(() => proposal.getAttribute('data-status')).toBe('applied');
    expect(await proposal.getByTestId('proposal-approve').count()).toBe(0);
    const policy = await api<{ version: number; intents: Record<string, unknown> }>(context, '/api/tuning/policy');
    expect(policy).toEqual({ version: 2, intents: { [INTENT]: { minConfidence: 0.85, handoff: true } } });
    expect(await page.getByTestId('tuning-policy').textContent()).toBe(`Policy version 2: ${INTENT}, hand off to a person; answer at confidence 0.85 or more`);
    expect(await proposal.textContent()).toContain(`Applied by ${ANALYST.email}`);

    // The review list, ranked by weight; the markup in a phrase is text.
    const rows = page.getByTestId('candidate');
    await expect.poll(() => rows.count()).toBe(3);
    const first = (await rows.nth(0).locator('td').allTextContents()).slice(0, 6).map((t) => t.trim());
    expect(first).toEqual([WEIGHTY, 'en', CHARGED_TWICE, 'Agent’s resolution', '1', 'Pending']);
    expect((await rows.nth(1).locator('td').nth(4).textContent())?.trim()).toBe('0');
    const { candidates } = await api<{ candidates: { id: string; text: string }[] }>(context, '/api/tuning/candidates');
    const idOf = (text: string) => candidates.find((c) => c.text === text)!.id;
    expect(await rows.nth(0).getAttribute('data-candidate-id')).toBe(idOf(WEIGHTY));
    const row = (text: string) => page.locator(`[data-testid="candidate"][data-candidate-id="${idOf(text)}"]`);
    expect(await row(MARKUP).getByTestId('candidate-text').textContent()).toBe(MARKUP);
    expect(await tuning.locator('img').count()).toBe(0);
    // The intents offered: from the by-intent report, the candidates and the proposals; and free text.
    const options = await row(RELABELLED).getByTestId('candidate-intent').locator('option').allTextContents();
    expect(options).toEqual(['Choose an intent…', CHARGED_TWICE, INTENT, 'Other (type it)…']);

    await row(WEIGHTY).getByTestId('candidate-accept').click();
    await expect.poll(() => row(WEIGHTY).getAttribute('data-status')).toBe('accepted');
    await row(MARKUP).getByTestId('candidate-reject').click();
    await expect.poll(() => row(MARKUP).getAttribute('data-status')).toBe('rejected');
    // Relabel with a typed intent: a malformed one is refused before asking the server.
    await row(RELABELLED).getByTestId('candidate-intent').selectOption('__other__');
    await row(RELABELLED).getByTestId('candidate-intent-other').fill('Refunds please');
    await row(RELABELLED).getByTestId('candidate-relabel').click();
    await expect.poll(() => page.getByTestId('tuning-error').textContent()).toContain('An intent id is a topic and a name');
    await row(RELABELLED).getByTestId('candidate-intent-other').fill(CHARGED_TWICE);
    await row(RELABELLED).getByTestId('candidate-relabel').click();
    await expect.poll(() => row(RELABELLED).getAttribute('data-status')).toBe('accepted');
    expect(await page.getByTestId('tuning-error').isHidden()).toBe(true);
    expect(await row(RELABELLED).locator('td').nth(2).textContent()).toBe(CHARGED_TWICE);

    // Train: the candidate's evaluation against the shipped model.
    await page.getByTestId('train-model').click();
    const report = page.getByTestId('model-report');
    await expect.poll(() => report.getAttribute('data-status'), { timeout: 90_000 }).toBe('candidate');
    const { models } = await api<{ models: { version: string; acceptedCandidates: number; evaluation: Record<string, number | null>; baseline: Record<string, number | string | null> }[] }>(context, '/api/tuning/models');
    const trained = models.find((m) => m.version !== WORSE)!;
    expect(trained.acceptedCandidates).toBe(2);
    expect(await report.getAttribute('data-version')).toBe(trained.version);
    const metric = async (key: string) => (await report.locator(`tr[data-metric="${key}"] td`).allTextContents()).map((t) => t.trim());
    const points = (a: number | null | string | undefined, b: number | null | string | undefined) => {
      const d = Number(a) - Number(b);
      return `${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(1)} pts`;
    };
    const inScope = await metric('in-scope-accuracy');
    expect(inScope.slice(0, 3)).toEqual(['In-scope accuracy', asPct(trained.evaluation.inScopeAccuracy!), asPct(Number(trained.baseline.inScopeAccuracy))]);
    expect(inScope[3]).toContain(points(trained.evaluation.inScopeAccuracy, trained.baseline.inScopeAccuracy));
    const wrong = await metric('wrong-answer-rate');
    expect(wrong.slice(0, 3)).toEqual(['Wrong-answer rate', asPct(trained.evaluation.wrongAnswerRate!), asPct(Number(trained.baseline.wrongAnswerRate))]);
    expect(wrong[3]).toContain(points(trained.evaluation.wrongAnswerRate, trained.baseline.wrongAnswerRate));
    expect((await metric('oos-recall'))[0]).toBe('Out-of-scope recall');
    expect(await report.textContent()).toContain('the shipped model');
    expect(await report.textContent()).toMatch(/Evaluated on \d{3,} held-out messages/);

    // Promote, then roll back.
    await report.getByTestId('promote').click();
    // (the error line joins in, so a refusal is shown when this fails)
    await expect.poll(async () => `${await page.getByTestId('model-current').textContent()}${await page.getByTestId('tuning-error').textContent()}`).toBe(`In use: ${trained.version}`);
    expect(await page.getByTestId('tuning-status').textContent()).toBe(`${trained.version} is now in use on every node.`);
    expect(await page.locator(`[data-testid="model-version"][data-version="${trained.version}"]`).getAttribute('data-status')).toBe('promoted');
    expect((await api<{ pointer: { current: string | null } }>(context, '/api/tuning/models')).pointer.current).toBe(trained.version);
    await page.getByTestId('rollback').click();
    await expect.poll(() => page.getByTestId('model-current').textContent()).toBe('In use: the shipped model');
    expect(await page.getByTestId('tuning-status').textContent()).toBe('Rolled back; the shipped model is in use on every node.');
    expect(await page.getByTestId('rollback').isDisabled()).toBe(true);
    expect(await page.locator(`[data-testid="model-version"][data-version="${trained.version}"]`).getAttribute('data-status')).toBe('retired');

    // A candidate worse than the model it was compared with: the server's sentence is shown.
    await page.locator(`[data-testid="model-show"][data-version="${WORSE}"]`).click();
    await expect.poll(() => report.getAttribute('data-version')).toBe(WORSE);
    await report.getByTestId('promote').click();
    await expect.poll(() => page.getByTestId('tuning-error').textContent()).toBe(
      `Model ${WORSE} is worse than the one in use (in-scope accuracy 0.612 vs 0.900, wrong answers 0.200 vs 0.050); not promoted.`,
    );
    expect(await page.getByTestId('model-current').textContent()).toBe('In use: the shipped model');

    // The log: who, when, what.
    const log = page.getByTestId('tuning-log');
    for (const action of ['policy.proposed', 'policy.applied', 'candidates.refreshed', 'candidate.accept', 'candidate.reject', 'candidate.relabel', 'model.trained', 'model.promoted', 'model.rolled_back']) {
      const entry = log.locator(`tr[data-action="${action}"]`).first();
      const [at, by, what] = (await entry.locator('td').allTextContents()).map((t) => t.trim());
      expect(at, action).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
      expect(by, action).toBe(ANALYST.email);
      expect(what, action).toBeTruthy();
    }
    expect(await log.locator('tr[data-action="policy.applied"] td').nth(2).textContent()).toBe(
      `Applied a policy change: ${INTENT}, answer at confidence 0.85 or more → hand off to a person; answer at confidence 0.85 or more`,
    );
    expect(await log.locator('tr[data-action="candidate.relabel"] td').nth(2).textContent()).toBe(`Relabelled a phrase: “${RELABELLED}” as ${CHARGED_TWICE}`);
    expect(await log.locator('tr[data-action="model.rolled_back"] td').nth(2).textContent()).toBe(`Rolled back the model: ${trained.version} → the shipped model`);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    await tuning.screenshot({ path: 'test-artifacts/tuning.png' });
    // The first look at the API (401) and the refused promotion (400) are logged by the browser; nothing else.
    expect(problems.filter((p) => !/status of 40[01]/.test(p))).toEqual([]);
    await context.close();
  }, 180_000);
});
