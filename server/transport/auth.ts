import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../domain/agent-accounts.js';
import { AppError, httpErrorBody } from '../errors.js';
import type { AgentAccount, ChatStore } from '../store/chat-store.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';

export type Role = AgentAccount['role'];

declare module 'fastify' {
  interface FastifyRequest {
    account?: AgentAccount;
  }
}

/**
 * The one place HTTP routes state and check the roles they need: a preHandler that resolves the
 * session cookie to an account (401 UNAUTHORIZED without one, 403 FORBIDDEN for other roles).
 */
export function requireRole(store: ChatStore, roles: readonly Role[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const account = await authenticate(store, readCookie(request.headers.cookie, SESSION_COOKIE));
    if (!account) return reply.code(401).send(httpErrorBody(new AppError('UNAUTHORIZED')));
    if (!roles.includes(account.role)) return reply.code(403).send(httpErrorBody(new AppError('FORBIDDEN')));
    request.account = account;
    return undefined;
  };
}
