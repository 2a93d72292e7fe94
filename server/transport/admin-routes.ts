import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Audit } from '../domain/audit.js';
import type { PrivacyService, ListenerSelector } from '../domain/privacy-service.js';
import { AppError } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';
import { requireRole } from './auth.js';

const selectorQuery = z.union([
  z.object({ token: z.string().min(1).max(512) }).strict(),
  z.object({ email: z.email() }).strict(),
]);
const agentParams = z.object({ id: z.string().regex(/^agt_[A-Za-z0-9_-]+$/) });
const roleBody = z.object({ role: z.enum(['agent', 'analyst', 'admin']) });

function parse<T>(schema: z.ZodType<T>, value: unknown, message: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', message);
  return parsed.data;
}

/** Admin-only: the audit trail, listener data export and erasure, role changes and session revocation. */
export function registerAdminRoutes(app: FastifyInstance, deps: { store: ChatStore; privacy: PrivacyService; audit: Audit; revokeConversationTokens: (conversationId: string) => Promise<void> }): void {
  app.register(async (scope) => {
    scope.addHook('preHandler', requireRole(deps.store, ['admin']));
    const who = (request: { account?: { email: string } }) => request.account?.email ?? 'unknown';
    const selector = (query: unknown): ListenerSelector => parse(selectorQuery, query, 'Give exactly one of ?token= (a conversation token) or ?email= (the e-mail the listener left).');

    scope.get('/api/admin/audit', async () => ({ entries: await deps.audit.list() }));

    scope.get('/api/admin/listener-data', async (request) => {
      const chosen = selector(request.query);
      const data = await deps.privacy.exportListener(chosen);
      await deps.audit.record('export', who(request), { by: 'token' in chosen ? 'token' : 'email', conversations: data.conversations.length });
      return data;
    });

    scope.delete('/api/admin/listener-data', async (request) => {
      const chosen = selector(request.query);
      const erased = await deps.privacy.eraseListener(chosen);
      await deps.audit.record('erasure', who(request), { by: 'token' in chosen ? 'token' : 'email', ...erased });
      return { erased };
    });

    scope.post('/api/admin/agents/:id/role', async (request) => {
      const { id } = parse(agentParams, request.params, 'Unknown account id.');
      const { role } = parse(roleBody, request.body, 'Send {"role": "agent" | "analyst" | "admin"}.');
      const account = await deps.store.getAgent(id);
      if (!account) throw new AppError('NOT_FOUND');
      await deps.store.saveAgent({ ...account, role });
      // A changed role takes effect at once: the account's sessions are revoked.
      const revoked = await deps.store.deleteSessionsOf(id);
      await deps.audit.record('role.changed', who(request), { account: account.email, from: account.role, to: role, sessionsRevoked: revoked });
      return { account: { id, email: account.email, role }, sessionsRevoked: revoked };
    });

    scope.post('/api/admin/conversations/:id/revoke-tokens', async (request) => {
      const { id } = parse(z.object({ id: z.string().regex(/^conv_[A-Za-z0-9_-]{8,64}$/) }), request.params, 'Unknown conversation id.');
      if (!(await deps.store.getConversation(id))) throw new AppError('NOT_FOUND');
      await deps.revokeConversationTokens(id);
      await deps.audit.record('sessions.revoked', who(request), { conversation: id });
      return { revoked: true };
    });

    scope.post('/api/admin/agents/:id/revoke-sessions', async (request) => {
      const { id } = parse(agentParams, request.params, 'Unknown account id.');
      const revoked = await deps.store.deleteSessionsOf(id);
      await deps.audit.record('sessions.revoked', who(request), { account: id, sessionsRevoked: revoked });
      return { sessionsRevoked: revoked };
    });
  });
}
