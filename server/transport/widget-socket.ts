import type {} from '@fastify/websocket';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Language } from '../../bot/language.js';
import type { ChatService } from '../domain/chat-service.js';
import type { SurveyService } from '../domain/survey-service.js';
import type { ConversationRecord } from '../domain/conversation.js';
import { HANDOFF_CHANNELS, type ConversationSignal, type HandoffService } from '../domain/handoff-service.js';
import { AppError, httpErrorBody, toAppError, type ErrorCode } from '../errors.js';
import type { ChatStore, Unsubscribe } from '../store/chat-store.js';
import { createEventFeed, type EventFeed } from './event-feed.js';
import { CLOSE_CODES, parseClientFrame, type ClientFrame, type ServerFrame } from './protocol.js';
import { createTokenBucket, createWindowCounter } from './rate-limit.js';

export interface WidgetSocketOptions {
  chat: ChatService;
  handoff: HandoffService;
  survey: SurveyService;
  store: ChatStore;
  allowedOrigins: readonly string[];
  messagesPerSecond: number;
  messageBurst: number;
  floodLimit: number;
  /**
   * Bytes queued for a socket that the client has not read; past this the connection is dropped so a
   * stalled client cannot grow the node's memory without bound. It resumes from its last seq on reconnect.
   */
  sendBufferLimitBytes: number;
  /** How often a queued listener's position and estimate are refreshed even without a change. */
  queueRefreshMs?: number;
  /** Open sockets per address on this node (more are refused at the upgrade). */
  connectionsPerAddress?: number;
  /** New conversations per address per minute (counted in the store, across nodes). */
  newConversationsPerMinute?: number;
  /** Told of connections and stored listener messages (metrics). */
  observe?: { connected?(): void; disconnected?(): void; listenerMessage?(kind: 'text' | 'quick_reply'): void; slowConsumerDropped?(): void };
}

/** The open widget connections of this node, so a drain can tell each one to reconnect. */
export interface WidgetConnections {
  readonly size: number;
  drain(retryAfterMs: number): void;
}

/** A backlog that has not shrunk for this long belongs to a client that stopped reading. */
const SEND_STALL_MS = 10_000;

function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes('*')) return true;
  return origin !== undefined && allowed.includes(origin);
}

/**
 * Coalesces the frames one socket sends within one turn of the event loop into one TCP write.
 * A listener message makes up to five frames (its event, the ack, typing on, the bot's reply,
 * typing off), mostly in one run of microtasks; written one by one, each is a syscall of its own,
 * which cost more than everything else the server does per message. The first frame corks the
 * connection's TCP socket; it is uncorked on the next tick, i.e. once the current run of
 * (micro)tasks is done. Order and content of the frames are unchanged.
 */
function createCorker(raw: Socket | undefined): () => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    raw?.uncork();
  };
  return () => {
    if (corked || !raw || raw.destroyed) return;
    corked = true;
    raw.cork();
    process.nextTick(uncork);
  };
}

