import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnalytics } from '../scripts/build-analytics.js';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { csatByIntent, summarize } from '../server/domain/csat-analytics.js';
import type { HandledBy, SurveyRecord } from '../server/domain/csat.js';
import { AppError, httpErrorBody, toAppError } from '../server/errors.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { registerAnalyticsRoutes } from '../server/transport/analytics-routes.js';
import { registerSessionRoutes } from '../server/transport/session-routes.js';
import { launchBrowser, watchPage } from './support/browser.js';
import { surveyRecord } from './support/surveys.js';

const PASSWORD = 'correct horse battery staple';
const ANALYST = { email: 'ines@melodrift.test', displayName: 'Inés Analyst' };
const AGENT = { email: 'dana@melodrift.test', displayName: 'Dana Reyes' };
const XSS_COMMENT = '<img src=x onerror="window.__xss=1"> not great';

/** A deterministic pseudo-random sequence (LCG), so the fixture data is the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return state / 4294967296;
  };
}

/** Two weeks of ended conversations across cohorts, intents, agents and languages. */
function fixtureSurveys(agentIds: string[]): SurveyRecord[] {
  const next = random(42);
  const intents = ['billing.refund', 'account.password', 'playback.offline', 'plan.change'];
  const reasons = ['requested', 'not_understood', 'frustrated', 'policy'];
  const records: SurveyRecord[] = [];
  for (let i = 0; i < 280; i += 1) {
    const day = i % 14;
    const intent = intents[i % intents.length]!;
    const handledBy: HandledBy = next() < 0.55 ? 'bot' : next() < 0.7 ? 'bot_then_agent' : 'agent';
    // account.password: the bot is rated far better than people (a flagged difference).
    const goodChance = intent === 'account.password' ? (handledBy === 'bot' ? 0.95 : 0.25) : handledBy === 'bot' ? 0.7 : 0.75;
    const answered = next() < 0.8;
    const rating = answered ? (next() < goodChance ? 4 + Math.round(next()) : 1 + Math.floor(next() * 3)) : null;
    const endedAt = new Date(Date.UTC(2025, 2, 1 + day, 8 + (i % 10), (i * 7) % 60)).toISOString();
    const agent = handledBy === 'bot' ? [] : [agentIds[i % agentIds.length]!];
    records.push(
      surveyRecord(handledBy, agent, rating, endedAt, {
        conversationId: `conv_browser${String(i).padStart(4, '0')}`,
        botIntents: handledBy === 'agent' ? [] : [intent],
        agentIntent: handledBy === 'bot' ? null : intent,
        language: i % 3 === 0 ? 'es' : 'en',
        handoffReason: handledBy === 'bot' ? null : reasons[i % reasons.length],
        waitMs: handledBy === 'bot' ? null : 20_000,
        comment: rating !== null && i % 9 === 0 ? (i === 0 ? XSS_COMMENT : rating >= 4 ? `Helpful with ${intent}, thanks` : `Still stuck on ${intent}`) : null,
        resolved: rating === null ? null : rating >= 4,
      }),
    );
  }
  return records;
}

let app: FastifyInstance;
let url: string;
let browser: Browser;
let surveys: SurveyRecord[];

