import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { loadConfig } from '../server/config.js';
import { createRedisStore } from '../server/store/redis-store.js';
import { loadShippedBot, redisUrl, startApp, TestClient, uniqueNamespace, type RunningApp } from './support/harness.js';

async function signIn(app: RunningApp, email: string, password: string) {
  return fetch(`${app.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
}
async function cookieOf(app: RunningApp, email: string, password: string) {
  const response = await signIn(app, email, password);
  expect(response.status).toBe(200);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}
async function scanKeys(pattern: string): Promise<string[]> {
  const redis = new Redis(redisUrl());
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  await redis.quit();
  return keys;
}

describe('roles', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ loaded: await loadShippedBot() });
    await createAgentAccount(app.store, { email: 'agent@sec.example', displayName: 'Agent', password: 'agent password', languages: ['en'] });
    await createAgentAccount(app.store, { email: 'analyst@sec.example', displayName: 'Analyst', password: 'analyst password', languages: ['en'], role: 'analyst' });
    await createAgentAccount(app.store, { email: 'admin@sec.example', displayName: 'Admin', password: 'admin password', languages: ['en'], role: 'admin' });
  });
  afterAll(async () => app.stop());

  it('every private route states its role: none without a session, agents not on analytics, tuning or admin, analysts not on admin', async () => {
    const agent = await cookieOf(app, 'agent@sec.example', 'agent password');
    const analyst = await cookieOf(app, 'analyst@sec.example', 'analyst password');
    const admin = await cookieOf(app, 'admin@sec.example', 'admin password');
    const status = async (path: string, cookie?: string) => (await fetch(`${app.url}${path}`, { headers: cookie ? { cookie } : {} })).status;
    for (const path of ['/api/analytics/summary', '/api/tuning/proposals', '/api/admin/audit']) expect(await status(path)).toBe(401);
    for (const path of ['/api/analytics/summary', '/api/tuning/proposals', '/api/admin/audit']) expect(await status(path, agent)).toBe(403);
    expect(await status('/api/analytics/summary', analyst)).toBe(200);
    expect(await status('/api/admin/audit', analyst)).toBe(403);
    expect(await status('/api/admin/audit', admin)).toBe(200);
  });

  it('a role change revokes the account\'s sessions and is audited', async () => {
    const admin = await cookieOf(app, 'admin@sec.example', 'admin password');
    const analyst = await cookieOf(app, 'analyst@sec.example', 'analyst password');
    const account = await app.store.findAgentByEmail('analyst@sec.example');
    const changed = await fetch(`${app.url}/api/admin/agents/${account!.id}/role`, { method: 'POST', headers: { cookie: admin, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'agent' }) });
    expect(changed.status).toBe(200);
    expect((await fetch(`${app.url}/api/analytics/summary`, { headers: { cookie: analyst } })).status).toBe(401);
    const audit = await (await fetch(`${app.url}/api/admin/audit`, { headers: { cookie: admin } })).json();
    expect(audit.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['role.changed', 'signin']));
  });
});

describe('abuse limits', () => {
  it('locks sign-in after repeated failures, per account and per address, even for the right password', async () => {
    const app = await startApp();
    try {
      await createAgentAccount(app.store, { email: 'victim@sec.example', displayName: 'V', password: 'the real password', languages: ['en'] });
      for (let i = 0; i < 5; i++) expect((await signIn(app, 'victim@sec.example', `guess ${i}`)).status).toBe(401);
      const locked = await signIn(app, 'victim@sec.example', 'the real password');
      expect(locked.status).toBe(429);
      expect(await locked.json()).toMatchObject({ code: 'SIGN_IN_LOCKED' });
    } finally {
      await app.stop();
    }
  }, 30_000);

  it('limits HTTP requests per address with a clear error body', async () => {
    const app = await startApp({ env: { HTTP_RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await fetch(`${app.url}/healthz`)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const limited = await fetch(`${app.url}/healthz`);
      expect(limited.status).toBe(429);
      expect(await limited.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    } finally {
      await app.stop();
    }
  });

  it('cuts off an oversized frame and an oversized body while another listener keeps chatting', async () => {
    const app = await startApp();
    try {
      const other = await TestClient.open(app.wsUrl);
      await other.start();
      const big = new WebSocket(app.wsUrl);
      await new Promise((resolve) => big.once('open', resolve));
      const closed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
      big.send('x'.repeat(20 * 1024));
      expect(await closed).toBe(1009);
      other.send({ type: 'message.send', clientId: 'ok1', text: 'hello' });
      await other.waitFor('message.ack');
      const body = await fetch(`${app.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(70 * 1024) }) });
      expect(body.status).toBe(413);
      other.close();
    } finally {
      await app.stop();
    }
  });

  it('limits new conversations and open sockets per address', async () => {
    const app = await startApp({ env: { WIDGET_NEW_CONVERSATIONS_PER_MINUTE: '2', WIDGET_CONNECTIONS_PER_ADDRESS: '3' } });
    try {
      const clients = [await TestClient.open(app.wsUrl), await TestClient.open(app.wsUrl), await TestClient.open(app.wsUrl)];
      await clients[0]!.start();
      await clients[1]!.start();
      clients[2]!.send({ type: 'conversation.start' });
      expect((await clients[2]!.waitFor('error')).code).toBe('RATE_LIMITED');
      await expect(TestClient.open(app.wsUrl)).rejects.toThrow(/429/);
      for (const client of clients) client.close();
    } finally {
      await app.stop();
    }
  });

  it('sends a strict Content-Security-Policy with the console, the dashboard and the help page', async () => {
    const app = await startApp();
    try {
      for (const path of ['/console', '/analytics', '/']) {
        const response = await fetch(`${app.url}${path}`);
        expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
        expect(response.headers.get('content-security-policy')).not.toMatch(/script-src[^;]*unsafe-inline/);
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
      expect((await fetch(`${app.url}/console`)).headers.get('x-frame-options')).toBe('DENY');
    } finally {
      await app.stop();
    }
  });

  it('refuses a weak conversation secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', CONVERSATION_SECRET: 'a'.repeat(40) })).toThrow(/CONVERSATION_SECRET is too weak/);
    expect(() => loadConfig({ NODE_ENV: 'production', CONVERSATION_SECRET: 'abcdabcdabcdabcdabcdabcdabcdabcdabcd' })).toThrow(/too weak/);
    expect(loadConfig({ NODE_ENV: 'production', CONVERSATION_SECRET: 'k3Jq9vXw2LmN8pRtYz5sB7dF4gH6cA1e' }).NODE_ENV).toBe('production');
  });
});

