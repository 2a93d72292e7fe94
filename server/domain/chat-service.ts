import { emptyBotContext } from '../../bot/bot-context.js';
import type { Bot, BotTurn } from '../../bot/bot.js';
import type { Language } from '../../bot/language.js';
import { AppError } from '../errors.js';
import type { ChatStore, NewEvent } from '../store/chat-store.js';
import type { ConversationState, MessageEvent } from '../transport/protocol.js';
import { assertTransition, CONVERSATION_SCHEMA_VERSION, type ConversationRecord } from './conversation.js';
import type { ConversationTokens } from './conversation-token.js';
import { newId } from './ids.js';

export interface ChatServiceDeps {
  store: ChatStore;
  bot: Bot;
  tokens: ConversationTokens;
  now?: () => Date;
}

export interface ListenerMessage {
  conversationId: string;
  clientId: string;
  text: string;
  quickReply?: string;
}

export interface Acknowledgement {
  messageId: string;
  seq: number;
  duplicate: boolean;
}

/** States in which the listener may still write. */
const OPEN_STATES: readonly ConversationState[] = ['bot', 'awaiting_agent'];

/**
 * The conversation use-cases, free of any transport: start, resume, accept a listener
 * message (durably, idempotently), and let the bot answer it.
 */
export function createChatService({ store, bot, tokens, now = () => new Date() }: ChatServiceDeps) {
  const timestamp = () => now().toISOString();
  // One bot turn at a time per conversation on this node, so turns read the context the previous one wrote.
  const turnChains = new Map<string, Promise<void>>();

  function serialised(conversationId: string, work: () => Promise<void>): Promise<void> {
    const previous = turnChains.get(conversationId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => {});
    turnChains.set(conversationId, tail);
    void tail.then(() => {
      if (turnChains.get(conversationId) === tail) turnChains.delete(conversationId);
    });
    return next;
  }

  async function start(language: Language): Promise<{ conversation: ConversationRecord; token: string }> {
    const at = timestamp();
    const id = newId('conv');
    const welcome = bot.welcome(language);
    const record = { v: CONVERSATION_SCHEMA_VERSION, id, createdAt: at, updatedAt: at, state: 'bot' as const, language, context: emptyBotContext() };
    const events: NewEvent[] = [
      { type: 'conversation.state', at, from: null, to: 'bot', reason: 'started' },
      { type: 'message.new', at, messageId: newId('msg'), author: 'bot', text: welcome.text, quickReplies: welcome.quickReplies },
    ];
    await store.createConversation(record, events);
    return { conversation: { ...record, lastSeq: events.length }, token: tokens.issue(id) };
  }

  /** The conversation a token grants; INVALID_TOKEN for a bad token, NOT_FOUND when it is gone. */
  async function resume(token: string): Promise<ConversationRecord> {
    const conversationId = tokens.verify(token);
    if (!conversationId) throw new AppError('INVALID_TOKEN');
    const conversation = await store.getConversation(conversationId);
    if (!conversation) throw new AppError('NOT_FOUND', 'This conversation no longer exists; start a new one.');
    return conversation;
  }

  /** Stores the listener's message; resolves only once it is durable. A resent clientId is not stored twice. */
  async function acceptListenerMessage(message: ListenerMessage): Promise<Acknowledgement> {
    const text = message.text.trim();
    if (text === '') throw new AppError('VALIDATION_FAILED', 'The message is empty.');
    const event: Omit<MessageEvent, 'seq'> = {
      type: 'message.new',
      at: timestamp(),
      messageId: newId('msg'),
      author: 'listener',
      text,
      clientId: message.clientId,
    };
    const result = await store.append({
      conversationId: message.conversationId,
      events: [event],
      dedupeKey: message.clientId,
      expectStates: OPEN_STATES,
      updatedAt: event.at,
    });
    switch (result.status) {
      case 'appended':
        return { messageId: event.messageId, seq: result.lastSeq, duplicate: false };
      case 'duplicate':
        return { messageId: result.messageId, seq: result.seq, duplicate: true };
      case 'conflict':
        throw new AppError('CONVERSATION_CLOSED');
      case 'not_found':
        throw new AppError('NOT_FOUND');
    }
  }

  function turnEvents(turn: BotTurn, from: ConversationState): { events: NewEvent[]; state?: ConversationState } {
    const at = timestamp();
    const understanding = { intent: turn.intent, confidence: turn.confidence, outcome: turn.outcome, modelVersion: bot.modelVersion };
    const events: NewEvent[] = turn.replies.map((reply, index) => ({
      type: 'message.new',
      at,
      messageId: newId('msg'),
      author: 'bot',
      text: reply.text,
      quickReplies: reply.quickReplies,
      ...(index === 0 ? { understanding } : {}),
    }));
    if (turn.handoff) {
      events.push({ type: 'conversation.state', at, from, to: 'awaiting_agent', reason: `handoff:${turn.handoff.reason}` });
      return { events, state: 'awaiting_agent' };
    }
    if (turn.close) {
      events.push({ type: 'conversation.state', at, from, to: 'closed', reason: turn.close.reason });
      return { events, state: 'closed' };
    }
    return { events };
  }

  /** Lets the bot answer a stored listener message, when the conversation is still with the bot. */
  function botReply(message: ListenerMessage, onThinking: () => void = () => {}): Promise<void> {
    return serialised(message.conversationId, async () => {
      const conversation = await store.getConversation(message.conversationId);
      if (!conversation || conversation.state !== 'bot') return;
      onThinking();
      const turn = bot.respond({
        text: message.text,
        language: conversation.language,
        context: conversation.context,
        ...(message.quickReply === undefined ? {} : { quickReply: message.quickReply }),
      });
      const { events, state } = turnEvents(turn, conversation.state);
      if (state) assertTransition(conversation.state, state);
      // Guarded by state: if an agent or another node moved the conversation meanwhile, the bot stays quiet.
      await store.append({
        conversationId: conversation.id,
        events,
        expectStates: ['bot'],
        patch: { context: turn.context, ...(state ? { state } : {}) },
        updatedAt: timestamp(),
      });
    });
  }

  return { start, resume, acceptListenerMessage, botReply };
}

export type ChatService = ReturnType<typeof createChatService>;
