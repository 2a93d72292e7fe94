import { surveyRecord } from './support/surveys.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCsat, daysOf, MAX_MY_COMMENTS, resolveRange } from '../server/domain/agent-csat.js';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { wilsonInterval } from '../server/domain/csat-analytics.js';
import type { HandledBy, SurveyRecord } from '../server/domain/csat.js';
import { AppError, httpErrorBody, toAppError } from '../server/errors.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { registerAgentStatsRoutes } from '../server/transport/agent-stats-routes.js';
import { registerSessionRoutes } from '../server/transport/session-routes.js';

const survey = surveyRecord;

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;
function expectedFigure(satisfied: number, n: number) {
  const interval = wilsonInterval(satisfied, n)!;
  return { n, satisfied, csat: round4(satisfied / n), low: round4(interval.low), high: round4(interval.high) };
}

const PASSWORD = 'correct horse battery staple';
const XSS = '<img src=x onerror="alert(1)"> too slow';
let app: FastifyInstance;
let dana: string;
let ben: string;
let cookies: { dana: string; ben: string; analyst: string; admin: string };

/** Dana's and Ben's chats, two bot-only ones, and one of Dana's from before the range. */
function knownSurveys(): SurveyRecord[] {
  return [
    survey('bot_then_agent', [dana], 5, '2025-03-01T09:00:00.000Z', { comment: 'Dana was great' }),
    survey('agent', [dana], 4, '2025-03-01T15:00:00.000Z', { agentIntent: 'account.password_reset' }),
    survey('agent', [dana], 2, '2025-03-02T10:00:00.000Z', { comment: XSS }),
    // transferred from Ben to Dana: Dana's (the last who held it)
    survey('bot_then_agent', [ben, dana], 5, '2025-03-03T08:00:00.000Z'),
    survey('agent', [dana], null, '2025-03-02T11:00:00.000Z'),
    // transferred from Dana to Ben: Ben's, so its comment is not Dana's
    survey('agent', [dana, ben], 1, '2025-03-02T12:00:00.000Z', { comment: "Ben's chat, not Dana's" }),
    survey('agent', [ben], 2, '2025-03-03T09:00:00.000Z'),
    survey('agent', [ben], 5, '2025-03-03T10:00:00.000Z', { comment: 'Thanks Ben' }),
    survey('bot', [], 5, '2025-03-01T10:00:00.000Z', { comment: 'The bot sorted it' }),
    survey('bot', [], 1, '2025-03-02T10:00:00.000Z'),
    survey('agent', [dana], 5, '2025-02-10T10:00:00.000Z', { comment: 'An old one' }),
  ];
}

async function signIn(email: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/session', payload: { email, password: PASSWORD } });
  expect(response.statusCode).toBe(200);
  return String(response.headers['set-cookie']).split(';')[0]!;
}

beforeAll(async () => {
  const store = createMemoryStore();
  const account = (email: string, displayName: string, role: 'agent' | 'analyst' | 'admin') => createAgentAccount(store, { email, displayName, password: PASSWORD, languages: ['en'], role });
  dana = (await account('dana@melodrift.test', 'Dana Reyes', 'agent')).id;
  ben = (await account('ben@melodrift.test', 'Ben Okafor', 'agent')).id;
  await account('ana@melodrift.test', 'Ana Lytic', 'analyst');
  await account('root@melodrift.test', 'Ada Admin', 'admin');
  for (const record of knownSurveys()) await store.saveSurvey(record);

  app = Fastify({ logger: false });
  app.setErrorHandler((error, _request, reply) => {
    const known = error instanceof AppError ? error : toAppError(error);
    void reply.code(known.status).send(httpErrorBody(known));
  });
  registerSessionRoutes(app, { store, secureCookies: false });
  registerAgentStatsRoutes(app, { store, now: () => new Date('2025-03-03T12:00:00.000Z') });
  await app.ready();
  cookies = { dana: await signIn('dana@melodrift.test'), ben: await signIn('ben@melodrift.test'), analyst: await signIn('ana@melodrift.test'), admin: await signIn('root@melodrift.test') };
});
afterAll(async () => {
  await app?.close();
});

