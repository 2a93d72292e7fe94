import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Server as SocketIoServer } from 'socket.io';
import type { Bot } from '../bot/bot.js';
import type { LabelledPhrase } from '../bot/classifier.js';
import type { SwappableClassifier } from '../bot/swappable-classifier.js';
import { LANGUAGES } from '../bot/language.js';
import type { Config } from './config.js';
import { createChatService } from './domain/chat-service.js';
import { createConversationTokens } from './domain/conversation-token.js';
import { createHandoffService, type HandoffService } from './domain/handoff-service.js';
import { createSurveyService } from './domain/survey-service.js';
import { readHeldOut } from './domain/held-out.js';
import { createTuningService } from './domain/tuning-service.js';
import { startTuningSync } from './domain/tuning-sync.js';
import { registerTuningRoutes } from './transport/tuning-routes.js';
import { registerAnalyticsRoutes } from './transport/analytics-routes.js';
import { AppError, httpErrorBody, toAppError } from './errors.js';
import type { ChatStore } from './store/chat-store.js';
import { registerAgentSocket } from './transport/agent-socket.js';
import { registerHealthRoutes } from './transport/health-routes.js';
import { MAX_FRAME_BYTES } from './transport/protocol.js';
import { registerSessionRoutes } from './transport/session-routes.js';
import { registerStaticRoutes } from './transport/static-routes.js';
import { createUpgradeRouter } from './transport/upgrade-router.js';
import { registerWidgetSocket, type WidgetConnections } from './transport/widget-socket.js';

export interface AppDeps {
  config: Config;
  store: ChatStore;
  bot: Bot;
  /** The bot's swappable model, shipped phrases and model bytes: needed for the tuning loop's hot swap. */
  model?: { classifier: SwappableClassifier; phrases: LabelledPhrase[]; shippedModel: Buffer };
  /** Where the built widget bundle lives (served at /widget.js). */
  widgetBundlePath: string;
  /** Where the built console bundle lives (served at /console.js). */
  consoleBundlePath: string;
  /** The demo help page's and the console page's folder. */
  publicDir: string;
  logger?: FastifyServerOptions['logger'];
}

export interface App {
  app: FastifyInstance;
  io: SocketIoServer;
  handoff: HandoffService;
  widgets: WidgetConnections;
  /** Marks the node as draining: readiness fails, so a load balancer stops sending to it. */
  startDraining(): void;
}

const SOCKET_IO_PATH = '/socket.io/';

/** Builds the whole application (HTTP, widget WebSocket, agent socket.io); never listens. */
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
    const known =
      error instanceof AppError
        ? error
        : (error as { validation?: unknown }).validation || (error as { statusCode?: number }).statusCode === 400
          ? new AppError('VALIDATION_FAILED', (error as Error).message)
          : toAppError(error);
    if (known.code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    void reply.code(known.status).send(httpErrorBody(known));
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(httpErrorBody(new AppError('NOT_FOUND')));
  });

  // One port for both sockets: see transport/upgrade-router.ts.
  const io = new SocketIoServer(app.server, { path: SOCKET_IO_PATH, serveClient: false, destroyUpgrade: false, maxHttpBufferSize: MAX_FRAME_BYTES });
  const widgetUpgrades = createUpgradeRouter(app.server, SOCKET_IO_PATH);
  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES, server: widgetUpgrades },
    // On close (SIGTERM drain), every widget is told to reconnect elsewhere rather than just cut off.
    preClose(done) {
      widgets?.drain(1000);
      this.websocketServer.close(() => done());
    },
  });

  const survey = createSurveyService(store, { answerWindowMs: config.SURVEY_WINDOW_MS });
  const handoff = createHandoffService(store, {
    presenceTtlMs: config.AGENT_PRESENCE_TTL_MS,
    releaseGraceMs: config.AGENT_RELEASE_GRACE_MS,
    onEnded: (conversationId, agentIntent) => survey.recordEnded(conversationId, agentIntent),
  });
  const chat = createChatService({ store, bot, handoff, tokens: createConversationTokens(config.CONVERSATION_SECRET) });
  registerHealthRoutes(app, { store, isDraining: () => draining });
  registerStaticRoutes(app, { publicDir: deps.publicDir, widgetBundlePath: deps.widgetBundlePath, consoleBundlePath: deps.consoleBundlePath, brand: config.BRAND_NAME });
  registerSessionRoutes(app, { store, secureCookies: config.NODE_ENV === 'production' });
  registerAnalyticsRoutes(app, { source: store, store, brand: config.BRAND_NAME });
  await app.register(async (scope) => {
    widgets = registerWidgetSocket(scope, {
      chat,
      handoff,
      survey,
      store,
      allowedOrigins: config.WIDGET_ORIGINS,
      messagesPerSecond: config.WIDGET_MESSAGES_PER_SECOND,
      messageBurst: config.WIDGET_MESSAGE_BURST,
      floodLimit: config.WIDGET_FLOOD_LIMIT,
    });
  });
  if (deps.model) {
    const model = deps.model;
    const tuning = createTuningService({
      store,
      basePhrases: () => model.phrases,
      heldOut: () => readHeldOut(config.HELDOUT_DIR),
      shippedModel: async () => model.shippedModel,
    });
    registerTuningRoutes(app, { store, tuning });
    const stopSync = await startTuningSync({ store, tuning, bot, classifier: model.classifier, log: (message, error) => (error ? app.log.warn({ err: error }, message) : app.log.info(message)) });
    app.addHook('onClose', async () => stopSync());
  }
  registerAgentSocket(io, { store, handoff, bot, heartbeatMs: Math.max(250, Math.floor(config.AGENT_PRESENCE_TTL_MS / 3)), log: app.log });

  // Every node sweeps: agents whose heartbeat stopped lose their chats to the queue after the
  // grace period, and waiting listeners are offered to free agents. Claims are atomic, so
  // several nodes sweeping at once cannot double-assign.
  const sweep = setInterval(() => {
    void (async () => {
      await handoff.releaseDroppedAgents();
      for (const queue of LANGUAGES) await handoff.autoAssign(queue);
    })().catch((error: unknown) => app.log.debug({ err: error }, 'handoff sweep failed'));
  }, config.HANDOFF_SWEEP_MS);
  sweep.unref();
  // Agent consoles are cut before the HTTP server closes (it waits for open connections);
  // they reconnect to another node by themselves.
  app.addHook('preClose', (done) => {
    clearInterval(sweep);
    io.disconnectSockets(true);
    io.engine.close();
    done();
  });

  return {
    app,
    io,
    handoff,
    get widgets() {
      if (!widgets) throw new Error('widget socket not registered');
      return widgets;
    },
    startDraining() {
      draining = true;
    },
  };
}