beforeAll(async () => {
  await buildAnalytics();
  const store = createMemoryStore();
  const account = (who: { email: string; displayName: string }, role: 'agent' | 'analyst') => createAgentAccount(store, { ...who, password: PASSWORD, languages: ['en', 'es'], role });
  await account(ANALYST, 'analyst');
  const agents = [await account(AGENT, 'agent'), await account({ email: 'luca@melodrift.test', displayName: 'Luca Moretti' }, 'agent')];
  surveys = fixtureSurveys(agents.map((a) => a.id));

  app = Fastify({ logger: false });
  app.setErrorHandler((error, _request, reply) => {
    const known = error instanceof AppError ? error : toAppError(error);
    void reply.code(known.status).send(httpErrorBody(known));
  });
  registerSessionRoutes(app, { store, secureCookies: false });
  registerAnalyticsRoutes(app, { source: { listSurveys: async () => surveys }, store, brand: 'Melodrift' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  mkdirSync('test-artifacts', { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});


async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.getByTestId('signin-email').fill(email);
  await page.getByTestId('signin-password').fill(password);
  await page.getByTestId('signin-submit').click();
}

/** How many pixels of a canvas are drawn (alpha > 0). */
function drawnPixels(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((node) => {
    const canvas = node as HTMLCanvasElement;
    const context = canvas.getContext('2d');
    if (!context || canvas.width === 0 || canvas.height === 0) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) count += 1;
    return count;
  });
}

describe('the analyst dashboard in a real browser', () => {
  it('an analyst signs in and sees summary, charts drawn from the data, flagged intents, comments as text, and downloads a CSV', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems = watchPage(page, url);
    await page.goto(url + '/analytics');
    await expect(page.title()).resolves.toBe('Melodrift · CSAT analytics');

    // The API answered 401: the sign-in form; a wrong password is told.
    await signIn(page, ANALYST.email, 'not the password');
    await expect.poll(() => page.getByTestId('signin-error').textContent()).toMatch(/wrong/i);
    await signIn(page, ANALYST.email);
    await page.locator('main.dashboard[data-ready="true"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('analyst-name').textContent()).toBe(`Signed in as ${ANALYST.displayName}`);

    // Summary cards show the real figures.
    const summary = summarize(surveys);
    const asPct = (x: number | null) => `${((x ?? 0) * 100).toFixed(1)}%`;
    const cards = page.getByTestId('summary');
    await expect.poll(() => page.getByTestId('card-csat').textContent()).toContain(asPct(summary.overall.csat));
    expect(await page.getByTestId('card-csat').textContent()).toContain(`n = ${summary.overall.n} answered`);
    expect(await page.getByTestId('card-containment').textContent()).toContain(asPct(summary.containment.rate));
    expect(await page.getByTestId('containment-definition').textContent()).toContain('handledBy = bot');
    expect(await cards.textContent()).toContain('Survey response rate');

    // Charts: canvases drawn by Chart.js.
    for (const id of ['chart-cohorts', 'chart-by-day', 'chart-by-intent', 'chart-by-agent', 'chart-handoffs']) {
      expect(await drawnPixels(page, id), id).toBeGreaterThan(2000);
    }

    // By intent: the flagged difference is highlighted; the others are not.
    const flagged = csatByIntent(surveys).rows.filter((r) => r.differs).map((r) => r.intent);
    expect(flagged).toEqual(['account.password']);
    const flaggedRow = page.locator('[data-testid="table-by-intent"] tr[data-differs="true"]');
    await expect.poll(() => flaggedRow.count()).toBe(1);
    expect(await flaggedRow.getAttribute('data-intent')).toBe('account.password');
    expect(await flaggedRow.getAttribute('class')).toBe('flagged');
    expect(await flaggedRow.textContent()).toContain('differs: Bot higher');

    // Comments are text: the markup in one is shown, never run.
    const comments = page.getByTestId('comments');
    await expect.poll(() => comments.textContent()).toContain(XSS_COMMENT);
    expect(await comments.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    // Filters: low ratings only.
    await page.getByTestId('comments-maxRating').selectOption('2');
    await page.getByTestId('comments-apply').click();
    await expect.poll(async () => (await comments.locator('tbody tr').allTextContents()).every((row) => /[12] \/ 5/.test(row))).toBe(true);
    expect(await page.getByTestId('csv-comments').getAttribute('href')).toBe('/api/analytics/comments.csv?maxRating=2');

    await page.screenshot({ path: 'test-artifacts/analytics.png', fullPage: true });

    // The CSV link under the intent table downloads that table.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-by-intent').click()]);
    expect(download.suggestedFilename()).toBe('csat-by-intent-all_all.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.startsWith('\uFEFFintent,ended,n,csat,')).toBe(true);
    expect(csv.trimEnd().split('\r\n')).toHaveLength(csatByIntent(surveys).rows.length + 1);

    // A period: only the first week.
    await page.getByTestId('range-from').fill('2025-03-01');
    await page.getByTestId('range-to').fill('2025-03-07');
    await page.getByRole('button', { name: 'Apply' }).first().click();
    await expect.poll(() => page.getByTestId('csv-by-intent').getAttribute('href')).toBe('/api/analytics/by-intent.csv?from=2025-03-01&to=2025-03-07');
    await page.locator('main.dashboard[data-ready="true"]').waitFor();
    expect(page.url()).toBe(`${url}/analytics?from=2025-03-01&to=2025-03-07`);
    expect(await drawnPixels(page, 'chart-by-day')).toBeGreaterThan(2000);

    // The first look at the API and the wrong password answer 401, which the browser logs; nothing else.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    expect(problems).toHaveLength(2);
    await context.close();
  });

  it('an agent who signs in is told their role cannot open analytics', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const problems = watchPage(page, url);
    await page.goto(url + '/analytics');
    await signIn(page, AGENT.email);
    await expect.poll(() => page.getByTestId('forbidden').textContent()).toContain('signed in with the agent role');
    // A reload asks the API, which answers 403: the same message.
    await page.reload();
    await expect.poll(() => page.getByTestId('forbidden').textContent()).toContain('analysts and admins');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('signin-email').waitFor();
    // 401 and 403 answers of the API are logged by the browser as failed loads; nothing else.
    expect(problems.filter((p) => !/status of 40[13]/.test(p))).toEqual([]);
    await context.close();
  });
});