const get = (url: string, cookie?: string) => app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
const RANGE = '/api/agent/me/csat?from=2025-03-01&to=2025-03-03';

describe('GET /api/agent/me/csat: who may read it', () => {
  it('answers 401 without a session', async () => {
    const response = await get(RANGE);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'Sign in first.' });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers 403 for an analyst and for an admin (agents only)', async () => {
    for (const cookie of [cookies.analyst, cookies.admin]) {
      const response = await get(RANGE, cookie);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden' });
    }
  });

  it('answers 401 for a session that was signed out', async () => {
    const cookie = await signIn('dana@melodrift.test');
    await app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
    expect((await get(RANGE, cookie)).statusCode).toBe(401);
  });
});

describe('GET /api/agent/me/csat: the figures', () => {
  it('gives the agent their CSAT (as the last agent), the team’s (every chat a person handled) and whether they differ', async () => {
    const response = await get(RANGE, cookies.dana);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body.agentId).toBe(dana);
    expect(body.range).toEqual({ from: '2025-03-01T00:00:00.000Z', to: '2025-03-04T00:00:00.000Z' });
    // Dana: 5, 4, 2 and the transferred-in 5 (the unanswered one has no rating; the transferred-out 1 is Ben's)
    expect(body.me).toEqual(expectedFigure(3, 4));
    // Team: every rated chat a person took part in (5, 4, 2, 5, 1, 2, 5); the bot-only ones are left out
    expect(body.team).toEqual(expectedFigure(4, 7));
    expect(body.difference).toEqual({ differs: false, higher: null });
    expect(body.definitions.differenceRule).toMatch(/do not overlap/);
  });

  it('gives both trends per UTC day of the range, empty days included', async () => {
    const body = (await get(RANGE, cookies.dana)).json();
    const slim = (rows: { date: string; n: number; satisfied: number; csat: number | null }[]) => rows.map(({ date, n, satisfied, csat }) => ({ date, n, satisfied, csat }));
    expect(slim(body.trend.me)).toEqual([
      { date: '2025-03-01', n: 2, satisfied: 2, csat: 1 },
      { date: '2025-03-02', n: 1, satisfied: 0, csat: 0 },
      { date: '2025-03-03', n: 1, satisfied: 1, csat: 1 },
    ]);
    expect(slim(body.trend.team)).toEqual([
      { date: '2025-03-01', n: 2, satisfied: 2, csat: 1 },
      { date: '2025-03-02', n: 2, satisfied: 0, csat: 0 },
      { date: '2025-03-03', n: 3, satisfied: 2, csat: 0.6667 },
    ]);
    expect(body.trend.me[0]).toMatchObject({ low: expectedFigure(2, 2).low, high: 1 });

    const withEmptyDay = (await get('/api/agent/me/csat?from=2025-02-28&to=2025-03-01', cookies.dana)).json();
    expect(withEmptyDay.trend.me).toEqual([
      { date: '2025-02-28', n: 0, satisfied: 0, csat: null, low: null, high: null },
      { date: '2025-03-01', n: 2, satisfied: 2, csat: 1, low: expectedFigure(2, 2).low, high: 1 },
    ]);
  });

  it('lists only the agent’s own comments, newest first, with rating, date and intent, the text as it was left', async () => {
    const body = (await get(RANGE, cookies.dana)).json();
    expect(body.comments).toEqual([
      { date: '2025-03-02', answeredAt: '2025-03-02T10:00:00.000Z', rating: 2, comment: XSS, intent: 'billing.refund' },
      { date: '2025-03-01', answeredAt: '2025-03-01T09:00:00.000Z', rating: 5, comment: 'Dana was great', intent: 'billing.refund' },
    ]);
    expect(body.commentsTotal).toBe(2);
    const text = JSON.stringify(body);
    for (const other of ["Ben's chat", 'Thanks Ben', 'The bot sorted it', 'An old one']) expect(text).not.toContain(other);

    const bens = (await get(RANGE, cookies.ben)).json();
    expect(bens.me).toEqual(expectedFigure(1, 3));
    expect(bens.team).toEqual(expectedFigure(4, 7));
    expect(bens.comments.map((c: { comment: string }) => c.comment)).toEqual(['Thanks Ben', "Ben's chat, not Dana's"]);
  });

  it('covers the last 30 days (today included) without a range', async () => {
    const body = (await get('/api/agent/me/csat', cookies.dana)).json();
    expect(body.range).toEqual({ from: '2025-02-02T00:00:00.000Z', to: '2025-03-04T00:00:00.000Z' });
    expect(body.trend.me).toHaveLength(30);
    expect(body.trend.team).toHaveLength(30);
    // the February chat is inside the last 30 days
    expect(body.me).toEqual(expectedFigure(4, 5));
    expect(body.comments.at(-1).comment).toBe('An old one');
    // empty parameters mean "not set"
    expect((await get('/api/agent/me/csat?from=&to=', cookies.dana)).json().range).toEqual(body.range);
  });

  it('refuses a bad query with the error body', async () => {
    for (const url of ['/api/agent/me/csat?from=yesterday', '/api/agent/me/csat?agent=someone', '/api/agent/me/csat?from=2025-03-05&to=2025-03-01', '/api/agent/me/csat?from=2020-01-01&to=2025-01-01', '/api/agent/me/csat?from=2030-01-01']) {
      const response = await get(url, cookies.dana);
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', error: 'Bad Request' });
    }
    expect((await get('/api/agent/me/csat?agent=someone', cookies.dana)).json().message).toMatch(/unknown query parameter: agent/i);
  });
});

