import { emptyBotContext } from '../../bot/bot-context.js';
import type { Bot, BotTurn } from '../../bot/bot.js';
import type { Language } from '../../bot/language.js';
import { detectLanguage } from '../../bot/language-detect.js';
import { AppError } from '../errors.js';
import type { ChatStore, NewEvent } from '../store/chat-store.js';
import type { ConversationState, MessageEvent } from '../transport/protocol.js';
import { assertTransition, CONVERSATION_SCHEMA_VERSION, type ConversationRecord } from './conversation.js';
import type { ConversationTokens } from './conversation-token.js';
import type { HandoffService } from './handoff-service.js';
import { newId } from './ids.js';
import { redactPii, type RedactionPolicy } from './redaction.js';

export interface ChatServiceDeps {
  store: ChatStore;
  bot: Bot;
  tokens: ConversationTokens;
  handoff: HandoffService;
  /** Set when policy says personal data must be masked before anything is stored (agents then see it masked too). */
  redaction?: RedactionPolicy;
  /** Told of each bot decision and handoff (metrics). */
  observe?: { botDecision?(outcome: string): void; handoff?(reason: string): void };
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
const OPEN_STATES: readonly ConversationState[] = ['bot', 'queued', 'assigned'];

/**
 * The conversation use-cases, free of any transport: start, resume, accept a listener
 * message (durably, idempotently), and let the bot answer it.
 */
export function createChatService({ store, bot, tokens, handoff, redaction, observe, now = () => new Date() }: ChatServiceDeps) {
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
    return { conversation: { ...record, lastSeq: events.length, agentId: null, handoff: null }, token: tokens.issue(id) };
  }

  /** The conversation a token grants; INVALID_TOKEN for a bad token, NOT_FOUND when it is gone. */
  async function resume(token: string): Promise<{ conversation: ConversationRecord; token: string }> {
    const granted = tokens.verify(token);
    if (!granted) throw new AppError('INVALID_TOKEN');
    const revoked = await store.getRecord('token_revocation', granted.conversationId);
    if (revoked && granted.issuedAtMs < Number(revoked.notBeforeMs ?? 0)) throw new AppError('INVALID_TOKEN', 'This conversation token has been revoked.');
    const conversation = await store.getConversation(granted.conversationId);
    if (!conversation) throw new AppError('NOT_FOUND', 'This conversation no longer exists; start a new one.');
    // A fresh token on every resume: an active listener never runs into the expiry.
    return { conversation, token: tokens.issue(conversation.id) };
  }

  /** Cuts off every token issued so far for a conversation (the listener starts a new chat). */
  async function revokeTokens(conversationId: string): Promise<void> {
    await store.putRecord('token_revocation', conversationId, { notBeforeMs: now().getTime() + 1000 });
  }

  /** Stores the listener's message; resolves only once it is durable. A resent clientId is not stored twice. */
  async function acceptListenerMessage(message: ListenerMessage): Promise<Acknowledgement> {
    const trimmed = message.text.trim();
    if (trimmed === '') throw new AppError('VALIDATION_FAILED', 'The message is empty.');
    const text = redaction ? redactPii(trimmed, redaction).text : trimmed;
    const event: Omit<MessageEvent, 'seq'> = {
      type: 'message.new',
      at: timestamp(),
      messageId: newId('msg'),
      author: 'listener',
      text,
      clientId: message.clientId,
      ...(message.quickReply === undefined ? {} : { quickReply: message.quickReply }),
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
      default:
        throw new AppError('INTERNAL', `unexpected store result ${result.status}`);
    }
  }

  function replyEvents(turn: BotTurn): NewEvent[] {
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
    return events;
  }

