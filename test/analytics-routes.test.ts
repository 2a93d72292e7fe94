import { surveyRecord } from './support/surveys.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import type { HandledBy, SurveyRecord } from '../server/domain/csat.js';
import { AppError, httpErrorBody, toAppError } from '../server/errors.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { registerAnalyticsRoutes } from '../server/transport/analytics-routes.js';
import { registerSessionRoutes } from '../server/transport/session-routes.js';

function survey(handledBy: HandledBy, rating: number | null, endedAt: string, fields: Partial<SurveyRecord> = {}): SurveyRecord {
  return surveyRecord(handledBy, handledBy === 'bot' ? [] : ['AGENT'], rating, endedAt, fields);
}

const PASSWORD = 'correct horse battery staple';
let app: FastifyInstance;
let cookies: { analyst: string; admin: string; agent: string };
let surveys: SurveyRecord[];
let agentId: string;

async function signIn(email: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/session', payload: { email, password: PASSWORD } });
  expect(response.statusCode).toBe(200);
  const header = String(response.headers['set-cookie']);
  return header.split(';')[0]!;
}

beforeAll(async () => {
  const store = createMemoryStore();
  const account = (email: string, displayName: string, role: 'agent' | 'analyst' | 'admin') => createAgentAccount(store, { email, displayName, password: PASSWORD, languages: ['en'], role });
  const agent = await account('dana@melodrift.test', 'Dana Reyes', 'agent');
  await account('ana@melodrift.test', 'Ana Lytic', 'analyst');
  await account('root@melodrift.test', 'Ada Admin', 'admin');
  agentId = agent.id;
  const withAgent = (s: SurveyRecord) => ({ ...s, agentIds: s.agentIds.map(() => agent.id) });
  surveys = [
    survey('bot', 5, '2025-03-01T10:00:00.000Z', { comment: '=cmd|"/c calc"!A1' }),
    survey('bot', 4, '2025-03-01T11:00:00.000Z'),
    survey('bot', 2, '2025-03-02T10:00:00.000Z', { comment: 'Slow, and "wrong"' }),
    survey('bot', null, '2025-03-02T12:00:00.000Z'),
    withAgent(survey('bot_then_agent', 5, '2025-03-02T13:00:00.000Z', { comment: 'Dana was great', language: 'es' })),
    withAgent(survey('agent', 1, '2025-03-03T09:00:00.000Z', { handoffReason: 'frustrated' })),
  ];

  app = Fastify({ logger: false });
  // As server/app.ts does: AppErrors thrown by routes become the HTTP error body.
  app.setErrorHandler((error, _request, reply) => {
    const known = error instanceof AppError ? error : toAppError(error);
    void reply.code(known.status).send(httpErrorBody(known));
  });
  registerSessionRoutes(app, { store, secureCookies: false });
  // The store port is the survey source, as in the application.
  for (const record of surveys) await store.saveSurvey(record);
  registerAnalyticsRoutes(app, { source: store, store, brand: 'Melodrift' });
  await app.ready();
  cookies = { analyst: await signIn('ana@melodrift.test'), admin: await signIn('root@melodrift.test'), agent: await signIn('dana@melodrift.test') };
});
afterAll(async () => {
  await app?.close();
});

const get = (url: string, cookie?: string) => app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });

const PATHS = ['summary', 'by-day', 'by-intent', 'by-agent', 'by-language', 'handoffs', 'response-rates', 'comments'];

describe('analytics API: who may read it', () => {
  it('answers 401 UNAUTHORIZED without a session, on every JSON and CSV path', async () => {
    for (const name of PATHS) {
      for (const url of [`/api/analytics/${name}`, `/api/analytics/${name}.csv`]) {
        const response = await get(url);
        expect(response.statusCode, url).toBe(401);
        expect(response.json()).toEqual({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'Sign in first.' });
        expect(response.headers['cache-control']).toBe('no-store');
      }
    }
    expect((await get('/api/analytics/summary', 'sid=not-a-session')).statusCode).toBe(401);
  });

  it('answers 403 FORBIDDEN to an agent', async () => {
    for (const name of PATHS) {
      const response = await get(`/api/analytics/${name}`, cookies.agent);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden' });
    }
    expect((await get('/api/analytics/by-intent.csv', cookies.agent)).statusCode).toBe(403);
  });

  it('answers 200 to an analyst and to an admin', async () => {
    for (const cookie of [cookies.analyst, cookies.admin]) {
      for (const name of PATHS) {
        const response = await get(`/api/analytics/${name}`, cookie);
        expect(response.statusCode, name).toBe(200);
        expect(response.headers['cache-control']).toBe('no-store');
        expect(response.json()).toMatchObject({ report: name, columns: expect.any(Array), rows: expect.any(Array) });
      }
    }
  });
});

