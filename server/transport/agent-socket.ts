import type { FastifyBaseLogger } from 'fastify';
import type { Server, Socket } from 'socket.io';
import * as z from 'zod/mini';
import type { Bot } from '../../bot/bot.js';
import { authenticate, publicProfile } from '../domain/agent-accounts.js';
import type { ConversationRecord } from '../domain/conversation.js';
import { HANDOFF_CHANNELS, type AgentSignal, type ConversationSignal, type HandoffService } from '../domain/handoff-service.js';
import { AppError, toAppError } from '../errors.js';
import { readAllEvents, type AgentAccount, type ChatStore, type Unsubscribe } from '../store/chat-store.js';
import {
  AGENT_NAMESPACE,
  agentRequestSchemas,
  presenceStatusSchema,
  type AgentAck,
  type AgentPush,
  type AgentPushName,
  type AgentRequest,
  type AgentRequestName,
  type HandoffSummary,
  type PresenceStatus,
} from './agent-protocol.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import { createEventFeed, type EventFeed } from './event-feed.js';

export interface AgentSocketOptions {
  store: ChatStore;
  handoff: HandoffService;
  bot: Bot;
  /** How often a connected console refreshes the agent's presence (well under the presence TTL). */
  heartbeatMs: number;
  log: FastifyBaseLogger;
  /** Told of each stored agent message (metrics). */
  observe?: { agentMessage?(): void };
}

export function toSummary(conversation: ConversationRecord): HandoffSummary | null {
  const handoff = conversation.handoff;
  if (!handoff) return null;
  return {
    conversationId: conversation.id,
    queue: handoff.queue,
    language: conversation.language,
    priority: handoff.priority,
    reason: handoff.reason,
    intent: handoff.intent,
    confidence: handoff.confidence,
    summary: handoff.summary,
    enqueuedAt: handoff.enqueuedAt,
    agentId: conversation.agentId,
    state: conversation.state,
  };
}

type Handler<N extends AgentRequestName> = (payload: AgentRequest<N>) => Promise<Record<string, unknown>>;

