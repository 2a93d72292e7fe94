import type { BotContext } from '../../bot/bot-context.js';
import type { Language } from '../../bot/language.js';
import type { ConversationRecord, HandoffInfo } from '../domain/conversation.js';
import type { SurveyAnswer, SurveyRecord } from '../domain/csat.js';
import type { ConversationEvent, ConversationState } from '../transport/protocol.js';

/** An event before the store has numbered it. */
export type NewEvent = ConversationEvent extends infer E ? (E extends ConversationEvent ? Omit<E, 'seq'> : never) : never;

export interface ConversationPatch {
  state?: ConversationState;
  language?: Language;
  context?: BotContext;
  /** null removes the assignment. */
  agentId?: string | null;
  handoff?: HandoffInfo | null;
}

/**
 * One atomic change to a conversation: guards, then events appended with the next sequence
 * numbers, the record patched, and the queue and agent-chat sets moved, all or nothing.
 */
export interface AppendRequest {
  conversationId: string;
  events: NewEvent[];
  /** Idempotency key (the listener's clientId): if already seen, nothing is written. */
  dedupeKey?: string;
  /** Guard: the conversation is in one of these states. */
  expectStates?: readonly ConversationState[];
  /** Guard: the conversation is assigned to this agent (null: to nobody). */
  expectAgentId?: string | null;
  patch?: ConversationPatch;
  queue?: {
    /** Remove the conversation from this queue (guard: it must be in it). */
    remove?: string;
    add?: { queue: string; score: number };
  };
  agentChats?: {
    remove?: string;
    /** Add to this agent's chats (guard: fewer than `capacity` already). */
    add?: { agentId: string; capacity: number };
  };
  updatedAt: string;
}

export type AppendResult =
  | { status: 'appended'; events: ConversationEvent[]; lastSeq: number }
  | { status: 'duplicate'; seq: number; messageId: string }
  | { status: 'conflict'; state: ConversationState }
  | { status: 'agent_mismatch' }
  | { status: 'not_queued' }
  | { status: 'at_capacity' }
  | { status: 'not_found' };

export type EventsListener = (events: ConversationEvent[]) => void;
export type MessageListener = (message: unknown) => void;
export type Unsubscribe = () => Promise<void>;

export interface AgentAccount {
  id: string;
  email: string;
  displayName: string;
  role: 'agent' | 'analyst' | 'admin';
  languages: Language[];
  capacity: number;
  /** scrypt hash, `scrypt$N$r$p$salt$hash` */
  passwordHash: string;
  createdAt: string;
}

export interface Session {
  token: string;
  agentId: string;
  expiresAt: string;
}

export interface Presence {
  agentId: string;
  status: 'online' | 'away' | 'offline';
  lastSeen: number;
}

export interface QueueMember {
  conversationId: string;
  score: number;
}

export type ItemKind = 'left_message' | 'feedback' | 'resolution';

export type RecordKind = 'tuning' | 'proposal' | 'candidate' | 'model' | 'tuning_log' | 'audit' | 'alert' | 'token_revocation';

export interface StoredItem {
  id: string;
  kind: ItemKind;
  at: string;
  data: Record<string, unknown>;
}

/**
 * The storage port. Every method is async, also in memory. Every change that touches more
 * than one record is atomic (one Lua script in Redis; no await inside in memory).
 */
export interface ChatStore {
  /* conversations */
  createConversation(record: Omit<ConversationRecord, 'lastSeq' | 'agentId' | 'handoff'>, events: NewEvent[]): Promise<ConversationEvent[]>;
  getConversation(conversationId: string): Promise<ConversationRecord | null>;
  append(request: AppendRequest): Promise<AppendResult>;
  /** Events with seq > afterSeq, in order, at most `limit`. */
  readEvents(conversationId: string, afterSeq: number, limit?: number): Promise<ConversationEvent[]>;
  /**
   * Calls `listener` with every batch appended to the conversation, from any app instance. An empty
   * batch means notifications may have been lost (a reconnect): the listener should re-read.
   */
  subscribe(conversationId: string, listener: EventsListener): Promise<Unsubscribe>;

