import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.js';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { collectPageErrors, launchBrowser } from './support/browser.js';
import { startApp, type RunningApp } from './support/harness.js';

let server: RunningApp;
let browser: Browser;

const AGENT = { email: 'dana@melodrift.test', displayName: 'Dana Reyes', password: 'correct horse battery staple' };

beforeAll(async () => {
  await buildConsole();
  server = await startApp();
  browser = await launchBrowser();
  mkdirSync('test-artifacts', { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A listener on the demo page who asks for a person; resolves once they wait in the queue. */
async function listenerAsksForPerson(text = 'I want to talk to a human') {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto(server.url + '/');
  const widget = page.locator('support-chat');
  await widget.locator('button.launcher').click();
  const log = widget.locator('.log');
  await log.getByText("I'm the Melodrift help bot").waitFor();
  const input = widget.locator('form.composer textarea');
  await input.fill(text);
  await input.press('Enter');
  await widget.locator('.queue-status').waitFor({ timeout: 10_000 });
  return { context, page, widget, log, input, errors };
}

/** Signs an agent in through the form and sets them away (so nothing is assigned to them by itself). */
async function agentSignsIn(account: { email: string; password: string; displayName: string }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto(server.url + '/console');
  await page.getByTestId('signin-email').fill(account.email);
  await page.getByTestId('signin-password').fill(account.password);
  await page.getByTestId('signin-submit').click();
  await expect.poll(() => page.getByTestId('agent-name').textContent()).toBe(account.displayName);
  await page.locator('[data-testid="presence"][data-status]').waitFor();
  await page.getByTestId('presence').selectOption('away');
  await page.locator('[data-testid="presence"][data-status="away"]').waitFor();
  return { context, page, errors, byId: (id: string) => page.getByTestId(id) };
}


describe('handoff from the bot to a person, in two real browsers', () => {
  it('a listener asks for a person, an agent takes the chat in the console, they talk both ways, and the agent closes it with a resolution', async () => {
    await createAgentAccount(server.store, { ...AGENT, languages: ['en'], capacity: 3, role: 'agent' });

    /*
     * The agent signs in first and steps away: an online agent would be given the chat at
     * once (auto-assignment), and this test wants the listener to wait and the agent to take it.
     */
    const agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const agent = await agentContext.newPage();
    const agentErrors = collectPageErrors(agent);
    await agent.goto(server.url + '/console');
    await expect(agent.title()).resolves.toBe('Melodrift · Agent console');
    const byId = (id: string) => agent.getByTestId(id);
    await byId('signin-email').fill(AGENT.email);
    await byId('signin-password').fill('not the password');
    await byId('signin-submit').click();
    await expect.poll(() => byId('signin-error').textContent()).toMatch(/wrong e-mail or password/i);
    // then with the keyboard only
    await byId('signin-email').focus();
    await agent.keyboard.press('Tab');
    await expect(byId('signin-password').evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await agent.keyboard.type(AGENT.password);
    await agent.keyboard.press('Enter');
    await expect.poll(() => byId('agent-name').textContent()).toBe(AGENT.displayName);
    await agent.locator('[data-testid="connection"][data-state="online"]').waitFor();
    await agent.locator('[data-testid="presence"][data-status]').waitFor();
    await byId('presence').selectOption('away');
    await agent.locator('[data-testid="presence"][data-status="away"]').waitFor();
    await byId('queue-empty').waitFor();

    /* ---- the listener asks for a person and waits in the queue ---- */
    const listenerContext = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const listener = await listenerContext.newPage();
    const listenerErrors = collectPageErrors(listener);
    await listener.goto(server.url + '/');
    const widget = listener.locator('support-chat');
    await widget.locator('button.launcher').click();
    const log = widget.locator('.log');
    await log.getByText("I'm the Melodrift help bot").waitFor();
    const input = widget.locator('form.composer textarea');
    await input.fill('I want to talk to a human');
    const firstTypedAt = Date.now();
    await input.press('Enter');
    const queueStatus = widget.locator('.queue-status');
    await queueStatus.waitFor({ timeout: 10_000 });
    await expect.poll(() => queueStatus.textContent()).toMatch(/\b1\b/);
    await listener.screenshot({ path: 'test-artifacts/handoff-1-listener-queued.png' });

    /* ---- the queue shows the listener; the agent takes the chat ---- */
    const item = byId('queue-item').first();
    await item.waitFor({ timeout: 10_000 });
    const conversationId = await item.getAttribute('data-conversation-id');
    expect(conversationId).toMatch(/^conv_/);
    await expect.poll(() => item.textContent()).toMatch(/asked for a person/i);
    await expect.poll(() => item.getByTestId('queue-wait').textContent()).toMatch(/\d+ s|min/);
    await agent.screenshot({ path: 'test-artifacts/handoff-2-console-queue.png' });
    await item.getByTestId('take').click();
    const tab = agent.locator(`[data-testid="chat-tab"][data-conversation-id="${conversationId}"]`);
    await tab.waitFor();
    await expect(tab.getAttribute('aria-selected')).resolves.toBe('true');
    await byId('queue-item').first().waitFor({ state: 'detached' });
    await expect(byId('notice').isHidden()).resolves.toBe(true);

    // the whole transcript, the bot's part with its intent guess and confidence
    const transcript = byId('transcript');
    await transcript.locator('[data-testid="message"][data-author="listener"]', { hasText: 'I want to talk to a human' }).waitFor();
    await transcript.locator('[data-testid="understanding"][data-intent="meta.human_agent"]').first().waitFor();
    await expect.poll(() => transcript.locator('[data-testid="understanding"][data-intent="meta.human_agent"]').first().textContent()).toMatch(/meta\.human_agent · \d+%/);
    await expect.poll(() => byId('context-reason').textContent()).toMatch(/asked for a person/i);
    await expect(byId('composer').evaluate((el) => el === document.activeElement)).resolves.toBe(true);

    /* ---- they talk both ways ---- */
    await byId('composer').fill('Hi, I am Dana from the Melodrift team. How can I help?');
    await widget.locator('.typing', { hasText: /typing/i }).waitFor({ timeout: 5000 }); // the agent's typing reaches the listener
    await byId('send').click();
    const reply = log.locator('.msg.agent', { hasText: 'How can I help?' });
    await reply.waitFor({ timeout: 5000 });
    // the listener is told who is helping them
    await log.getByText(AGENT.displayName).first().waitFor();
    await transcript.locator('[data-testid="message"][data-author="agent"]:not([data-pending])', { hasText: 'How can I help?' }).waitFor();

    // the widget sends "typing" at most every 3 s
    await listener.waitForTimeout(Math.max(0, 3100 - (Date.now() - firstTypedAt)));
    await input.fill('My playlist disappeared <img src=x onerror="window.pwned=1">');
    await byId('listener-typing').waitFor({ timeout: 5000 }); // the listener's typing reaches the agent
    await input.press('Enter');
    await transcript.locator('[data-testid="message"][data-author="listener"]', { hasText: 'My playlist disappeared <img src=x' }).waitFor({ timeout: 5000 });
    expect(await transcript.locator('img').count()).toBe(0);
    expect(await agent.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await expect.poll(() => byId('announcer').textContent()).toMatch(/My playlist disappeared/); // the ARIA live region
    await agent.screenshot({ path: 'test-artifacts/handoff-3-console-chat.png' });
    await listener.screenshot({ path: 'test-artifacts/handoff-4-listener-chat.png' });

    /* ---- the agent closes with a resolution; the listener sees the chat end ---- */
    await byId('close-chat').click();
    await byId('close-dialog').waitFor();
    await expect.poll(() => byId('close-intent').inputValue()).toBe('meta.human_agent');
    await byId('close-resolved-yes').check();
    await byId('close-intent').fill('account.missing_library');
    await byId('close-note').fill('Playlist restored from the recently deleted list.');
    await agent.screenshot({ path: 'test-artifacts/handoff-5-close-dialog.png' });
    await byId('close-confirm').click();
    await byId('close-dialog').waitFor({ state: 'hidden' });
    await tab.waitFor({ state: 'detached' });
    await expect(byId('chat-tab').count()).resolves.toBe(0);
    await expect(byId('no-chat').isVisible()).resolves.toBe(true);

    const resolutions = await server.store.listItems('resolution');
    expect(resolutions.map((item) => item.data)).toContainEqual(
      expect.objectContaining({ conversationId, resolved: true, intent: 'account.missing_library', note: 'Playlist restored from the recently deleted list.' }),
    );

    const ended = widget.locator('.ended');
    await ended.waitFor({ timeout: 5000 });
    await expect.poll(() => ended.textContent()).toMatch(/this chat has ended/i);
    await listener.screenshot({ path: 'test-artifacts/handoff-6-listener-ended.png' });

    expect(listenerErrors).toEqual([]);
    expect(agentErrors).toEqual([]);
    await listenerContext.close();
    await agentContext.close();
  }, 60_000);

  it('handles several chats at once: unread markers, keyboard tabs, canned replies, transfer, return to bot, left messages', async () => {
    const account = { email: 'alex@melodrift.test', displayName: 'Alex Moreno', password: 'another long passphrase' };
    await createAgentAccount(server.store, { ...account, languages: ['en'], capacity: 3, role: 'agent' });
    await server.store.addItem({
      id: 'item_seededleftmsg01',
      kind: 'left_message',
      at: new Date().toISOString(),
      data: { conversationId: 'conv_seededleftmsg01', email: 'sam@example.com', text: 'Please write back <script>window.pwned=1</script>', language: 'en' },
    });
    const agent = await agentSignsIn(account);
    const { byId } = agent;

    const first = await listenerAsksForPerson('I want to talk to a human');
    await agent.page.locator('[data-testid="queue-item"]').first().waitFor();
    const second = await listenerAsksForPerson('can I talk to a real person please');
    await expect.poll(() => byId('queue-item').count()).toBe(2);

    // take next twice: the oldest first; the one taken last is open
    await byId('take-next').click();
    await expect.poll(() => byId('chat-tab').count()).toBe(1);
    await byId('take-next').click();
    await expect.poll(() => byId('chat-tab').count()).toBe(2);
    const [firstTab, secondTab] = [byId('chat-tab').nth(0), byId('chat-tab').nth(1)];
    await expect.poll(() => secondTab.getAttribute('aria-selected')).toBe('true');
    await byId('take-next').click();
    await expect.poll(() => byId('notice').textContent()).toMatch(/nobody is waiting/i);
    await byId('notice').getByRole('button', { name: 'Dismiss' }).click();
    await byId('notice').waitFor({ state: 'hidden' });

    // a message in the chat that is not open marks its tab unread
    await first.input.fill('Hello, anyone there?');
    await first.input.press('Enter');
    await expect.poll(() => firstTab.getAttribute('data-unread')).toBe('1');
    await expect.poll(() => agent.page.title()).toMatch(/^\(1\) /);
    await agent.page.screenshot({ path: 'test-artifacts/handoff-7-console-two-chats.png' });
    await firstTab.click();
    await expect.poll(() => firstTab.getAttribute('data-unread')).toBe('0');
    await byId('transcript').locator('[data-testid="message"][data-author="listener"]', { hasText: 'Hello, anyone there?' }).waitFor();

    // arrow keys move between tabs, Enter opens one
    await firstTab.focus();
    await agent.page.keyboard.press('ArrowRight');
    await expect.poll(() => secondTab.evaluate((el) => el === document.activeElement)).toBe(true);
    await agent.page.keyboard.press('Enter');
    await expect.poll(() => secondTab.getAttribute('aria-selected')).toBe('true');

    // a canned reply fills the composer with plain text
    await agent.page.locator('details.canned > summary').click();
    await byId('canned-filter').fill('charged twice');
    await byId('canned-reply').first().click();
    const filled = await byId('composer').inputValue();
    expect(filled.length).toBeGreaterThan(20);
    expect(filled).not.toContain('**');
    await byId('send').click();
    await second.log.locator('.msg.agent').first().waitFor();

    // transfer the second chat to the Spanish queue: it leaves this agent
    const secondId = await secondTab.getAttribute('data-conversation-id');
    await byId('transfer').click();
    await byId('transfer-queue-es').check();
    await byId('transfer-confirm').click();
    await agent.page.locator(`[data-testid="chat-tab"][data-conversation-id="${secondId}"]`).waitFor({ state: 'detached' });
    await expect.poll(() => firstTab.getAttribute('aria-selected')).toBe('true');

    // give the first chat back to the bot: the listener hears from the bot again
    const botMessages = await first.log.locator('.msg.bot').count();
    await byId('return-to-bot').click();
    await byId('return-to-bot-confirm').click();
    await expect.poll(() => byId('chat-tab').count()).toBe(0);
    await expect.poll(() => first.log.locator('.msg.bot').count()).toBeGreaterThan(botMessages);
    await expect(byId('notice').isHidden()).resolves.toBe(true);

    // the left messages, shown as text
    await byId('left-messages').click();
    const left = byId('left-message').first();
    await left.waitFor();
    await expect.poll(() => left.textContent()).toContain('sam@example.com');
    await expect.poll(() => left.textContent()).toContain('Please write back <script>');
    expect(await byId('left-messages-view').locator('script').count()).toBe(0);
    expect(await agent.page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await agent.page.screenshot({ path: 'test-artifacts/handoff-8-left-messages.png' });

    expect([...agent.errors, ...first.errors, ...second.errors]).toEqual([]);
    await Promise.all([agent.context.close(), first.context.close(), second.context.close()]);
  }, 60_000);
});