/** One agent's console connection: their chats' event feeds, queue updates, and their requests. */
function handleAgent(socket: Socket, agent: AgentAccount, options: AgentSocketOptions): void {
  const { store, handoff, bot, log } = options;
  const feeds = new Map<string, { feed: EventFeed; unsubscribe: Unsubscribe }>();
  const subscriptions: Unsubscribe[] = [];
  // The console sends the status the agent last chose with the handshake; a new console starts online.
  const requested = z.safeParse(presenceStatusSchema, (socket.handshake.auth as { status?: unknown } | undefined)?.status);
  let status: PresenceStatus = requested.success ? requested.data : 'online';
  let closed = false;
  let queueTimer: ReturnType<typeof setTimeout> | undefined;

  const push = <N extends AgentPushName>(name: N, payload: AgentPush<N>) => {
    if (!closed) socket.emit(name, payload);
  };

  async function queueItems(): Promise<HandoffSummary[]> {
    const members = (await Promise.all(agent.languages.map((queue) => store.queueMembers(queue, 100)))).flat().sort((a, b) => a.score - b.score);
    const conversations = await Promise.all(members.map((m) => store.getConversation(m.conversationId)));
    return conversations.flatMap((c) => {
      const summary = c && c.state === 'queued' ? toSummary(c) : null;
      return summary ? [summary] : [];
    });
  }

  function scheduleQueuePush(): void {
    clearTimeout(queueTimer);
    queueTimer = setTimeout(() => {
      queueItems().then((items) => push('queue.updated', { items }), (error: unknown) => log.warn({ err: error }, 'queue view failed'));
    }, 50);
  }

  /** Follows one of the agent's conversations: its events in order, and the listener's typing. */
  async function follow(conversationId: string, afterSeq: number): Promise<void> {
    if (feeds.has(conversationId) || closed) return;
    const feed = createEventFeed({
      store,
      conversationId,
      afterSeq,
      deliver: (event) => push('chat.event', { conversationId, event }),
      onError: (error) => log.warn({ err: error, conversationId }, 'agent feed failed'),
    });
    const unsubscribe = await store.subscribeChannel(HANDOFF_CHANNELS.conversation(conversationId), (message) => {
      const signal = message as ConversationSignal;
      if (signal?.type === 'typing' && signal.author === 'listener') push('chat.typing', { conversationId, active: Boolean(signal.active) });
    });
    feeds.set(conversationId, { feed, unsubscribe });
    await feed.start();
  }

  async function unfollow(conversationId: string): Promise<void> {
    const followed = feeds.get(conversationId);
    if (!followed) return;
    feeds.delete(conversationId);
    await Promise.all([followed.feed.stop(), followed.unsubscribe()]);
  }

  /** The conversation if it is assigned to this agent; NOT_FOUND otherwise (others' chats do not exist for them). */
  async function mine(conversationId: string): Promise<ConversationRecord> {
    const conversation = await store.getConversation(conversationId);
    if (!conversation || conversation.agentId !== agent.id) throw new AppError('NOT_FOUND');
    return conversation;
  }

  async function onAssigned(conversationId: string): Promise<void> {
    const conversation = await store.getConversation(conversationId);
    const summary = conversation ? toSummary(conversation) : null;
    if (!conversation || !summary || conversation.agentId !== agent.id) return;
    push('chat.assigned', { chat: summary });
    await follow(conversationId, conversation.lastSeq);
  }

  const handlers: { [N in AgentRequestName]: Handler<N> } = {
    'presence.set': async ({ status: next }) => {
      status = next;
      await handoff.heartbeat(agent.id, status);
      if (status === 'online') for (const queue of agent.languages) await handoff.autoAssign(queue);
      return {};
    },
    'queue.list': async () => ({ items: await queueItems() }),
    'chat.claim': async ({ conversationId }) => {
      const claimed = await handoff.claim(conversationId, agent);
      return { chat: toSummary(claimed) };
    },
    'chat.claimNext': async () => {
      const claimed = await handoff.claimNext(agent);
      return { chat: toSummary(claimed) };
    },
    'chat.open': async ({ conversationId }) => {
      const conversation = await mine(conversationId);
      const events = await readAllEvents(store, conversationId);
      await follow(conversationId, events.at(-1)?.seq ?? 0);
      return { chat: toSummary(conversation), events };
    },
    'chat.send': async ({ conversationId, clientId, text }) => {
      const result = await handoff.agentMessage(conversationId, agent, clientId, text);
      if (result.status === 'duplicate') return { seq: result.seq, messageId: result.messageId, duplicate: true };
      if (result.status !== 'appended') throw new AppError('NOT_FOUND');
      options.observe?.agentMessage?.();
      const event = result.events[0];
      return { seq: result.lastSeq, messageId: event && event.type === 'message.new' ? event.messageId : '', duplicate: false };
    },
    'chat.typing': async ({ conversationId, active }) => {
      await mine(conversationId);
      const signal: ConversationSignal = { type: 'typing', author: 'agent', active };
      await store.publish(HANDOFF_CHANNELS.conversation(conversationId), signal);
      return {};
    },
    'chat.close': async ({ conversationId, resolution }) => {
      await handoff.closeByAgent(conversationId, agent, {
        resolved: resolution.resolved,
        intent: resolution.intent,
        ...(resolution.note === undefined ? {} : { note: resolution.note }),
      });
      for (const queue of agent.languages) await handoff.autoAssign(queue);
      return {};
    },
    'chat.transfer': async ({ conversationId, to }) => {
      if ('agentId' in to) {
        const target = await store.getAgent(to.agentId);
        if (!target || target.role !== 'agent') throw new AppError('NOT_FOUND', 'No such agent.');
        await handoff.transferToAgent(conversationId, agent, target);
      } else {
        await handoff.transferToQueue(conversationId, agent, to.queue);
        await handoff.autoAssign(to.queue);
      }
      return {};
    },
    'chat.returnToBot': async ({ conversationId }) => {
      await handoff.returnToBot(conversationId, agent.id);
      return {};
    },
    'messages.list': async () => ({ items: await store.listItems('left_message', 200) }),
    'cannedReplies.list': async ({ language }) => ({ replies: bot.cannedReplies(language) }),
  };

  for (const name of Object.keys(handlers) as AgentRequestName[]) {
    socket.on(name, (...args: unknown[]) => {
      // The ack is always the last argument, whatever a client sent before it.
      const last = args.at(-1);
      const reply = typeof last === 'function' ? (last as (response: AgentAck) => void) : () => {};
      const payload = typeof args[0] === 'function' ? undefined : args[0];
      const parsed = z.safeParse(agentRequestSchemas[name], payload ?? {});
      if (!parsed.success) {
        const field = parsed.error.issues[0]?.path.join('.') || 'payload';
        reply({ ok: false, code: 'VALIDATION_FAILED', message: `Field "${field}" is missing or invalid.` });
        return;
      }
      (handlers[name] as Handler<typeof name>)(parsed.data as never).then(
        (result) => reply({ ok: true, ...result }),
        (error: unknown) => {
          const appError = toAppError(error);
          if (appError.code === 'INTERNAL') log.error({ err: error, agentId: agent.id, event: name }, 'agent request failed');
          reply({ ok: false, code: appError.code, message: appError.message });
        },
      );
    });
  }

  const heartbeat = setInterval(() => void handoff.heartbeat(agent.id, status).catch(() => {}), options.heartbeatMs);
  heartbeat.unref();

  socket.on('disconnect', () => {
    closed = true;
    clearInterval(heartbeat);
    // Not offered new chats while away; the last heartbeat still counts for the release grace period.
    void store.listPresence().then((all) => {
      const current = all.find((p) => p.agentId === agent.id);
      if (current && current.status !== 'offline') return store.setPresence({ ...current, status: 'offline' });
      return undefined;
    }).catch(() => {});
    clearTimeout(queueTimer);
    for (const conversationId of [...feeds.keys()]) void unfollow(conversationId);
    for (const unsubscribe of subscriptions) void unsubscribe();
  });

  void (async () => {
    subscriptions.push(
      await store.subscribeChannel(HANDOFF_CHANNELS.agent(agent.id), (message) => {
        const signal = message as AgentSignal;
        // Store failures here (Redis away) are logged, never left as unhandled rejections.
        if (signal?.type === 'assigned') onAssigned(signal.conversationId).catch((error: unknown) => log.warn({ err: error, agentId: agent.id }, 'could not deliver an assignment'));
        if (signal?.type === 'removed') {
          push('chat.removed', { conversationId: signal.conversationId, reason: signal.reason });
          unfollow(signal.conversationId).catch((error: unknown) => log.debug({ err: error }, 'unfollow failed'));
        }
      }),
      ...(await Promise.all(agent.languages.map((queue) => store.subscribeChannel(HANDOFF_CHANNELS.queue(queue), scheduleQueuePush)))),
    );
    await handoff.heartbeat(agent.id, status);
    const chats = (await Promise.all((await store.agentChats(agent.id)).map((id) => store.getConversation(id)))).filter((c): c is ConversationRecord => c !== null);
    for (const chat of chats) await follow(chat.id, chat.lastSeq);
    push('agent.ready', { agent: publicProfile(agent), chats: chats.flatMap((c) => toSummary(c) ?? []), status });
    scheduleQueuePush();
    if (status === 'online') for (const queue of agent.languages) await handoff.autoAssign(queue);
  })().catch((error: unknown) => {
    log.error({ err: error, agentId: agent.id }, 'agent connection setup failed');
    socket.disconnect(true);
  });
}

/** The /agents namespace: only signed-in agents; everyone else is refused at the handshake. */
export function registerAgentSocket(io: Server, options: AgentSocketOptions): void {
  const namespace = io.of(AGENT_NAMESPACE);
  namespace.use((socket, next) => {
    const token = readCookie(socket.handshake.headers.cookie, SESSION_COOKIE) ?? (typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : undefined);
    authenticate(options.store, token).then(
      (account) => {
        if (!account) return next(new Error('UNAUTHORIZED'));
        if (account.role !== 'agent') return next(new Error('FORBIDDEN'));
        socket.data.agent = account;
        next();
      },
      () => next(new Error('STORE_UNAVAILABLE')),
    );
  });
  namespace.on('connection', (socket) => handleAgent(socket, socket.data.agent as AgentAccount, options));
}