  /** Lets the bot answer a stored listener message, when the conversation is still with the bot. */
  function botReply(message: ListenerMessage, onThinking: () => void = () => {}): Promise<void> {
    return serialised(message.conversationId, async () => {
      const conversation = await store.getConversation(message.conversationId);
      if (!conversation || conversation.state !== 'bot') return;
      onThinking();
      // The conversation follows the language the listener writes in; weak evidence keeps the current one.
      const language = detectLanguage(message.text, conversation.language);
      const turn = bot.respond({
        text: message.text,
        language,
        context: conversation.context,
        ...(message.quickReply === undefined ? {} : { quickReply: message.quickReply }),
      });
      observe?.botDecision?.(turn.outcome);
      const events = replyEvents(turn);
      const patch = { context: turn.context, ...(language === conversation.language ? {} : { language }) };
      const current = { ...conversation, language };
      if (turn.handoff) {
        await handOff(current, { ...turn, handoff: turn.handoff }, events, patch);
        return;
      }
      if (turn.close) {
        assertTransition('bot', 'closed');
        events.push({ type: 'conversation.state', at: timestamp(), from: 'bot', to: 'closed', reason: turn.close.reason });
      }
      // Guarded by state: if an agent or another node moved the conversation meanwhile, the bot stays quiet.
      const result = await store.append({
        conversationId: conversation.id,
        events,
        expectStates: ['bot'],
        patch: { ...patch, ...(turn.close ? { state: 'closed' as const } : {}) },
        updatedAt: timestamp(),
      });
      if (turn.close && result.status === 'appended') await handoff.ended(conversation.id);
      if (turn.feedback) {
        await store.addItem({ id: newId('item'), kind: 'feedback', at: timestamp(), data: { conversationId: conversation.id, intent: turn.feedback.intent, text: turn.feedback.text, language, tags: ['feedback', turn.feedback.intent.split('.')[1] ?? ''] } });
      }
    });
  }

  async function handOff(conversation: ConversationRecord, turn: BotTurn & { handoff: NonNullable<BotTurn['handoff']> }, events: NewEvent[], patch: { context: BotTurn['context']; language?: Language }): Promise<void> {
    assertTransition('bot', 'queued');
    const move = await handoff.buildHandoff(conversation, turn, events);
    const result = await store.append({
      conversationId: conversation.id,
      events: move.events,
      expectStates: ['bot'],
      patch: { ...patch, ...move.patch },
      queue: move.queue,
      updatedAt: timestamp(),
    });
    if (result.status !== 'appended') return;
    observe?.handoff?.(turn.handoff.reason);
    await handoff.notifyQueue(move.handoff.queue);
    if ((await handoff.onlineAgents(conversation.language)).length === 0) {
      const notice = bot.noAgentAvailable(conversation.language);
      await store.append({
        conversationId: conversation.id,
        events: [{ type: 'message.new', at: timestamp(), messageId: newId('msg'), author: 'bot', text: notice.text, quickReplies: notice.quickReplies }],
        expectStates: ['queued'],
        updatedAt: timestamp(),
      });
      return;
    }
    await handoff.autoAssign(conversation.language);
  }

  /** A message for agents when nobody could take the chat, with the listener's e-mail; ends the chat. */
  async function leaveMessage(conversationId: string, email: string, text: string): Promise<void> {
    const conversation = await store.getConversation(conversationId);
    if (!conversation) throw new AppError('NOT_FOUND');
    await store.addItem({ id: newId('item'), kind: 'left_message', at: timestamp(), data: { conversationId, email, text: text.trim(), language: conversation.language } });
    if (conversation.state !== 'closed') await handoff.leave(conversationId);
  }

  /** True when the listener message at `seq` is the last thing in a conversation the bot still holds. */
  async function isUnanswered(conversationId: string, seq: number): Promise<boolean> {
    const conversation = await store.getConversation(conversationId);
    return conversation !== null && conversation.state === 'bot' && conversation.lastSeq === seq;
  }

  return { start, resume, revokeTokens, acceptListenerMessage, botReply, isUnanswered, leaveMessage, leave: (conversationId: string) => handoff.leave(conversationId) };
}

export type ChatService = ReturnType<typeof createChatService>;
