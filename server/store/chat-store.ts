import type { BotContext } from '../../bot/bot-context.js';
import type { Language } from '../../bot/language.js';
import type { ConversationRecord } from '../domain/conversation.js';
import type { ConversationEvent, ConversationState } from '../transport/protocol.js';

/** An event before the store has numbered it. */
export type NewEvent = ConversationEvent extends infer E ? (E extends ConversationEvent ? Omit<E, 'seq'> : never) : never;

export interface ConversationPatch {
  state?: ConversationState;
  language?: Language;
  context?: BotContext;
}

export interface AppendRequest {
  conversationId: string;
  events: NewEvent[];
  /** Idempotency key (the listener's clientId): if already seen, nothing is written. */
  dedupeKey?: string;
  /** The append happens only if the conversation is in one of these states. */
  expectStates?: readonly ConversationState[];
  patch?: ConversationPatch;
  updatedAt: string;
}

export type AppendResult =
  | { status: 'appended'; events: ConversationEvent[]; lastSeq: number }
  | { status: 'duplicate'; seq: number; messageId: string }
  | { status: 'conflict'; state: ConversationState }
  | { status: 'not_found' };

export type EventsListener = (events: ConversationEvent[]) => void;
export type Unsubscribe = () => Promise<void>;

/**
 * The storage port. Every method is async, also in memory. Every change that touches
 * more than one record is atomic (one Lua script in Redis; no await inside in memory).
 */
export interface ChatStore {
  /** Creates a conversation with its first events (numbered from 1). */
  createConversation(record: Omit<ConversationRecord, 'lastSeq'>, events: NewEvent[]): Promise<ConversationEvent[]>;
  getConversation(conversationId: string): Promise<ConversationRecord | null>;
  append(request: AppendRequest): Promise<AppendResult>;
  /** Events with seq > afterSeq, in order, at most `limit`. */
  readEvents(conversationId: string, afterSeq: number, limit?: number): Promise<ConversationEvent[]>;
  /** Calls `listener` with every batch appended to the conversation, from any app instance. */
  subscribe(conversationId: string, listener: EventsListener): Promise<Unsubscribe>;
  /** Throws STORE_UNAVAILABLE when the backing store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_READ_LIMIT = 500;
