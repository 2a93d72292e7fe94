import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { collectPageErrors, launchBrowser } from './support/browser.js';
import { startApp, type RunningApp } from './support/harness.js';

let server: RunningApp;
let browser: Browser;

beforeAll(async () => {
  server = await startApp();
  browser = await launchBrowser();
  mkdirSync('test-artifacts', { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the widget in a real browser', () => {
  it('answers on the demo page and keeps the history across a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors = collectPageErrors(page);
    await page.goto(server.url + '/');
    await expect(page.title()).resolves.toMatch(/Melodrift Help Centre/);
    await page.locator('support-chat').locator('button.launcher').click();
    const log = page.locator('support-chat').locator('.log');
    await log.getByText("I'm the Melodrift help bot").waitFor();
    const input = page.locator('support-chat').locator('.composer textarea');
    await expect(input.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).resolves.toBe(true);
    await input.fill('I was charged twice this month');
    await input.press('Enter');
    await log.locator('.msg.bot', { hasText: 'double charge' }).waitFor({ timeout: 5000 });
    await log.locator('.msg.listener:not([data-pending])', { hasText: 'I was charged twice this month' }).waitFor();
    // the answer's Markdown became elements, not text with asterisks
    await expect(log.locator('.msg.bot strong').first().textContent()).resolves.toMatch(/pending authorisation/);
    await page.screenshot({ path: 'test-artifacts/widget-desktop.png' });

    await page.reload();
    await page.locator('support-chat').locator('button.launcher').click();
    await log.locator('.msg.listener', { hasText: 'I was charged twice this month' }).waitFor();
    await log.locator('.msg.bot', { hasText: 'double charge' }).waitFor();
    expect(await log.locator('.msg.listener', { hasText: 'I was charged twice this month' }).count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('offers a person for gibberish and fits a phone screen', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 667 }, hasTouch: true, isMobile: true });
    const page = await context.newPage();
    await page.goto(server.url + '/');
    const widget = page.locator('support-chat');
    await widget.locator('button.launcher').click();
    const input = widget.locator('.composer textarea');
    await input.fill('zxqv plorbt wibblefrotz');
    await widget.locator('.composer button[type=submit]').click();
    await widget.locator('.msg.bot', { hasText: 'not sure I understood' }).waitFor();
    const person = widget.locator('.quick button', { hasText: 'Talk to a person' });
    await person.waitFor();
    const box = await widget.locator('.panel').boundingBox();
    expect(box).not.toBeNull();
    expect(box!.width).toBeLessThanOrEqual(375);
    expect(box!.height).toBeLessThanOrEqual(667);
    const sendBox = await widget.locator('.composer button[type=submit]').boundingBox();
    expect(sendBox!.y + sendBox!.height).toBeLessThanOrEqual(667);
    await person.click();
    await widget.locator('.msg.bot', { hasText: 'passing you to a person' }).waitFor();
    await page.screenshot({ path: 'test-artifacts/widget-phone.png' });
    await context.close();
  });

  it('renders hostile text as text', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + '/');
    await page.evaluate(() => ((window as unknown as { pwned: number }).pwned = 0));
    const widget = page.locator('support-chat');
    await widget.locator('button.launcher').click();
    const payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    await widget.locator('.composer textarea').fill(payload);
    await widget.locator('.composer textarea').press('Enter');
    await widget.locator('.msg.listener .body', { hasText: '<img src=x' }).waitFor();
    await widget.locator('.msg.bot').nth(1).waitFor();
    expect(await widget.locator('.log img, .log script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned: number }).pwned)).toBe(0);
    await page.close();
  });
});

describe('the survey in a real browser', () => {
  it('asks how satisfied the listener is when the chat ends and stores the answer', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + '/');
    const widget = page.locator('support-chat');
    await widget.locator('button.launcher').click();
    await widget.locator('.composer textarea').fill('thanks, bye!');
    await widget.locator('.composer textarea').press('Enter');
    await widget.locator('.survey-question', { hasText: 'How satisfied are you with this chat?' }).waitFor();
    await widget.locator('.survey-scale button[data-rating="4"]').click();
    await widget.locator('.survey textarea').fill('<b>fast</b> help');
    await widget.locator('.survey-resolved button[data-resolved="true"]').click();
    await widget.locator('.survey-submit').click();
    await widget.locator('.survey-thanks').waitFor();
    await page.screenshot({ path: 'test-artifacts/widget-survey.png' });
    const surveys = await server.store.listSurveys();
    expect(surveys.find((s) => s.comment === '<b>fast</b> help')).toMatchObject({ rating: 4, resolved: true });
    // after a reload the answered survey is not asked again
    await page.reload();
    await widget.locator('button.launcher').click();
    await widget.locator('.ended').waitFor();
    expect(await widget.locator('.survey-question').count()).toBe(0);
    await page.close();
  });
});