describe('agentCsat (pure)', () => {
  const range = { from: new Date('2025-03-01T00:00:00.000Z'), to: new Date('2025-03-02T00:00:00.000Z') };

  it('flags a difference only when the intervals do not overlap, and says which side is higher', () => {
    const mine = Array.from({ length: 20 }, (_, i) => survey('agent', ['me'], 5, `2025-03-01T10:${String(i).padStart(2, '0')}:00.000Z`));
    const others = Array.from({ length: 40 }, (_, i) => survey('agent', ['other'], 1, `2025-03-01T11:${String(i).padStart(2, '0')}:00.000Z`));
    const high = agentCsat([...mine, ...others], 'me', range);
    expect(high.me).toEqual(expectedFigure(20, 20));
    expect(high.team).toEqual(expectedFigure(20, 60));
    expect(high.difference).toEqual({ differs: true, higher: 'me' });
    expect(agentCsat([...mine, ...others], 'other', range).difference).toEqual({ differs: true, higher: 'team' });
    expect(agentCsat(others, 'me', range).difference).toEqual({ differs: false, higher: null });
    expect(agentCsat(others, 'me', range).me).toEqual({ n: 0, satisfied: 0, csat: null, low: null, high: null });
  });

  it('keeps the newest 100 comments and says how many there were', () => {
    const records = Array.from({ length: MAX_MY_COMMENTS + 20 }, (_, i) =>
      survey('agent', ['me'], 3, new Date(Date.parse('2025-03-01T00:00:00.000Z') + i * 60_000).toISOString(), { comment: `comment ${i}` }),
    );
    const report = agentCsat(records, 'me', range);
    expect(report.comments).toHaveLength(MAX_MY_COMMENTS);
    expect(report.commentsTotal).toBe(MAX_MY_COMMENTS + 20);
    expect(report.comments[0]?.comment).toBe(`comment ${MAX_MY_COMMENTS + 19}`);
  });

  it('fills a missing end of the range and lists every day it touches', () => {
    const now = new Date('2025-03-03T23:59:00.000Z');
    expect(resolveRange({}, now)).toEqual({ from: new Date('2025-02-02T00:00:00.000Z'), to: new Date('2025-03-04T00:00:00.000Z') });
    expect(resolveRange({ to: new Date('2025-03-10T00:00:00.000Z') }, now).from).toEqual(new Date('2025-02-08T00:00:00.000Z'));
    expect(daysOf({ from: new Date('2025-03-01T18:00:00.000Z'), to: new Date('2025-03-03T06:00:00.000Z') })).toEqual(['2025-03-01', '2025-03-02', '2025-03-03']);
    expect(daysOf({ from: new Date('2025-03-01T00:00:00.000Z'), to: new Date('2025-03-02T00:00:00.000Z') })).toEqual(['2025-03-01']);
  });
});
