import rateLimit from '@fastify/rate-limit';
import path from 'node:path';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Server as SocketIoServer } from 'socket.io';
import type { Bot } from '../bot/bot.js';
import type { LabelledPhrase } from '../bot/classifier.js';
import type { SwappableClassifier } from '../bot/swappable-classifier.js';
import { LANGUAGES } from '../bot/language.js';
import type { Config } from './config.js';
import { projectRoot } from './paths.js';
import { createChatService } from './domain/chat-service.js';
import { createConversationTokens } from './domain/conversation-token.js';
import { createHandoffService, type HandoffService } from './domain/handoff-service.js';
import { createSurveyService } from './domain/survey-service.js';
import { readHeldOut } from './domain/held-out.js';
import { createTuningService } from './domain/tuning-service.js';
import { startTuningSync } from './domain/tuning-sync.js';
import { registerTuningRoutes } from './transport/tuning-routes.js';
import { registerAnalyticsRoutes } from './transport/analytics-routes.js';
import { registerAdminRoutes } from './transport/admin-routes.js';
import { registerAgentStatsRoutes } from './transport/agent-stats-routes.js';
import { counterStore } from './transport/rate-limit-store.js';
import { registerSecurityHeaders } from './transport/security-headers.js';
import { countStoreErrors, createMetrics, registerMetricsRoute } from './transport/metrics.js';
import { createAudit } from './domain/audit.js';
import { createCsatAlerts } from './domain/csat-alerts.js';
import { createPrivacyService, type PrivacyService } from './domain/privacy-service.js';
import { AppError, fromFrameworkError, httpErrorBody, toAppError } from './errors.js';
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
  privacy: PrivacyService;
  widgets: WidgetConnections;
  /** Marks the node as draining: readiness fails, so a load balancer stops sending to it. */
  startDraining(): void;
}

const SOCKET_IO_PATH = '/socket.io/';

