import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { createCsatAlerts, lowCsatScopes } from '../server/domain/csat-alerts.js';
import type { SurveyRecord } from '../server/domain/csat.js';
import { launchBrowser } from './support/browser.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { startApp } from './support/harness.js';
import { surveyRecord } from './support/surveys.js';

function survey(handledBy: SurveyRecord['handledBy'], rating: number, intent: string, minutesAgo: number): SurveyRecord {
  const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return surveyRecord(handledBy, handledBy === 'bot' ? [] : ['agt_a'], rating, at, { botIntents: [intent] });
}

describe('CSAT alerts', () => {
  it('flags the scopes below the level over the window, only with enough responses', () => {
    const rules = { below: 0.7, minResponses: 5, windowMs: 3600_000 };
    const surveys = [
      ...Array.from({ length: 6 }, (_, i) => survey('bot', i < 4 ? 2 : 5, 'billing.receipt', 10)), // bot 2/6 satisfied
      ...Array.from({ length: 6 }, () => survey('agent', 5, 'billing.receipt', 10)),
      ...Array.from({ length: 4 }, () => survey('bot', 1, 'troubleshooting.buffering', 10)), // too few
      ...Array.from({ length: 20 }, () => survey('bot', 1, 'billing.refund_request', 600)), // outside the window
    ];
    const low = lowCsatScopes(surveys, rules, new Date());
    // service 8/16, bot 2/10, receipt 8/12 (all < 0.7); buffering has only 4 answers; refunds are outside the window
    expect(low.map((l) => l.scope)).toEqual([{ kind: 'service' }, { kind: 'bot' }, { kind: 'intent', intent: 'billing.receipt' }]);
    expect(low.map((l) => l.n)).toEqual([16, 10, 12]);
    expect(low[1]!.csat).toBeCloseTo(2 / 10);
  });

  it('raises each scope once when a check starts while another still waits on a slow webhook', async () => {
    const posted: string[] = [];
    const hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        posted.push((JSON.parse(body) as { alert: { scope: { kind: string } } }).alert.scope.kind);
        setTimeout(() => response.writeHead(204).end(), 200);
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const store = createMemoryStore();
      for (let i = 0; i < 6; i++) await store.saveSurvey(survey('bot', 1, 'billing.receipt', 5));
      const alerts = createCsatAlerts({ store, rules: { below: 0.7, minResponses: 5, windowMs: 3600_000 }, webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` });
      await Promise.all([alerts.check(), alerts.check(), alerts.check()]);
      expect(posted.sort()).toEqual(['bot', 'intent', 'service']);
      expect((await alerts.list()).filter((a) => a.status === 'active')).toHaveLength(3);
    } finally {
      hook.close();
    }
  });

  it('posts an alert to the webhook once, shows it on the dashboard, and resolves it', async () => {
    const received: { type: string; alert: { scope: { kind: string }; status: string } }[] = [];
    const hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const { port } = hook.address() as AddressInfo;
    const app = await startApp({ env: { ALERT_CHECK_MS: '150', ALERT_MIN_RESPONSES: '5', ALERT_CSAT_BELOW: '0.7', ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook` } });
    const browser = await launchBrowser();
    try {
      for (let i = 0; i < 8; i++) await app.store.saveSurvey(survey('bot', i < 6 ? 1 : 5, 'billing.receipt', 5));
      await expect.poll(() => received.filter((r) => r.type === 'csat.alert').map((r) => r.alert.scope.kind).sort(), { timeout: 10_000 }).toEqual(['bot', 'intent', 'service']);
      await new Promise((r) => setTimeout(r, 600)); // several more checks: no repeated posts
      expect(received.filter((r) => r.type === 'csat.alert')).toHaveLength(3);

      await createAgentAccount(app.store, { email: 'alerts@example.com', displayName: 'Al', password: 'analyst password', languages: ['en'], role: 'analyst' });
      const page = await browser.newPage();
      await page.goto(`${app.url}/analytics`);
      await page.getByTestId('signin-email').fill('alerts@example.com');
      await page.getByTestId('signin-password').fill('analyst password');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('alert').first().waitFor();
      expect(await page.getByTestId('alert').count()).toBe(3);
      await expect(page.getByTestId('alerts').textContent()).resolves.toMatch(/The bot: CSAT 25%/);
      await page.screenshot({ path: 'test-artifacts/analytics-alerts.png' });

      for (let i = 0; i < 40; i++) await app.store.saveSurvey(survey('bot', 5, 'billing.receipt', 1));
      await expect.poll(() => received.filter((r) => r.type === 'csat.recovered').length, { timeout: 10_000 }).toBe(3);
    } finally {
      await browser.close();
      await app.stop();
      hook.close();
    }
  }, 60_000);
});