  /* queues */
  /** Conversations in queue order (best first), with their scores. */
  queueMembers(queue: string, limit?: number): Promise<QueueMember[]>;
  /** 1-based position, or null when not in that queue. */
  queuePosition(queue: string, conversationId: string): Promise<number | null>;
  agentChats(agentId: string): Promise<string[]>;
  recordWait(queue: string, waitMs: number): Promise<void>;
  /** The most recent waits (ms), newest first. */
  recentWaits(queue: string, count: number): Promise<number[]>;

  /* agents, sessions, presence */
  saveAgent(account: AgentAccount): Promise<void>;
  getAgent(agentId: string): Promise<AgentAccount | null>;
  findAgentByEmail(email: string): Promise<AgentAccount | null>;
  listAgents(): Promise<AgentAccount[]>;
  createSession(session: Session): Promise<void>;
  getSession(token: string): Promise<Session | null>;
  deleteSession(token: string): Promise<void>;
  setPresence(presence: Presence): Promise<void>;
  listPresence(): Promise<Presence[]>;

  /* items for agents and analysts (left messages, feedback) */
  addItem(item: StoredItem): Promise<void>;
  listItems(kind: ItemKind, limit?: number): Promise<StoredItem[]>;

  /* post-chat surveys */
  /** Records an ended conversation's survey; false when one was already recorded (nothing changes). */
  saveSurvey(record: SurveyRecord): Promise<boolean>;
  getSurvey(conversationId: string): Promise<SurveyRecord | null>;
  /** Stores the listener's answer once: false when an answer was already stored (nothing changes). */
  answerSurvey(conversationId: string, answer: SurveyAnswer): Promise<boolean>;
  /** Every survey, answered or not, oldest first. */
  listSurveys(): Promise<SurveyRecord[]>;

  /* small keyed records (tuning policy, proposals, training candidates, model versions, logs) */
  putRecord(kind: RecordKind, id: string, data: Record<string, unknown>): Promise<void>;
  getRecord(kind: RecordKind, id: string): Promise<Record<string, unknown> | null>;
  listRecords(kind: RecordKind): Promise<{ id: string; data: Record<string, unknown> }[]>;
  /** Model files, by version (several MB each). */
  saveModel(version: string, bytes: Buffer): Promise<void>;
  getModel(version: string): Promise<Buffer | null>;

  /* counters with a window (rate limits, sign-in failures) */
  /** Adds one; the window starts at the first hit and the count resets after it. */
  hitCounter(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /** The current count (0 when the window has passed), without adding to it. */
  readCounter(key: string): Promise<{ count: number; resetInMs: number }>;
  resetCounter(key: string): Promise<void>;

  /* retention and erasure */
  /** Remembers when a conversation closed, for the retention purge. */
  markClosed(conversationId: string, closedAtMs: number): Promise<void>;
  closedBefore(cutoffMs: number, limit: number): Promise<string[]>;
  /** Deletes a conversation and everything keyed by it (events, dedupe, survey answer text stays only as figures). */
  deleteConversation(conversationId: string): Promise<void>;
  removeItems(kind: ItemKind, ids: readonly string[]): Promise<void>;
  removeRecords(kind: RecordKind, ids: readonly string[]): Promise<void>;
  deleteSessionsOf(agentId: string): Promise<number>;

  /* ephemeral signals across app instances (typing, queue changes): at most once, never stored */
  publish(channel: string, message: unknown): Promise<void>;
  subscribeChannel(channel: string, listener: MessageListener): Promise<Unsubscribe>;

  /** Throws STORE_UNAVAILABLE when the backing store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_READ_LIMIT = 500;

/** Every event of a conversation, read page by page. */
export async function readAllEvents(store: Pick<ChatStore, 'readEvents'>, conversationId: string): Promise<ConversationEvent[]> {
  const events: ConversationEvent[] = [];
  for (;;) {
    const page = await store.readEvents(conversationId, events.length);
    if (page.length === 0) return events;
    events.push(...page);
  }
}
