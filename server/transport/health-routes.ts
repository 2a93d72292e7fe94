import type { FastifyInstance } from 'fastify';
import { AppError, httpErrorBody, toAppError } from '../errors.js';
import type { ChatStore } from '../store/chat-store.js';

export function registerHealthRoutes(app: FastifyInstance, deps: { store: ChatStore; isDraining: () => boolean }): void {
  /** Liveness: the process is up and its event loop answers. */
  app.get('/healthz', async () => ({ status: 'ok' }));

  /** Readiness: this node can serve chats (store reachable, not draining). */
  app.get('/readyz', async (_request, reply) => {
    if (deps.isDraining()) return reply.code(503).send(httpErrorBody(new AppError('SERVER_DRAINING')));
    try {
      await deps.store.ping();
      return { status: 'ready' };
    } catch (error) {
      const appError = toAppError(error);
      const unavailable = appError.code === 'STORE_UNAVAILABLE' ? appError : new AppError('STORE_UNAVAILABLE');
      return reply.code(503).send(httpErrorBody(unavailable));
    }
  });
}
