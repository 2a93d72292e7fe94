import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticate, publicProfile, SESSION_TTL_MS, signIn } from '../domain/agent-accounts.js';
import { AppError, httpErrorBody } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';

const signInBodySchema = z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(200) });

/** Sign-in for agents, analysts and admins: an HttpOnly session cookie. */
export function registerSessionRoutes(app: FastifyInstance, deps: { store: ChatStore; secureCookies: boolean }): void {
  app.post('/api/session', async (request, reply) => {
    const body = signInBodySchema.safeParse(request.body);
    if (!body.success) {
      return reply.code(400).send(httpErrorBody(new AppError('VALIDATION_FAILED', 'Send {"email", "password"}.')));
    }
    const { session, agent } = await signIn(deps.store, body.data.email, body.data.password);
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
