import type { BotTurn } from '../../bot/bot.js';
import type { Language } from '../../bot/language.js';
import { AppError } from '../errors.js';
import type { AgentAccount, AppendResult, ChatStore, NewEvent, Presence } from '../store/chat-store.js';
import type { ConversationEvent, ConversationState, MessageEvent } from '../transport/protocol.js';
import { priorityOfScore, queueScore, type ConversationRecord, type HandoffInfo, type Priority } from './conversation.js';
import { newId } from './ids.js';

export interface HandoffOptions {
  /** An agent whose heartbeat is older than this is offline. */
  presenceTtlMs: number;
  /** An offline agent's chats go back to the queue after this long. */
  releaseGraceMs: number;
  /** Called after a conversation has ended (the survey is recorded there). */
  onEnded?: (conversationId: string, agentIntent: string | null) => Promise<void>;
  /** Told of waits and of conversations put back in a queue (metrics). */
  observe?: { waited?(queue: string, waitMs: number): void; requeued?(reason: string): void };
  now?: () => Date;
}

/** Channels the handoff publishes on (ephemeral signals across app instances). */
export const HANDOFF_CHANNELS = {
  queue: (queue: string) => `queue:${queue}`,
  agent: (agentId: string) => `agent:${agentId}`,
  conversation: (conversationId: string) => `conversation:${conversationId}`,
};

export type AgentSignal =
  | { type: 'assigned'; conversationId: string }
  | { type: 'removed'; conversationId: string; reason: string };

export type ConversationSignal = { type: 'typing'; author: 'listener' | 'agent'; active: boolean };

export interface QueueStatus {
  position: number;
  etaSeconds: number | null;
  agentsOnline: number;
}

const SYSTEM_TEXT = {
  released: {
    en: 'The person helping you had to leave. You are back at the front of the queue; someone else will join shortly.',
    es: 'La persona que te atendía ha tenido que irse. Vuelves a estar el primero de la cola; enseguida te atiende otra persona.',
  },
  returnedToBot: {
    en: "You're back with the assistant. Ask me anything, or ask for a person again at any time.",
    es: 'Vuelves a hablar con el asistente. Pregúntame lo que quieras o pide una persona cuando quieras.',
  },
  transferred: {
    en: 'Your chat is being passed to a colleague.',
    es: 'Estamos pasando tu chat a un compañero.',
  },
} as const;