/** One listener's socket: parses frames, runs them in order, and delivers the conversation's events by sequence. */
function handleConnection(socket: WebSocket, raw: Socket | undefined, address: string, options: WidgetSocketOptions, log: FastifyBaseLogger, onClose: () => void): void {
  const { chat, store, handoff } = options;
  const bucket = createTokenBucket(options.messagesPerSecond, options.messageBurst);
  const refusals = createWindowCounter(options.floodLimit, 10_000);
  let conversation: ConversationRecord | null = null;
  let feed: EventFeed | null = null;
  const subscriptions: Unsubscribe[] = [];
  // Only a queued listener watches the queue (a channel and a refresh timer): per-connection work
  // must not grow with everyone else's handoffs while the bot or a person has the chat.
  let queueWatch: { unsubscribe: Unsubscribe; timer: ReturnType<typeof setInterval> } | null = null;
  let queueWatchChange: Promise<void> = Promise.resolve();
  let lastPosition = '';
  let queue: Promise<void> = Promise.resolve();
  let closed = false;

  const cork = createCorker(raw);
  const send = (frame: ServerFrame) => {
    if (closed || socket.readyState !== socket.OPEN) return;
    cork();
    socket.send(JSON.stringify(frame));
    if (socket.bufferedAmount > options.sendBufferLimitBytes) dropSlowConsumer();
  };

  function dropSlowConsumer(): void {
    closed = true;
    log.warn({ conversationId: conversation?.id, bufferedBytes: socket.bufferedAmount }, 'widget connection dropped: the client stopped reading');
    options.observe?.slowConsumerDropped?.();
    // A close frame would queue behind the backlog the client is not reading, so the socket is cut at once.
    socket.terminate();
  }

  /** Resolves once the client has read its backlog down to half the limit; drops it when it makes no progress for SEND_STALL_MS. */
  async function drained(): Promise<void> {
    let lowest = socket.bufferedAmount;
    let progressAt = Date.now();
    while (!closed && socket.bufferedAmount > options.sendBufferLimitBytes / 2) {
      if (socket.bufferedAmount < lowest) {
        lowest = socket.bufferedAmount;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > SEND_STALL_MS) {
        dropSlowConsumer();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const sendError = (code: ErrorCode | string, message: string, clientId?: string) =>
    send({ type: 'error', code, message, ...(clientId === undefined ? {} : { clientId }) });

  function refuse(code: ErrorCode, message: string, clientId?: string): void {
    sendError(code, message, clientId);
    if (refusals.hit()) {
      log.warn({ conversationId: conversation?.id }, 'widget connection closed for flooding');
      socket.close(CLOSE_CODES.FLOOD, 'FLOOD: too many refused frames');
    }
  }

  /** Sends the queue position when it changed (or on every refresh, for the estimate). */
  async function refreshQueueStatus(): Promise<void> {
    if (!conversation || closed) return;
    const current = await store.getConversation(conversation.id).catch(() => null);
    const status = current ? await handoff.queueStatus(current).catch(() => null) : null;
    if (!status) return;
    const key = JSON.stringify(status);
    if (key === lastPosition) return;
    lastPosition = key;
    send({ type: 'queue.position', ...status });
  }

  function watchQueue(queued: boolean): Promise<void> {
    queueWatchChange = queueWatchChange.then(async () => {
      if (queued && !queueWatch && conversation && !closed) {
        const current = await store.getConversation(conversation.id);
        const queue = current?.handoff?.queue ?? conversation.language;
        const unsubscribe = await store.subscribeChannel(HANDOFF_CHANNELS.queue(queue), () => void refreshQueueStatus());
        const timer = setInterval(() => void refreshQueueStatus(), options.queueRefreshMs ?? 5000);
        timer.unref();
        queueWatch = { unsubscribe, timer };
        lastPosition = '';
        await refreshQueueStatus();
      } else if (!queued && queueWatch) {
        clearInterval(queueWatch.timer);
        const { unsubscribe } = queueWatch;
        queueWatch = null;
        await unsubscribe();
      }
    }).catch((error: unknown) => log.debug({ err: error }, 'queue watch failed'));
    return queueWatchChange;
  }

  async function attach(record: ConversationRecord, token: string, afterSeq: number, resumed: boolean): Promise<void> {
    conversation = record;
    const id = record.id;
    feed = createEventFeed({
      store,
      conversationId: id,
      afterSeq: Math.min(afterSeq, record.lastSeq),
      deliver: (event) => {
        if (event.type === 'conversation.state' && event.agentId !== undefined) {
          const { agentId: _internal, ...visible } = event;
          send(visible);
        } else send(event);
        if (event.type === 'conversation.state') void watchQueue(event.to === 'queued');
      },
      onError: (error) => {
        const appError = toAppError(error);
        sendError(appError.code, appError.message);
      },
      beforePage: drained,
    });
    subscriptions.push(
      await store.subscribeChannel(HANDOFF_CHANNELS.conversation(id), (message) => {
        const signal = message as ConversationSignal;
        if (signal?.type === 'typing' && signal.author === 'agent') send({ type: 'typing.indicator', author: 'agent', active: Boolean(signal.active) });
      }),
    );
    send({ type: 'conversation.ready', conversationId: id, token, state: record.state, language: record.language, lastSeq: record.lastSeq, resumed });
    await feed.start();
    await watchQueue(record.state === 'queued');
  }

  function requireConversation(): ConversationRecord {
    if (!conversation) throw new AppError('NOT_STARTED');
    return conversation;
  }

  async function run(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping':
        send({ type: 'pong' });
        return;
      case 'conversation.start': {
        if (conversation) throw new AppError('ALREADY_STARTED');
        if (options.newConversationsPerMinute !== undefined) {
          const { count } = await store.hitCounter(`newconv:${address}`, 60_000);
          if (count > options.newConversationsPerMinute) throw new AppError('RATE_LIMITED', 'Too many new chats from this address; wait a minute.');
        }
        const language: Language = frame.language ?? 'en';
        const started = await chat.start(language);
        await attach(started.conversation, started.token, 0, false);
        return;
      }
      case 'conversation.resume': {
        if (conversation) throw new AppError('ALREADY_STARTED');
        const resumed = await chat.resume(frame.token);
        await attach(resumed.conversation, resumed.token, frame.afterSeq, true);
        return;
      }
      case 'typing': {
        const { id } = requireConversation();
        const signal: ConversationSignal = { type: 'typing', author: 'listener', active: frame.active };
        await store.publish(HANDOFF_CHANNELS.conversation(id), signal);
        return;
      }
      case 'conversation.leave':
        await chat.leave(requireConversation().id);
        return;
      case 'survey.answer': {
        const result = await options.survey.answer(requireConversation().id, {
          rating: frame.rating,
          ...(frame.comment === undefined ? {} : { comment: frame.comment }),
          ...(frame.resolved === undefined ? {} : { resolved: frame.resolved }),
        });
        send({ type: 'survey.ack', duplicate: result.duplicate });
        return;
      }
      case 'message.leave':
        await chat.leaveMessage(requireConversation().id, frame.email, frame.text);
        send({ type: 'message.left' });
        return;
      case 'message.send': {
        const { id } = requireConversation();
        const message = {
          conversationId: id,
          clientId: frame.clientId,
          text: frame.text,
          ...(frame.quickReply === undefined ? {} : { quickReply: frame.quickReply }),
        };
        const ack = await chat.acceptListenerMessage(message);
        send({ type: 'message.ack', clientId: frame.clientId, ...ack });
        if (!ack.duplicate) options.observe?.listenerMessage?.(frame.quickReply === undefined ? 'text' : 'quick_reply');
        // A resend of a message the bot never answered (its node died in between) still gets its answer.
        if (ack.duplicate && !(await chat.isUnanswered(id, ack.seq))) return;
        let thinking = false;
        try {
          await chat.botReply(message, () => {
            thinking = true;
            send({ type: 'typing.indicator', author: 'bot', active: true });
          });
        } finally {
          if (thinking) send({ type: 'typing.indicator', author: 'bot', active: false });
        }
        return;
      }
    }
  }

  // Attached synchronously: frames that arrive while an earlier one is awaited are queued, never lost.
  socket.on('message', (data, isBinary) => {
    try {
      onFrame(data.toString(), isBinary);
    } catch (error) {
      // A frame must never take the process down.
      log.error({ err: error, conversationId: conversation?.id }, 'widget frame handler threw');
      sendError('INTERNAL', 'Something went wrong on our side.');
    }
  });

  function onFrame(text: string, isBinary: boolean): void {
    if (isBinary) {
      refuse('BINARY_NOT_SUPPORTED', 'Binary frames are not supported; send JSON text.');
      return;
    }
    if (!bucket.take()) {
      refuse('RATE_LIMITED', 'Too many messages at once; wait a moment and try again.');
      return;
    }
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      refuse(parsed.code, parsed.detail, parsed.clientId);
      return;
    }
    const frame = parsed.frame;
    queue = queue.then(() =>
      run(frame).catch((error: unknown) => {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') log.error({ err: error, conversationId: conversation?.id }, 'widget frame failed');
        sendError(appError.code, appError.message, frame.type === 'message.send' ? frame.clientId : undefined);
      }),
    );
  }

  socket.on('close', () => {
    closed = true;
    void watchQueue(false);
    onClose();
    void feed?.stop();
    for (const unsubscribe of subscriptions) void unsubscribe();
  });
  socket.on('error', (error) => log.debug({ err: error }, 'widget socket error'));
}

export function registerWidgetSocket(app: FastifyInstance, options: WidgetSocketOptions): WidgetConnections {
  const open = new Set<WebSocket>();
  const perAddress = new Map<string, number>();

  app.route({
    method: 'GET',
    url: '/ws',
    preValidation: async (request, reply) => {
      if (!originAllowed(request.headers.origin, options.allowedOrigins)) {
        await reply.code(403).send(httpErrorBody(new AppError('ORIGIN_NOT_ALLOWED')));
        return;
      }
      if (options.connectionsPerAddress !== undefined && (perAddress.get(request.ip) ?? 0) >= options.connectionsPerAddress) {
        await reply.code(429).send(httpErrorBody(new AppError('RATE_LIMITED', 'Too many open chats from this address.')));
      }
    },
    // A plain HTTP request (no upgrade) gets a clear answer.
    handler: async (_request, reply) => reply.code(426).header('upgrade', 'websocket').send(httpErrorBody(new AppError('UPGRADE_REQUIRED'))),
    wsHandler: (socket, request) => {
      const address = request.ip;
      open.add(socket);
      perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      options.observe?.connected?.();
      handleConnection(socket, request.raw.socket as Socket | undefined, address, options, request.log, () => {
        open.delete(socket);
        options.observe?.disconnected?.();
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left <= 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
    },
  });

  return {
    get size() {
      return open.size;
    },
    drain(retryAfterMs) {
      for (const socket of open) {
        const frame: ServerFrame = { type: 'server.draining', retryAfterMs };
        socket.send(JSON.stringify(frame));
        socket.close(CLOSE_CODES.SERVICE_RESTART, 'server restarting');
      }
    },
  };
}
