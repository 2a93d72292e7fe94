import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { languageSchema } from '../../bot/language.js';
import {
  COHORTS,
  csatByAgent,
  csatByDay,
  csatByIntent,
  csatByLanguage,
  handoffRates,
  inRange,
  listComments,
  responseRates,
  summarize,
  toCsv,
  type AgentNames,
  type Cell,
  type TimeRange,
} from '../domain/csat-analytics.js';
import type { SurveyRecord } from '../domain/csat.js';
import type { CsatAlerts } from '../domain/csat-alerts.js';
import { AppError, httpErrorBody, toAppError } from '../errors.js';
import { projectRoot } from '../paths.js';
import type { ChatStore } from '../store/chat-store.js';
import { requireRole, type Role } from './auth.js';
import { brandedPage, builtBundle } from './static-routes.js';

/** Where the surveys come from (the store port has `listSurveys()`). */
export interface SurveySource {
  listSurveys(): Promise<SurveyRecord[]>;
}

export interface AnalyticsRoutesDeps {
  source: SurveySource;
  /** CSAT alerts (GET /api/analytics/alerts); without it the list is empty. */
  alerts?: Pick<CsatAlerts, 'list'>;
  /** Sessions and accounts (role check), agent display names. */
  store: ChatStore;
  /** Shown on the page; `{brand}` in analytics.html. */
  brand?: string;
  /** The folder holding analytics.html (server/public by default). */
  publicDir?: string;
  /** The built dashboard bundle (dist/analytics/analytics.js by default). */
  bundlePath?: string;
}

/** The roles that may read analytics. */
export const ANALYTICS_ROLES: readonly Role[] = ['analyst', 'admin'];

/** The largest comments list one request returns (the `limit` query parameter caps it lower). */
export const MAX_COMMENTS = 5000;

// ---------------------------------------------------------------------------------------------
// Query parsing

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** An ISO date (YYYY-MM-DD, UTC) or date-time with an offset or Z. */
const isoInstantSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be an ISO date (YYYY-MM-DD) or date-time' });

const rangeShape = {
  /** Inclusive: conversations that ended at or after this instant (a date means 00:00 UTC). */
  from: isoInstantSchema.optional(),
  /** Inclusive: a date means the whole of that UTC day; a date-time is the exclusive end. */
  to: isoInstantSchema.optional(),
};

function checkRange(query: { from?: string | undefined; to?: string | undefined }, ctx: z.RefinementCtx): void {
  const range = toTimeRange(query);
  if (range.from && range.to && range.from >= range.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
}

export const rangeQuerySchema = z.strictObject(rangeShape).superRefine(checkRange);

const ratingSchema = z.coerce.number({ error: 'must be a whole number from 1 to 5' }).int('must be a whole number from 1 to 5').min(1, 'must be from 1 to 5').max(5, 'must be from 1 to 5');

export const commentsQuerySchema = z
  .strictObject({
    ...rangeShape,
    cohort: z.enum(COHORTS, { error: `must be one of ${COHORTS.join(', ')}` }).optional(),
    intent: z.string().max(100).optional(),
    agent: z.string().max(100).optional(),
    language: languageSchema.optional(),
    minRating: ratingSchema.optional(),
    maxRating: ratingSchema.optional(),
    q: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_COMMENTS).optional(),
  })
  .superRefine((query, ctx) => {
    checkRange(query, ctx);
    if (query.minRating !== undefined && query.maxRating !== undefined && query.minRating > query.maxRating) {
      ctx.addIssue({ code: 'custom', path: ['maxRating'], message: 'must not be below minRating' });
    }
  });

/** The time range a query names; `to` as a date covers that whole UTC day. */
export function toTimeRange(query: { from?: string | undefined; to?: string | undefined }): TimeRange {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(DATE_ONLY.test(query.to) ? Date.parse(query.to) + DAY_MS : Date.parse(query.to)) : undefined;
  return { from, to };
}

/** Empty parameters (`?cohort=`) mean "not set", so a form can send every field. */
function withoutEmpty(query: unknown): unknown {
  if (!query || typeof query !== 'object') return {};
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
}

function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(withoutEmpty(query));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') throw new AppError('VALIDATION_FAILED', `Unknown query parameter: ${issue.keys.join(', ')}.`);
  const field = issue?.path.join('.') || 'query';
  throw new AppError('VALIDATION_FAILED', `${field}: ${issue?.message ?? 'is not valid'}.`);
}

// ---------------------------------------------------------------------------------------------
// Reports: each endpoint names its query schema and builds a table (JSON adds the extra fields).

interface ReportContext {
  records: SurveyRecord[];
  names: AgentNames;
}

/** A report with its query type erased (`report()` checks it where the report is written). */
interface Report {
  query: z.ZodType<RangeQuery>;
  build(context: ReportContext, query: RangeQuery): AnyTable & Record<string, unknown>;
}

