import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TuningService } from '../domain/tuning-service.js';
import { AppError } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';
import type { Audit } from '../domain/audit.js';
import { requireRole } from './auth.js';

const idParams = z.object({ id: z.string().min(1).max(100) });
const versionParams = z.object({ version: z.string().min(1).max(100) });
const decisionBody = z.object({ approve: z.boolean() });
const reviewBody = z.object({ action: z.enum(['accept', 'reject', 'relabel']), intent: z.string().regex(/^[a-z]+\.[a-z_]+$/).optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('VALIDATION_FAILED', `${where} field "${issue?.path.join('.') || '?'}": ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** The tuning loop's API (analysts and admins); every change is logged with who and when. */
export function registerTuningRoutes(app: FastifyInstance, deps: { store: ChatStore; tuning: TuningService; audit?: Audit }): void {
  const { tuning } = deps;
  app.register(async (scope) => {
    scope.addHook('preHandler', requireRole(deps.store, ['analyst', 'admin']));
    const who = (request: { account?: { email: string } }) => request.account?.email ?? 'unknown';

    scope.get('/api/tuning/policy', async () => tuning.policy());
    scope.get('/api/tuning/proposals', async () => ({ proposals: await tuning.listProposals() }));
    scope.post('/api/tuning/proposals', async (request) => ({ proposals: await tuning.proposePolicyChanges(who(request)) }));
    scope.post('/api/tuning/proposals/:id', async (request) => {
      const { id } = parse(idParams, request.params, 'path');
      const { approve } = parse(decisionBody, request.body, 'body');
      const proposal = await tuning.decideProposal(id, approve, who(request));
      if (approve) await deps.audit?.record('policy.applied', who(request), { proposal: id, intent: proposal.intent, to: proposal.to });
      return { proposal };
    });
    scope.get('/api/tuning/candidates', async () => ({ candidates: await tuning.listCandidates() }));
    scope.post('/api/tuning/candidates/refresh', async (request) => ({ candidates: await tuning.refreshCandidates(who(request)) }));
    scope.post('/api/tuning/candidates/:id', async (request) => {
      const { id } = parse(idParams, request.params, 'path');
      const body = parse(reviewBody, request.body, 'body');
      return { candidate: await tuning.reviewCandidate(id, { action: body.action, ...(body.intent ? { intent: body.intent } : {}) }, who(request)) };
    });
    scope.get('/api/tuning/models', async () => ({ models: await tuning.listModels(), pointer: await tuning.pointer() }));
    scope.post('/api/tuning/models', async (request) => ({ model: await tuning.trainCandidate(who(request)) }));
    scope.post('/api/tuning/models/:version/promote', async (request) => {
      const { version } = parse(versionParams, request.params, 'path');
      const model = await tuning.promote(version, who(request));
      await deps.audit?.record('model.promoted', who(request), { version });
      return { model };
    });
    scope.post('/api/tuning/rollback', async (request) => {
      const current = await tuning.rollback(who(request));
      await deps.audit?.record('model.rolled_back', who(request), { to: current });
      return { current };
    });
    scope.get('/api/tuning/log', async () => ({ log: await tuning.history() }));
    /** The dashboard's button: propose policy changes and refresh the review list in one go. */
    scope.post('/api/tuning/run', async (request) => ({
      proposals: await tuning.proposePolicyChanges(who(request)),
      candidates: (await tuning.refreshCandidates(who(request))).slice(0, 50),
    }));
  });
}
