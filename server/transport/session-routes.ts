import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticate, publicProfile, SESSION_TTL_MS, signIn } from '../domain/agent-accounts.js';
import { AppError, httpErrorBody } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';
import { createSignInGuard } from '../domain/sign-in-guard.js';
import { createAudit, type Audit } from '../domain/audit.js';

const signInBodySchema = z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(200) });

/** Sign-in for agents, analysts and admins: an HttpOnly session cookie. */
export function registerSessionRoutes(app: FastifyInstance, deps: { store: ChatStore; secureCookies: boolean; audit?: Audit; signInsPerMinute?: number }): void {
  const guard = createSignInGuard(deps.store);
  const audit = deps.audit ?? createAudit(deps.store);
  app.post('/api/session', { config: { rateLimit: { max: deps.signInsPerMinute ?? 20, timeWindow: 60_000 } } }, async (request, reply) => {
    const body = signInBodySchema.safeParse(request.body);
    if (!body.success) {
      return reply.code(400).send(httpErrorBody(new AppError('VALIDATION_FAILED', 'Send {"email", "password"}.')));
    }
    const { email, password } = body.data;
    await guard.check(email, request.ip);
    let signedIn;
    try {
      signedIn = await signIn(deps.store, email, password);
    } catch (error) {
      if (error instanceof AppError && error.code === 'INVALID_CREDENTIALS') {
        await guard.failed(email, request.ip);
        await audit.record('signin.failed', email, { address: request.ip });
      }
      throw error;
    }
    const { session, agent } = signedIn;
    await guard.succeeded(email);
    await audit.record('signin', agent.email, { role: agent.role, address: request.ip });
    request.log.info({ agentId: agent.id }, 'signed in');
    return reply.header('set-cookie', sessionCookie(session.token, Math.floor(SESSION_TTL_MS / 1000), deps.secureCookies)).send({ agent: publicProfile(agent) });
  });

  app.get('/api/session', async (request, reply) => {
    const agent = await authenticate(deps.store, readCookie(request.headers.cookie, SESSION_COOKIE));
    if (!agent) return reply.code(401).send(httpErrorBody(new AppError('UNAUTHORIZED')));
    return { agent: publicProfile(agent) };
  });

  app.delete('/api/session', async (request, reply) => {
    const token = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (token) await deps.store.deleteSession(token);
    return reply.header('set-cookie', clearedSessionCookie(deps.secureCookies)).code(204).send();
  });
}