/** The handoff use-cases: queueing, claiming (exactly once), releasing, transfers, closing. */
export function createHandoffService(store: ChatStore, options: HandoffOptions) {
  const now = options.now ?? (() => new Date());
  const iso = () => now().toISOString();

  function stateEvent(from: ConversationState, to: ConversationState, reason: string, agent?: AgentAccount): NewEvent {
    return { type: 'conversation.state', at: iso(), from, to, reason, ...(agent ? { agentName: agent.displayName, agentId: agent.id } : {}) };
  }

  function systemMessage(text: string): NewEvent {
    return { type: 'message.new', at: iso(), messageId: newId('msg'), author: 'system', text };
  }

  async function notifyQueue(queue: string): Promise<void> {
    await store.publish(HANDOFF_CHANNELS.queue(queue), { type: 'changed' }).catch(() => {});
  }

  async function notifyAgent(agentId: string, signal: AgentSignal): Promise<void> {
    await store.publish(HANDOFF_CHANNELS.agent(agentId), signal).catch(() => {});
  }

  async function requireConversation(conversationId: string): Promise<ConversationRecord> {
    const conversation = await store.getConversation(conversationId);
    if (!conversation) throw new AppError('NOT_FOUND');
    return conversation;
  }

  /** Online agents (fresh heartbeat) who speak a language. */
  async function onlineAgents(language?: Language): Promise<{ account: AgentAccount; presence: Presence }[]> {
    const cutoff = now().getTime() - options.presenceTtlMs;
    const fresh = (await store.listPresence()).filter((p) => p.status === 'online' && p.lastSeen >= cutoff);
    const accounts = await Promise.all(fresh.map(async (presence) => ({ presence, account: await store.getAgent(presence.agentId) })));
    return accounts.filter((a): a is { presence: Presence; account: AgentAccount } => a.account !== null && a.account.role === 'agent' && (language === undefined || a.account.languages.includes(language)));
  }

  /** The listener's messages and the bot's answers, short, for the agent's first look. */
  function summarise(events: readonly ConversationEvent[], turnReplies: readonly string[]): string[] {
    const lines = events
      .filter((e): e is MessageEvent => e.type === 'message.new' && (e.author === 'listener' || e.author === 'bot'))
      .map((e) => `${e.author === 'listener' ? 'Listener' : 'Bot'}: ${e.text.replace(/\s+/g, ' ').slice(0, 160)}`);
    lines.push(...turnReplies.map((text) => `Bot: ${text.replace(/\s+/g, ' ').slice(0, 160)}`));
    return lines.slice(-12);
  }

  return {
    onlineAgents,

    /**
     * The append request that moves a conversation from the bot to the queue together with
     * the bot's last replies, as one atomic change.
     */
    async buildHandoff(conversation: ConversationRecord, turn: BotTurn & { handoff: NonNullable<BotTurn['handoff']> }, replyEvents: NewEvent[]) {
      const history = await store.readEvents(conversation.id, Math.max(0, conversation.lastSeq - 30));
      const enqueuedAt = iso();
      const handoff: HandoffInfo = {
        queue: conversation.language,
        priority: turn.handoff.priority,
        reason: turn.handoff.reason,
        intent: turn.intent,
        confidence: turn.confidence,
        summary: summarise(history, []),
        enqueuedAt,
        assignedAt: null,
        agentName: null,
      };
      return {
        events: [...replyEvents, stateEvent('bot', 'queued', `handoff:${turn.handoff.reason}`)],
        patch: { state: 'queued' as const, handoff, agentId: null },
        queue: { add: { queue: handoff.queue, score: queueScore(handoff.priority, Date.parse(enqueuedAt)) } },
        handoff,
      };
    },

    notifyQueue,

    /** Claims one queued conversation for an agent: exactly one agent can ever win it. */
    async claim(conversationId: string, agent: AgentAccount): Promise<ConversationRecord> {
      const conversation = await requireConversation(conversationId);
      const handoff = conversation.handoff;
      if (conversation.state !== 'queued' || !handoff) throw new AppError('ALREADY_TAKEN');
      if (!agent.languages.includes(handoff.queue)) throw new AppError('FORBIDDEN', 'This chat is in a language you do not take.');
      const assignedAt = iso();
      const result = await store.append({
        conversationId,
        events: [stateEvent('queued', 'assigned', 'claimed', agent)],
        expectStates: ['queued'],
        queue: { remove: handoff.queue },
        agentChats: { add: { agentId: agent.id, capacity: agent.capacity } },
        patch: { state: 'assigned', agentId: agent.id, handoff: { ...handoff, assignedAt, agentName: agent.displayName } },
        updatedAt: assignedAt,
      });
      if (result.status === 'at_capacity') throw new AppError('AT_CAPACITY');
      if (result.status !== 'appended') throw new AppError('ALREADY_TAKEN');
      const waitMs = Date.parse(assignedAt) - Date.parse(handoff.enqueuedAt);
      options.observe?.waited?.(handoff.queue, waitMs);
      await store.recordWait(handoff.queue, waitMs).catch(() => {});
      await Promise.all([notifyQueue(handoff.queue), notifyAgent(agent.id, { type: 'assigned', conversationId })]);
      return { ...conversation, state: 'assigned', agentId: agent.id, handoff: { ...handoff, assignedAt, agentName: agent.displayName } };
    },

    /**
     * Claims the best waiting conversation in the agent's languages (priority, then wait).
     * Optimistic: read the heads of the queues and claim atomically. A claimer that loses a race
     * spreads its next tries over the first few of the best priority band (never skipping a
     * higher band), so many concurrent claimers do not all race for the same head.
     */
    async claimNext(agent: AgentAccount): Promise<ConversationRecord> {
      let racesLost = 0;
      for (let round = 0; round < 1000; round++) {
        const window = Math.min(200, 5 * (round + 1));
        const heads = (await Promise.all(agent.languages.map((queue) => store.queueMembers(queue, window)))).flat().sort((a, b) => a.score - b.score);
        if (heads.length === 0) break;
        const bestPriority = priorityOfScore(heads[0]!.score);
        const band = heads.filter((h) => priorityOfScore(h.score) === bestPriority);
        const spread = racesLost === 0 ? 0 : Math.floor(Math.random() * Math.min(band.length, 8));
        const ordered = [...band.slice(spread), ...band.slice(0, spread), ...heads.slice(band.length)];
        for (const head of ordered) {
          try {
            return await this.claim(head.conversationId, agent);
          } catch (error) {
            if (!(error instanceof AppError) || (error.code !== 'ALREADY_TAKEN' && error.code !== 'NOT_FOUND')) throw error;
            racesLost++; // someone was faster: try the next
          }
        }
      }
      throw new AppError('QUEUE_EMPTY');
    },

    /** Offers waiting conversations of a queue to the least-loaded online agents who speak it. */
    async autoAssign(queue: Language): Promise<number> {
      let assigned = 0;
      for (let round = 0; round < 100; round++) {
        if ((await store.queueMembers(queue, 1)).length === 0) return assigned;
        const candidates = await Promise.all(
          (await onlineAgents(queue)).map(async ({ account }) => ({ account, load: (await store.agentChats(account.id)).length })),
        );
        const free = candidates.filter((c) => c.load < c.account.capacity).sort((a, b) => a.load / a.account.capacity - b.load / b.account.capacity || (a.account.id < b.account.id ? -1 : 1));
        const pick = free[0];
        if (!pick) return assigned;
        try {
          const members = await store.queueMembers(queue, 1);
          const head = members[0];
          if (!head) return assigned;
          await this.claim(head.conversationId, pick.account);
          assigned++;
        } catch (error) {
          if (!(error instanceof AppError) || !['ALREADY_TAKEN', 'AT_CAPACITY', 'NOT_FOUND'].includes(error.code)) throw error;
        }
      }
      return assigned;
    },

    /** Where a queued conversation stands; the estimate is documented in docs/handoff.md. */
    async queueStatus(conversation: ConversationRecord): Promise<QueueStatus | null> {
      if (conversation.state !== 'queued' || !conversation.handoff) return null;
      const position = await store.queuePosition(conversation.handoff.queue, conversation.id);
      if (position === null) return null;
      const agentsOnline = (await onlineAgents(conversation.handoff.queue)).length;
      const waits = await store.recentWaits(conversation.handoff.queue, 20);
      let etaSeconds: number | null = null;
      if (waits.length > 0) {
        const sorted = [...waits].sort((a, b) => a - b);
        const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
        etaSeconds = Math.round((median / 1000) * Math.ceil(position / Math.max(1, agentsOnline)));
      }
      return { position, etaSeconds, agentsOnline };
    },

    /** Tells the survey that a conversation ended (the bot's own closes go through here too). */
    ended: (conversationId: string) => options.onEnded?.(conversationId, null) ?? Promise.resolve(),

    /** Puts an assigned conversation back in its queue, at the front (its agent dropped off). */
    async release(conversationId: string, agentId: string, reason: 'released' | 'transferred', toQueue?: Language): Promise<boolean> {
      const conversation = await requireConversation(conversationId);
      const handoff = conversation.handoff;
      if (!handoff || conversation.state !== 'assigned' || conversation.agentId !== agentId) return false;
      const queue = toQueue ?? handoff.queue;
      const text = reason === 'released' ? SYSTEM_TEXT.released : SYSTEM_TEXT.transferred;
      const result = await store.append({
        conversationId,
        events: [systemMessage(text[conversation.language]), stateEvent('assigned', 'queued', reason)],
        expectStates: ['assigned'],
        expectAgentId: agentId,
        agentChats: { remove: agentId },
        queue: { add: { queue, score: queueScore(handoff.priority, Date.parse(handoff.enqueuedAt), true) } },
        patch: { state: 'queued', agentId: null, handoff: { ...handoff, queue: queue, reason, assignedAt: null, agentName: null } },
        updatedAt: iso(),
      });
      if (result.status !== 'appended') return false;
      options.observe?.requeued?.(reason);
      await Promise.all([notifyQueue(queue), notifyAgent(agentId, { type: 'removed', conversationId, reason })]);
      return true;
    },

    /** Hands an assigned conversation straight to another agent. */
    async transferToAgent(conversationId: string, from: AgentAccount, to: AgentAccount): Promise<void> {
      const conversation = await requireConversation(conversationId);
      if (conversation.state !== 'assigned' || conversation.agentId !== from.id || !conversation.handoff) throw new AppError('NOT_FOUND');
      if (to.id === from.id) throw new AppError('VALIDATION_FAILED', 'The chat is already yours.');
      if (!to.languages.includes(conversation.language)) throw new AppError('VALIDATION_FAILED', `${to.displayName} does not take chats in this language.`);
      const result = await store.append({
        conversationId,
        events: [systemMessage(SYSTEM_TEXT.transferred[conversation.language]), stateEvent('assigned', 'assigned', 'transferred', to)],
        expectStates: ['assigned'],
        expectAgentId: from.id,
        agentChats: { remove: from.id, add: { agentId: to.id, capacity: to.capacity } },
        patch: { agentId: to.id, handoff: { ...conversation.handoff, agentName: to.displayName } },
        updatedAt: iso(),
      });
      if (result.status === 'at_capacity') throw new AppError('AT_CAPACITY', `${to.displayName} has no free capacity.`);
      if (result.status !== 'appended') throw new AppError('NOT_FOUND');
      await Promise.all([notifyAgent(from.id, { type: 'removed', conversationId, reason: 'transferred' }), notifyAgent(to.id, { type: 'assigned', conversationId })]);
    },

    async transferToQueue(conversationId: string, from: AgentAccount, queue: Language): Promise<void> {
      if (!(await this.release(conversationId, from.id, 'transferred', queue))) throw new AppError('NOT_FOUND');
    },

    /** The agent gives the conversation back to the bot. */
    async returnToBot(conversationId: string, agentId: string): Promise<void> {
      const conversation = await requireConversation(conversationId);
      if (conversation.state !== 'assigned' || conversation.agentId !== agentId) throw new AppError('NOT_FOUND');
      const result = await store.append({
        conversationId,
        events: [stateEvent('assigned', 'bot', 'returned_to_bot'), { type: 'message.new', at: iso(), messageId: newId('msg'), author: 'bot', text: SYSTEM_TEXT.returnedToBot[conversation.language], quickReplies: [] }],
        expectStates: ['assigned'],
        expectAgentId: agentId,
        agentChats: { remove: agentId },
        patch: { state: 'bot', agentId: null, handoff: null },
        updatedAt: iso(),
      });
      if (result.status !== 'appended') throw new AppError('NOT_FOUND');
      await notifyAgent(agentId, { type: 'removed', conversationId, reason: 'returned_to_bot' });
    },

    /** An agent's reply in their own conversation. NOT_FOUND for anything not assigned to them. */
    async agentMessage(conversationId: string, agent: AgentAccount, clientId: string, text: string): Promise<AppendResult> {
      const trimmed = text.trim();
      if (!trimmed) throw new AppError('VALIDATION_FAILED', 'The message is empty.');
      const result = await store.append({
        conversationId,
        events: [{ type: 'message.new', at: iso(), messageId: newId('msg'), author: 'agent', authorName: agent.displayName, text: trimmed, clientId }],
        dedupeKey: `agent:${clientId}`,
        expectStates: ['assigned'],
        expectAgentId: agent.id,
        updatedAt: iso(),
      });
      if (result.status === 'appended' || result.status === 'duplicate') return result;
      throw new AppError('NOT_FOUND');
    },

    /** The agent ends the chat with a resolution that confirms or corrects the bot's intent. */
    async closeByAgent(conversationId: string, agent: AgentAccount, resolution: { resolved: boolean; intent: string | null; note?: string }): Promise<void> {
      const conversation = await requireConversation(conversationId);
      if (conversation.state !== 'assigned' || conversation.agentId !== agent.id) throw new AppError('NOT_FOUND');
      const at = iso();
      const result = await store.append({
        conversationId,
        events: [stateEvent('assigned', 'closed', resolution.resolved ? 'closed_by_agent:resolved' : 'closed_by_agent:unresolved')],
        expectStates: ['assigned'],
        expectAgentId: agent.id,
        agentChats: { remove: agent.id },
        patch: { state: 'closed' },
        updatedAt: at,
      });
      if (result.status !== 'appended') throw new AppError('NOT_FOUND');
      await store.addItem({
        id: newId('item'),
        kind: 'resolution',
        at,
        data: { conversationId, agentId: agent.id, resolved: resolution.resolved, botIntent: conversation.handoff?.intent ?? null, intent: resolution.intent, note: resolution.note ?? null, language: conversation.language },
      });
      await notifyAgent(agent.id, { type: 'removed', conversationId, reason: 'closed' });
      await options.onEnded?.(conversationId, resolution.intent);
    },

    /** The listener ends the chat, from any open state (leaves the queue, or the agent). */
    async leave(conversationId: string): Promise<void> {
      const conversation = await requireConversation(conversationId);
      if (conversation.state === 'closed') return;
      const result = await store.append({
        conversationId,
        events: [stateEvent(conversation.state, 'closed', 'listener_left')],
        expectStates: [conversation.state],
        ...(conversation.agentId ? { expectAgentId: conversation.agentId, agentChats: { remove: conversation.agentId } } : {}),
        ...(conversation.state === 'queued' && conversation.handoff ? { queue: { remove: conversation.handoff.queue } } : {}),
        patch: { state: 'closed' },
        updatedAt: iso(),
      });
      if (result.status !== 'appended') throw new AppError('INVALID_TRANSITION', 'The conversation changed meanwhile; try again.');
      if (conversation.handoff) await notifyQueue(conversation.handoff.queue);
      if (conversation.agentId) await notifyAgent(conversation.agentId, { type: 'removed', conversationId, reason: 'listener_left' });
      await options.onEnded?.(conversationId, null);
    },

    async heartbeat(agentId: string, status: Presence['status']): Promise<void> {
      await store.setPresence({ agentId, status, lastSeen: now().getTime() });
    },

    /** Releases the chats of agents whose heartbeat stopped longer than the grace period ago. */
    async releaseDroppedAgents(): Promise<string[]> {
      const cutoff = now().getTime() - options.releaseGraceMs;
      const released: string[] = [];
      for (const presence of await store.listPresence()) {
        if (presence.lastSeen >= cutoff) continue;
        for (const conversationId of await store.agentChats(presence.agentId)) {
          if (await this.release(conversationId, presence.agentId, 'released')) released.push(conversationId);
        }
        if (presence.status !== 'offline') await store.setPresence({ ...presence, status: 'offline' });
      }
      return released;
    },
  };
}

export type HandoffService = ReturnType<typeof createHandoffService>;