describe('personal data', () => {
  it('masks personal data in stored survey comments, and in the live transcript when the policy says so', async () => {
    const app = await startApp({ env: { PII_REDACT_LIVE: 'true' } });
    try {
      const client = await TestClient.open(app.wsUrl);
      const ready = await client.start();
      client.send({ type: 'message.send', clientId: 'p1', text: 'my card 4111 1111 1111 1111 was charged twice, mail me at ana.ruiz@correo.example' });
      await client.waitFor('message.ack');
      const stored = (await app.store.readEvents(ready.conversationId, 0)).find((e) => e.type === 'message.new' && e.author === 'listener');
      expect(stored && stored.type === 'message.new' && stored.text).toBe('my card [card] was charged twice, mail me at [email]');
      client.send({ type: 'message.send', clientId: 'p2', text: 'adiós' });
      await client.waitFor('conversation.state', (s) => s.to === 'closed');
      client.send({ type: 'survey.answer', rating: 2, comment: 'llamadme al 612 34 56 78, mi DNI es 12345678Z' });
      await client.waitFor('survey.ack');
      expect((await app.store.getSurvey(ready.conversationId))?.comment).toBe('llamadme al [phone], mi DNI es [id]');
      client.close();
    } finally {
      await app.stop();
    }
  });

  it('erases everything about a listener by e-mail (Redis scanned afterwards) and keeps only the survey figures', async () => {
    const namespace = uniqueNamespace('erase');
    const app = await startApp({ store: await createRedisStore({ url: redisUrl(), namespace, tenant: 'test' }) });
    try {
      await createAgentAccount(app.store, { email: 'root@sec.example', displayName: 'Root', password: 'root password!', languages: ['en'], role: 'admin' });
      const admin = await cookieOf(app, 'root@sec.example', 'root password!');
      const client = await TestClient.open(app.wsUrl);
      const ready = await client.start();
      client.send({ type: 'message.send', clientId: 'e1', text: 'I want to talk to a human' });
      await client.waitFor('conversation.state', (s) => s.to === 'queued');
      client.send({ type: 'message.leave', email: 'lola@correo.example', text: 'please call me back' });
      await client.waitFor('message.left');
      client.send({ type: 'survey.answer', rating: 3, comment: 'slow' });
      await client.waitFor('survey.ack');
      client.close();
      expect((await scanKeys(`${namespace}:*${ready.conversationId}*`)).length).toBeGreaterThan(0);

      const exported = await (await fetch(`${app.url}/api/admin/listener-data?email=lola@correo.example`, { headers: { cookie: admin } })).json();
      expect(exported.conversations[0].conversation.id).toBe(ready.conversationId);
      expect(exported.items.some((i: { kind: string }) => i.kind === 'left_message')).toBe(true);

      const erased = await fetch(`${app.url}/api/admin/listener-data?email=lola@correo.example`, { method: 'DELETE', headers: { cookie: admin } });
      expect(erased.status).toBe(200);
      const left = (await scanKeys(`${namespace}:*${ready.conversationId}*`)).filter((key) => !key.includes(':survey:'));
      expect(left).toEqual([]);
      expect(await app.store.listItems('left_message')).toEqual([]);
      expect(await app.store.getSurvey(ready.conversationId)).toMatchObject({ rating: 3, comment: null });
      const redis = new Redis(redisUrl());
      const everything = await redis.eval("local out = {} for _, key in ipairs(redis.call('KEYS', ARGV[1])) do local t = redis.call('TYPE', key).ok if t == 'string' then out[#out+1] = redis.call('GET', key) elseif t == 'list' then for _, v in ipairs(redis.call('LRANGE', key, 0, -1)) do out[#out+1] = v end elseif t == 'hash' then for _, v in ipairs(redis.call('HVALS', key)) do out[#out+1] = v end end end return out", 0, `${namespace}:*`) as string[];
      await redis.quit();
      expect(everything.join('\n')).not.toMatch(/lola@correo|please call me back|talk to a human/);
      const audit = await (await fetch(`${app.url}/api/admin/audit`, { headers: { cookie: admin } })).json();
      expect(audit.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['export', 'erasure']));
    } finally {
      await app.stop();
    }
  });

  it('purges closed conversations after the retention period', async () => {
    const app = await startApp({ env: { RETENTION_DAYS: '1' } });
    try {
      const client = await TestClient.open(app.wsUrl);
      const ready = await client.start();
      client.send({ type: 'message.send', clientId: 'b1', text: 'bye' });
      await client.waitFor('conversation.state', (s) => s.to === 'closed');
      client.close();
      await expect.poll(() => app.store.closedBefore(Date.now() + 1, 10)).toContain(ready.conversationId);
      expect(await app.privacy.purgeExpired()).toBe(0); // closed just now: kept
      const later = Date.now() + 2 * 24 * 3600 * 1000;
      const { createPrivacyService } = await import('../server/domain/privacy-service.js');
      const { createConversationTokens } = await import('../server/domain/conversation-token.js');
      const future = createPrivacyService({ store: app.store, tokens: createConversationTokens('x'.repeat(32)), retentionDays: 1, now: () => new Date(later) });
      expect(await future.purgeExpired()).toBe(1);
      expect(await app.store.getConversation(ready.conversationId)).toBeNull();
      expect(await app.store.readEvents(ready.conversationId, 0)).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});