describe('analytics API: figures', () => {
  it('summary: CSAT per cohort, containment, response rates', async () => {
    const body = (await get('/api/analytics/summary', cookies.analyst)).json();
    expect(body).toMatchObject({ ended: 6, answered: 5, overall: { n: 5, satisfied: 3, csat: 0.6 }, containment: { count: 4, total: 6, rate: 0.6667 }, range: { from: null, to: null } });
    expect(body.containment.definition).toMatch(/handledBy = bot/);
    expect(body.cohorts.find((c: { cohort: string }) => c.cohort === 'bot')).toMatchObject({ n: 3, satisfied: 2 });
    expect(body.responseRates.find((r: { cohort: string }) => r.cohort === 'bot')).toMatchObject({ answered: 3, ended: 4, rate: 0.75 });
  });

  it('from/to select conversations by endedAt; a date as `to` covers that whole UTC day', async () => {
    const body = (await get('/api/analytics/summary?from=2025-03-02&to=2025-03-02', cookies.analyst)).json();
    expect(body).toMatchObject({ ended: 3, range: { from: '2025-03-02T00:00:00.000Z', to: '2025-03-03T00:00:00.000Z' } });
    const byDay = (await get('/api/analytics/by-day?from=2025-03-01T10:30:00Z', cookies.analyst)).json();
    expect(byDay.rows.filter((r: { cohort: string }) => r.cohort === 'all').map((r: { date: string; ended: number }) => [r.date, r.ended])).toEqual([
      ['2025-03-01', 1],
      ['2025-03-02', 3],
      ['2025-03-03', 1],
    ]);
  });

  it('by agent uses display names from the accounts', async () => {
    const body = (await get('/api/analytics/by-agent', cookies.analyst)).json();
    expect(body.rows).toEqual([expect.objectContaining({ agentId, agentName: 'Dana Reyes', ended: 2, n: 2, satisfied: 1 })]);
  });

  it('comments: filters, empty parameters ignored', async () => {
    const all = (await get('/api/analytics/comments?cohort=&intent=&agent=&language=&minRating=&maxRating=&q=', cookies.analyst)).json();
    expect(all.total).toBe(3);
    const low = (await get('/api/analytics/comments?maxRating=2', cookies.analyst)).json();
    expect(low.rows.map((r: { comment: string }) => r.comment)).toEqual(['Slow, and "wrong"']);
    const es = (await get(`/api/analytics/comments?language=es&agent=${agentId}&cohort=bot_then_agent&q=GREAT&minRating=5`, cookies.analyst)).json();
    expect(es.rows).toEqual([expect.objectContaining({ comment: 'Dana was great', agentName: 'Dana Reyes' })]);
    const limited = (await get('/api/analytics/comments?limit=1', cookies.analyst)).json();
    expect(limited).toMatchObject({ total: 3, limit: 1 });
    expect(limited.rows).toHaveLength(1);
  });
});

describe('analytics API: bad queries', () => {
  it.each([
    ['/api/analytics/summary?from=yesterday', /^from: /],
    ['/api/analytics/by-day?to=2025-13-45', /^to: /],
    ['/api/analytics/by-intent?from=2025-03-05&to=2025-03-01', /^to: must be after from/],
    ['/api/analytics/summary?form=2025-03-01', /Unknown query parameter: form/],
    ['/api/analytics/comments?minRating=9', /^minRating: /],
    ['/api/analytics/comments?minRating=4&maxRating=2', /^maxRating: /],
    ['/api/analytics/comments?cohort=robots', /^cohort: must be one of bot, bot_then_agent, agent/],
    ['/api/analytics/comments?language=fr', /^language: /],
    ['/api/analytics/comments.csv?limit=0', /^limit: /],
    ['/api/analytics/summary?from=2025-03-01&from=2025-03-02', /^from: /],
  ])('%s -> 400 VALIDATION_FAILED naming the field', async (url, message) => {
    const response = await get(url, cookies.analyst);
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', error: 'Bad Request' });
    expect(body.message).toMatch(message);
  });

  it('checks the session before the query (an anonymous bad query is 401)', async () => {
    expect((await get('/api/analytics/summary?from=yesterday')).statusCode).toBe(401);
  });
});

describe('analytics API: CSV', () => {
  it('serves text/csv as an attachment, with the same rows as the JSON', async () => {
    const response = await get('/api/analytics/by-intent.csv?from=2025-03-01&to=2025-03-03', cookies.analyst);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="csat-by-intent-2025-03-01_2025-03-03.csv"');
    expect(response.body.startsWith('\uFEFFintent,ended,n,csat,low,high,bot_n,bot_csat,bot_low,bot_high,agent_n,agent_csat,agent_low,agent_high,differs,higher\r\n')).toBe(true);
    const json = (await get('/api/analytics/by-intent?from=2025-03-01&to=2025-03-03', cookies.analyst)).json();
    const lines = response.body.slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(json.rows.length + 1);
    expect(lines[1]).toBe(json.columns.map((c: string) => (json.rows[0][c] === null ? '' : String(json.rows[0][c]))).join(','));
  });

  it('quotes and neutralises comment cells', async () => {
    const response = await get('/api/analytics/comments.csv', cookies.analyst);
    expect(response.headers['content-disposition']).toBe('attachment; filename="csat-comments-all_all.csv"');
    expect(response.body).toContain(`"'=cmd|""/c calc""!A1"`);
    expect(response.body).toContain('"Slow, and ""wrong"""');
  });
});

describe('the dashboard page', () => {
  it('serves /analytics with the brand filled in and a CSP that allows no inline script', async () => {
    const response = await get('/analytics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<title>Melodrift · CSAT analytics</title>');
    expect(response.body).toContain('<script src="/analytics.js" defer></script>');
    expect(response.body).not.toMatch(/<script>(?!<\/script>)/);
    expect(String(response.headers['content-security-policy'])).toContain("script-src 'self';");
  });
});
