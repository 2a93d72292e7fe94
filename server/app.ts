import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Bot } from '../bot/bot.js';
import type { Config } from './config.js';
import { createChatService } from './domain/chat-service.js';
import { createConversationTokens } from './domain/conversation-token.js';
import { AppError, httpErrorBody, toAppError } from './errors.js';
import type { ChatStore } from './store/chat-store.js';
import { registerHealthRoutes } from './transport/health-routes.js';
import { MAX_FRAME_BYTES } from './transport/protocol.js';
import { registerStaticRoutes } from './transport/static-routes.js';
import { registerWidgetSocket, type WidgetConnections } from './transport/widget-socket.js';

export interface AppDeps {
  config: Config;
  store: ChatStore;
  bot: Bot;
  /** Where the built widget bundle lives (served at /widget.js). */
  widgetBundlePath: string;
  /** The demo help page's folder. */
  publicDir: string;
  logger?: FastifyServerOptions['logger'];
}

export interface App {
  app: FastifyInstance;
  widgets: WidgetConnections;
  /** Marks the node as draining: readiness fails, so a load balancer stops sending to it. */
  startDraining(): void;
}

/** Builds the whole HTTP + WebSocket application; never listens (main.ts and tests do). */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, store, bot } = deps;
  const app = Fastify({
    logger: deps.logger ?? { level: config.LOG_LEVEL },
    trustProxy: config.TRUST_PROXY,
    bodyLimit: 64 * 1024,
  });
  let draining = false;
  let widgets: WidgetConnections | undefined;

  app.setErrorHandler((error, request, reply) => {
    const known = error instanceof AppError ? error : (error as { validation?: unknown }).validation ? new AppError('VALIDATION_FAILED', (error as Error).message) : toAppError(error);
    if (known.code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    void reply.code(known.status).send(httpErrorBody(known));
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(httpErrorBody(new AppError('NOT_FOUND')));
  });

  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    // On close (SIGTERM drain), every widget is told to reconnect elsewhere rather than just cut off.
    preClose(done) {
      widgets?.drain(1000);
      this.websocketServer.close(() => done());
    },
  });

  const chat = createChatService({ store, bot, tokens: createConversationTokens(config.CONVERSATION_SECRET) });
  registerHealthRoutes(app, { store, isDraining: () => draining });
  registerStaticRoutes(app, { publicDir: deps.publicDir, widgetBundlePath: deps.widgetBundlePath, brand: config.BRAND_NAME });
  await app.register(async (scope) => {
    widgets = registerWidgetSocket(scope, {
      chat,
      store,
      allowedOrigins: config.WIDGET_ORIGINS,
      messagesPerSecond: config.WIDGET_MESSAGES_PER_SECOND,
      messageBurst: config.WIDGET_MESSAGE_BURST,
      floodLimit: config.WIDGET_FLOOD_LIMIT,
    });
  });

  return {
    app,
    get widgets() {
      if (!widgets) throw new Error('widget socket not registered');
      return widgets;
    },
    startDraining() {
      draining = true;
    },
  };
}
