import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { agentCsat, DAY_MS, MAX_RANGE_DAYS, resolveRange } from '../domain/agent-csat.js';
import { AppError, httpErrorBody, toAppError } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';
import { rangeQuerySchema, toTimeRange } from './analytics-routes.js';
import { requireRole, type Role } from './auth.js';

export interface AgentStatsRoutesDeps {
  /** Sessions and accounts (role check) and the surveys (`listSurveys()`). */
  store: ChatStore;
  /** The clock that places the default range (the last 30 days); tests pass a fixed one. */
  now?: () => Date;
}

/** Only agents have a page of their own: analysts and admins read the team figures in /analytics. */
export const AGENT_STATS_ROLES: readonly Role[] = ['agent'];

/** The query (`from`, `to`: ISO dates or date-times, as the analytics API takes them); empty values mean "not set". */
function parseRange(query: unknown, now: Date) {
  const cleaned = query && typeof query === 'object' ? Object.fromEntries(Object.entries(query).filter(([, value]) => value !== '')) : {};
  const parsed = rangeQuerySchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') throw new AppError('VALIDATION_FAILED', `Unknown query parameter: ${issue.keys.join(', ')}.`);
    throw new AppError('VALIDATION_FAILED', `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'is not valid'}.`);
  }
  const range = resolveRange(toTimeRange(parsed.data), now);
  if (range.from >= range.to) throw new AppError('VALIDATION_FAILED', 'from: must be before to (or before the end of today when to is not set).');
  if (range.to.getTime() - range.from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new AppError('VALIDATION_FAILED', `The range may span at most ${MAX_RANGE_DAYS} days.`);
  return range;
}

/**
 * The signed-in agent's own CSAT page: `GET /api/agent/me/csat?from=&to=` (agents only).
 * Their CSAT, the team's, whether they differ, both by day, and their own comments.
 */
export function registerAgentStatsRoutes(app: FastifyInstance, deps: AgentStatsRoutesDeps): void {
  const now = deps.now ?? (() => new Date());
  void app.register(async (api) => {
    api.setErrorHandler((error, request, reply) => {
      const known = toAppError(error);
      if (known.code === 'INTERNAL') request.log.error({ err: error }, 'agent stats request failed');
      void reply.code(known.status).send(httpErrorBody(known));
    });
    // Personal figures: no cache keeps any answer (errors included).
    api.addHook('onRequest', async (_request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', 'no-store');
    });
    api.addHook('preHandler', requireRole(deps.store, AGENT_STATS_ROLES));

    api.get('/api/agent/me/csat', async (request) => {
      const account = request.account;
      if (!account) throw new AppError('UNAUTHORIZED');
      const range = parseRange(request.query, now());
      return agentCsat(await deps.store.listSurveys(), account.id, range);
    });
  });
}