/** Any report's table, its row type erased. */
type AnyTable = { columns: readonly string[]; rows: Record<string, Cell>[] };

type RangeQuery = z.infer<typeof rangeQuerySchema>;
type CommentsQuery = z.infer<typeof commentsQuerySchema>;

function report<Q extends RangeQuery>(query: z.ZodType<Q>, build: (context: ReportContext, query: Q) => AnyTable & object): Report {
  return { query, build: build as Report['build'] };
}

const REPORTS = {
  summary: report<RangeQuery>(rangeQuerySchema, ({ records }) => summarize(records)),
  'by-day': report<RangeQuery>(rangeQuerySchema, ({ records }) => csatByDay(records)),
  'by-intent': report<RangeQuery>(rangeQuerySchema, ({ records }) => csatByIntent(records)),
  'by-agent': report<RangeQuery>(rangeQuerySchema, ({ records, names }) => csatByAgent(records, names)),
  'by-language': report<RangeQuery>(rangeQuerySchema, ({ records }) => csatByLanguage(records)),
  handoffs: report<RangeQuery>(rangeQuerySchema, ({ records }) => handoffRates(records)),
  'response-rates': report<RangeQuery>(rangeQuerySchema, ({ records }) => responseRates(records)),
  comments: report<CommentsQuery>(commentsQuerySchema, ({ records, names }, query) => {
    const { from: _from, to: _to, limit, ...filter } = query;
    const all = listComments(records, filter, names);
    const shown = limit ?? 500;
    return { ...all, rows: all.rows.slice(0, shown), total: all.rows.length, limit: shown };
  }),
} satisfies Record<string, Report>;

export type AnalyticsReportName = keyof typeof REPORTS;
export const ANALYTICS_REPORTS = Object.keys(REPORTS) as AnalyticsReportName[];

// ---------------------------------------------------------------------------------------------
// Page and bundle (read once, at first request; a failed read is retried next time)

/** The page allows scripts from this origin only: the bundle, no inline code. */
export const ANALYTICS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// ---------------------------------------------------------------------------------------------

/**
 * The analyst dashboard: `GET /analytics` (page), `GET /analytics.js` (bundle) and the JSON/CSV
 * API under /api/analytics/, readable by analysts and admins only (one preHandler decides).
 */
export function registerAnalyticsRoutes(app: FastifyInstance, deps: AnalyticsRoutesDeps): void {
  const brand = deps.brand ?? 'Support';
  const pageFile = path.join(deps.publicDir ?? path.join(projectRoot(), 'server/public'), 'analytics.html');
  const bundleFile = deps.bundlePath ?? path.join(projectRoot(), 'dist/analytics/analytics.js');
  const page = brandedPage(pageFile, brand);
  const bundle = builtBundle(bundleFile);

  app.get('/analytics', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', ANALYTICS_CSP).header('cache-control', 'no-cache').send(await page()),
  );
  app.get('/analytics.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await bundle()));

  void app.register(async (api) => {
    api.setErrorHandler((error, request, reply) => {
      const known = toAppError(error);
      if (known.code === 'INTERNAL') request.log.error({ err: error }, 'analytics request failed');
      void reply.code(known.status).send(httpErrorBody(known));
    });

    // Analytics are private: no cache keeps any answer (errors included).
    api.addHook('onRequest', async (_request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', 'no-store');
    });
    // The one role check for every analytics API route (401 without a session, 403 for other roles).
    api.addHook('preHandler', requireRole(deps.store, ANALYTICS_ROLES));

    api.get('/api/analytics/alerts', async () => ({ alerts: deps.alerts ? await deps.alerts.list() : [] }));

    for (const name of ANALYTICS_REPORTS) {
      const definition = REPORTS[name];
      const run = async (request: FastifyRequest) => {
        const query = parseQuery(definition.query, request.query);
        const range = toTimeRange(query);
        const [surveys, agents] = await Promise.all([deps.source.listSurveys(), deps.store.listAgents()]);
        const names = new Map(agents.map((agent) => [agent.id, agent.displayName]));
        const result = definition.build({ records: inRange(surveys, range), names: (id) => names.get(id) }, query);
        return { range, result };
      };

      api.get(`/api/analytics/${name}`, async (request, reply) => {
        const { range, result } = await run(request);
        return reply.send({ report: name, range: { from: range.from?.toISOString() ?? null, to: range.to?.toISOString() ?? null }, ...result });
      });

      api.get(`/api/analytics/${name}.csv`, async (request, reply) => {
        const { range, result } = await run(request);
        const span = [range.from, range.to && new Date(range.to.getTime() - 1)].map((d) => d?.toISOString().slice(0, 10) ?? 'all').join('_');
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="csat-${name}-${span}.csv"`)
          .header('x-content-type-options', 'nosniff')
          // A byte-order mark, so spreadsheets read the file as UTF-8 (accents in Spanish comments).
          .send('\uFEFF' + toCsv(result.rows, result.columns));
      });
    }
  });
}