/** Builds the whole application (HTTP, widget WebSocket, agent socket.io); never listens. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, bot } = deps;
  const metrics = createMetrics();
  // Every failed store call counts in the metrics, under its method name.
  const store = countStoreErrors(deps.store, metrics);
  metrics.setQueueLengths(async () => Object.fromEntries(await Promise.all(LANGUAGES.map(async (queue) => [queue, (await store.queueMembers(queue, 10_000)).length] as const))));
  const app = Fastify({
    logger: deps.logger ?? { level: config.LOG_LEVEL },
    trustProxy: config.TRUST_PROXY,
    bodyLimit: 64 * 1024,
    // Malformed URLs and broken HTTP also answer with the catalogue's error body.
    frameworkErrors: (_error, _request, reply) => {
      const body = httpErrorBody(new AppError('VALIDATION_FAILED', 'The request URL is not valid.'));
      void (reply as unknown as { code(status: number): { send(payload: unknown): void } }).code(400).send(body);
    },
    clientErrorHandler: (_error, socket) => {
      const body = JSON.stringify(httpErrorBody(new AppError('VALIDATION_FAILED', 'The HTTP request is malformed.')));
      if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      else socket.destroy();
    },
  });
  let draining = false;
  let widgets: WidgetConnections | undefined;

  app.setErrorHandler((error, request, reply) => {
    const known = error instanceof AppError ? error : (fromFrameworkError(error as { statusCode?: number }) ?? toAppError(error));
    if (known.code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    void reply.code(known.status).send(httpErrorBody(known));
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(httpErrorBody(new AppError('NOT_FOUND')));
  });

  // One port for both sockets: see transport/upgrade-router.ts.
  const io = new SocketIoServer(app.server, { path: SOCKET_IO_PATH, serveClient: false, destroyUpgrade: false, maxHttpBufferSize: MAX_FRAME_BYTES });
  const widgetUpgrades = createUpgradeRouter(app.server, SOCKET_IO_PATH);
  await app.register(rateLimit, {
    global: true,
    max: config.HTTP_RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    // Counted in the store, so every node shares the limits (Redis when REDIS_URL is set).
    store: counterStore(store),
    skipOnError: true,
    // Thrown by the plugin and answered by the error handler with the catalogue's body.
    errorResponseBuilder: () => new AppError('RATE_LIMITED'),
  });
  registerSecurityHeaders(app);

  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES, server: widgetUpgrades },
    // Oversized or non-UTF-8 frames: ws closes with 1009 / 1007 itself; let that close frame go out
    // (no terminate) and keep such client mistakes out of the error log.
    errorHandler(error, socket, request) {
      request.log.debug({ err: error }, 'widget socket error');
      const stop = setTimeout(() => socket.terminate(), 1000);
      stop.unref();
      socket.once('close', () => clearTimeout(stop));
    },
    // On close (SIGTERM drain), every widget is told to reconnect elsewhere rather than just cut off.
    preClose(done) {
      widgets?.drain(1000);
      this.websocketServer.close(() => done());
    },
  });

  const redaction = { kinds: config.PII_REDACTION, keepCardLast4: config.PII_KEEP_CARD_LAST4 };
  const audit = createAudit(store);
  const tokens = createConversationTokens(config.CONVERSATION_SECRET, { ttlMs: config.CONVERSATION_TOKEN_TTL_DAYS * 24 * 3600 * 1000 });
  const privacy = createPrivacyService({ store, tokens, retentionDays: config.RETENTION_DAYS });
  const survey = createSurveyService(store, { answerWindowMs: config.SURVEY_WINDOW_MS, redaction, observe: { answered: (rating) => metrics.csatAnswers.inc({ rating: String(rating) }) } });
  const handoff = createHandoffService(store, {
    presenceTtlMs: config.AGENT_PRESENCE_TTL_MS,
    releaseGraceMs: config.AGENT_RELEASE_GRACE_MS,
    onEnded: (conversationId, agentIntent) => survey.recordEnded(conversationId, agentIntent),
    observe: {
      waited: (queue, waitMs) => metrics.queueWaitSeconds.observe({ queue }, waitMs / 1000),
      requeued: (reason) => metrics.handoffs.inc({ reason }),
    },
  });
  const chat = createChatService({
    store,
    bot,
    handoff,
    tokens,
    ...(config.PII_REDACT_LIVE ? { redaction } : {}),
    observe: { botDecision: (outcome) => metrics.botDecisions.inc({ outcome }), handoff: (reason) => metrics.handoffs.inc({ reason }) },
  });
  registerMetricsRoute(app, metrics);
  registerHealthRoutes(app, { store, isDraining: () => draining });
  registerStaticRoutes(app, { publicDir: deps.publicDir, widgetBundlePath: deps.widgetBundlePath, consoleBundlePath: deps.consoleBundlePath, brand: config.BRAND_NAME });
  registerSessionRoutes(app, { store, secureCookies: config.NODE_ENV === 'production', audit, signInsPerMinute: config.SIGNIN_RATE_LIMIT_PER_MINUTE });
  registerAdminRoutes(app, { store, privacy, audit, revokeConversationTokens: (id) => chat.revokeTokens(id) });
  const alerts = createCsatAlerts({
    store,
    rules: { below: config.ALERT_CSAT_BELOW, minResponses: config.ALERT_MIN_RESPONSES, windowMs: config.ALERT_WINDOW_HOURS * 3600 * 1000 },
    ...(config.ALERT_WEBHOOK_URL ? { webhookUrl: config.ALERT_WEBHOOK_URL } : {}),
    log: (message, error) => app.log.warn({ err: error }, message),
  });
  registerAnalyticsRoutes(app, { source: store, store, brand: config.BRAND_NAME, alerts });
  registerAgentStatsRoutes(app, { store });
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
      sendBufferLimitBytes: config.WIDGET_SEND_BUFFER_LIMIT_BYTES,
      connectionsPerAddress: config.WIDGET_CONNECTIONS_PER_ADDRESS,
      newConversationsPerMinute: config.WIDGET_NEW_CONVERSATIONS_PER_MINUTE,
      observe: {
        connected: () => metrics.widgetConnections.inc(),
        disconnected: () => metrics.widgetConnections.dec(),
        listenerMessage: (kind) => metrics.messagesReceived.inc({ author: 'listener', kind }),
        slowConsumerDropped: () => metrics.slowConsumersDropped.inc(),
      },
    });
  });
  if (deps.model) {
    const model = deps.model;
    const tuning = createTuningService({
      store,
      basePhrases: () => model.phrases,
      heldOut: () => readHeldOut(path.resolve(projectRoot(), config.HELDOUT_DIR)),
      shippedModel: async () => model.shippedModel,
      redaction,
    });
    registerTuningRoutes(app, { store, tuning, audit });
    const stopSync = await startTuningSync({ store, tuning, bot, classifier: model.classifier, log: (message, error) => (error ? app.log.warn({ err: error }, message) : app.log.info(message)) });
    app.addHook('onClose', async () => stopSync());
  }
  registerAgentSocket(io, { store, handoff, bot, observe: { agentMessage: () => metrics.messagesReceived.inc({ author: 'agent', kind: 'text' }) }, heartbeatMs: Math.max(250, Math.floor(config.AGENT_PRESENCE_TTL_MS / 3)), log: app.log });

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
  // One node per period checks (a shared counter decides), so an alert is raised and posted once.
  const alertCheck = setInterval(() => {
    void (async () => {
      if ((await store.hitCounter('alerts:check', config.ALERT_CHECK_MS)).count === 1) await alerts.check();
    })().catch((error: unknown) => app.log.warn({ err: error }, 'CSAT alert check failed'));
  }, config.ALERT_CHECK_MS);
  alertCheck.unref();
  const retention = setInterval(() => {
    privacy.purgeExpired().then(
      async (purged) => {
        if (purged > 0) await audit.record('retention.purge', 'system', { purged, days: config.RETENTION_DAYS });
      },
      (error: unknown) => app.log.warn({ err: error }, 'retention purge failed'),
    );
  }, 60 * 60 * 1000);
  retention.unref();
  // Agent consoles are cut before the HTTP server closes (it waits for open connections);
  // they reconnect to another node by themselves.
  app.addHook('preClose', (done) => {
    clearInterval(sweep);
    clearInterval(retention);
    clearInterval(alertCheck);
    io.disconnectSockets(true);
    io.engine.close();
    done();
  });

  return {
    app,
    io,
    handoff,
    privacy,
    get widgets() {
      if (!widgets) throw new Error('widget socket not registered');
      return widgets;
    },
    startDraining() {
      draining = true;
    },
  };
}
