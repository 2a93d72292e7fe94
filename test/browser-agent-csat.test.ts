import { surveyRecord } from './support/surveys.js';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../scripts/build-console.js';
import { buildApp, type App } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { wilsonInterval } from '../server/domain/csat-analytics.js';
import type { HandledBy, SurveyRecord } from '../server/domain/csat.js';
import { PATHS } from '../server/paths.js';
import type { ChatStore } from '../server/store/chat-store.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { collectPageErrors, launchBrowser } from './support/browser.js';
import { shippedBot } from './support/harness.js';

const AGENT = { email: 'dana@melodrift.test', displayName: 'Dana Reyes', password: 'correct horse battery staple' };
const XSS = '<img src=x onerror="window.__pwned = true"> the fix did not work';

let built: App;
let store: ChatStore;
let url: string;
let browser: Browser;

const DAY_MS = 24 * 60 * 60 * 1000;
let counter = 0;
/** A survey that ended `daysAgo` days before now (inside the page's default 30 days). */
function survey(handledBy: HandledBy, agentIds: string[], rating: number | null, daysAgo: number, fields: Partial<SurveyRecord> = {}): SurveyRecord {
  counter += 1;
  return surveyRecord(handledBy, agentIds, rating, new Date(Date.now() - daysAgo * DAY_MS - counter * 1000).toISOString(), fields);
}

const pct = (value: number) => `${Math.round(value * 100)}%`;
function intervalText(satisfied: number, n: number): string {
  const interval = wilsonInterval(satisfied, n)!;
  return `95% interval ${pct(Math.round(interval.low * 10_000) / 10_000)}–${pct(Math.round(interval.high * 10_000) / 10_000)}`;
}

beforeAll(async () => {
  await buildConsole();
  // The whole application (console page, sessions, agent socket, this route).
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', SIGNIN_RATE_LIMIT_PER_MINUTE: '10000' });
  store = createMemoryStore();
  built = await buildApp({ config, store, bot: await shippedBot(), widgetBundlePath: PATHS.widgetBundle(), consoleBundlePath: PATHS.consoleBundle(), publicDir: PATHS.publicDir() });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(built.app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  mkdirSync('test-artifacts', { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await built?.app.close();
  await store?.close();
});


describe('the agent’s own CSAT page in the console, in a real browser', () => {
  it('shows my CSAT against the team’s, the difference in words, the trend by day and my comments as text', async () => {
    const dana = (await createAgentAccount(store, { ...AGENT, languages: ['en'], capacity: 3, role: 'agent' })).id;
    const ben = (await createAgentAccount(store, { email: 'ben@melodrift.test', displayName: 'Ben Okafor', password: AGENT.password, languages: ['en'], role: 'agent' })).id;
    const records = [
      // Dana: 5, 4, 2 (with the hostile comment), 5 -> 3 of 4
      survey('bot_then_agent', [dana], 5, 3, { comment: 'Dana sorted my billing out' }),
      survey('agent', [dana], 4, 3),
      survey('agent', [dana], 2, 1, { comment: XSS }),
      survey('agent', [ben, dana], 5, 1),
      // Ben: 1, 2 -> the team is 3 + 0 of 6
      survey('agent', [dana, ben], 1, 2, { comment: 'Nobody helped me' }),
      survey('agent', [ben], 2, 1),
      // the bot's own chats are not the team's
      survey('bot', [], 5, 1, { comment: 'The bot was enough' }),
      // outside the last 30 days
      survey('agent', [dana], 1, 45, { comment: 'Long ago' }),
    ];
    for (const record of records) await store.saveSurvey(record);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const byId = (id: string) => page.getByTestId(id);
    await page.goto(url + '/console');
    await byId('signin-email').fill(AGENT.email);
    await byId('signin-password').fill(AGENT.password);
    await byId('signin-submit').click();
    await expect.poll(() => byId('agent-name').textContent()).toBe(AGENT.displayName);
    await page.locator('[data-testid="presence"][data-status]').waitFor();
    await byId('presence').selectOption('away');
    await page.locator('[data-testid="presence"][data-status="away"]').waitFor();

    /* ---- open My CSAT ---- */
    await byId('my-csat').click();
    const view = byId('my-csat-view');
    await view.waitFor();
    await expect(byId('my-csat').getAttribute('aria-pressed')).resolves.toBe('true');
    const mine = byId('my-csat-figure');
    const team = byId('team-csat-figure');
    await expect.poll(() => mine.getByTestId('csat-value').textContent()).toBe('75%');
    await expect(mine.getByTestId('csat-n').textContent()).resolves.toBe('3 of 4 ratings satisfied (4 or 5)');
    await expect(mine.getByTestId('csat-interval').textContent()).resolves.toBe(intervalText(3, 4));
    await expect(team.getByTestId('csat-value').textContent()).resolves.toBe('50%');
    await expect(team.getByTestId('csat-n').textContent()).resolves.toBe('3 of 6 ratings satisfied (4 or 5)');
    await expect(team.getByTestId('csat-interval').textContent()).resolves.toBe(intervalText(3, 6));
    await expect(byId('my-csat-difference').textContent()).resolves.toMatch(/no clear difference from the team/i);
    await expect(byId('my-csat-period').textContent()).resolves.toMatch(/^Conversations that ended from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(UTC\)\.$/);

    /* ---- the trend: one row per day with ratings, my n and the team's ---- */
    const days = byId('my-csat-trend').getByTestId('my-csat-day');
    const rows = await days.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.length).toBeLessThanOrEqual(4);
    const totals = rows.reduce((sum, row) => ({ me: sum.me + Number(row[2]), team: sum.team + Number(row[4]) }), { me: 0, team: 0 });
    expect(totals).toEqual({ me: 4, team: 6 });
    for (const row of rows) expect(row[0]).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    /* ---- my comments only, newest first, rendered as text ---- */
    const comments = byId('my-csat-comments').getByTestId('my-csat-comment');
    await expect(comments.count()).resolves.toBe(2);
    await expect(comments.nth(0).getByTestId('my-csat-comment-text').textContent()).resolves.toBe(XSS);
    await expect(comments.nth(0).getByTestId('my-csat-comment-rating').textContent()).resolves.toBe('2/5');
    await expect(comments.nth(1).getByTestId('my-csat-comment-text').textContent()).resolves.toBe('Dana sorted my billing out');
    await expect(byId('my-csat-comments').locator('img').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).resolves.toBeUndefined();
    const viewText = await view.textContent();
    for (const other of ['Nobody helped me', 'The bot was enough', 'Long ago']) expect(viewText).not.toContain(other);

    await page.screenshot({ path: 'test-artifacts/agent-csat.png', fullPage: true });

    /* ---- back to the chats, and the left messages view closes My CSAT ---- */
    await page.getByRole('button', { name: 'Back to chats' }).last().click();
    await expect(view.isHidden()).resolves.toBe(true);
    await expect(byId('queue-empty').isVisible()).resolves.toBe(true);
    await byId('my-csat').click();
    await view.waitFor();
    await byId('left-messages').click();
    await byId('left-messages-view').waitFor();
    await expect(view.isHidden()).resolves.toBe(true);
    await expect(byId('my-csat').getAttribute('aria-pressed')).resolves.toBe('false');

    expect(errors).toEqual([]);
    await context.close();
  });
});
