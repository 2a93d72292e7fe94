import { z } from 'zod';
import { botContextSchema } from '../../bot/bot-context.js';
import { languageSchema } from '../../bot/language.js';
import { AppError } from '../errors.js';
import { CONVERSATION_STATES, type ConversationState } from '../transport/protocol.js';

export const conversationStateSchema = z.enum(CONVERSATION_STATES);

/** The allowed transitions; anything else is a broken rule (INVALID_TRANSITION). */
const TRANSITIONS: Record<ConversationState, readonly ConversationState[]> = {
  bot: ['queued', 'closed'],
  queued: ['assigned', 'bot', 'closed'],
  // assigned -> assigned is a transfer to another agent
  assigned: ['assigned', 'queued', 'bot', 'closed'],
  closed: [],
};

export function canTransition(from: ConversationState, to: ConversationState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: ConversationState, to: ConversationState): void {
  if (!canTransition(from, to)) {
    throw new AppError('INVALID_TRANSITION', `A conversation in state "${from}" cannot move to "${to}".`);
  }
}

export const prioritySchema = z.enum(['high', 'normal']);
export type Priority = z.infer<typeof prioritySchema>;

/** Why and where a conversation waits for a person; kept with the conversation. */
export const handoffInfoSchema = z.object({
  queue: languageSchema,
  priority: prioritySchema,
  reason: z.string(),
  intent: z.string().nullable(),
  confidence: z.number(),
  summary: z.array(z.string()).max(20),
  enqueuedAt: z.string(),
  assignedAt: z.string().nullable().default(null),
  agentName: z.string().nullable().default(null),
});
export type HandoffInfo = z.infer<typeof handoffInfoSchema>;

export const CONVERSATION_SCHEMA_VERSION = 1 as const;

export const conversationRecordSchema = z.object({
  v: z.literal(CONVERSATION_SCHEMA_VERSION),
  id: z.string().regex(/^conv_[A-Za-z0-9_-]+$/),
  createdAt: z.string(),
  updatedAt: z.string(),
  state: conversationStateSchema,
  language: languageSchema,
  lastSeq: z.number().int().min(0),
  context: botContextSchema,
  /** The agent the conversation is assigned to, if any. */
  agentId: z.string().nullable().default(null),
  handoff: handoffInfoSchema.nullable().default(null),
});
export type ConversationRecord = z.infer<typeof conversationRecordSchema>;

/**
 * Queue order: priority first, then wait time. A conversation released back to the queue
 * (its agent dropped off) goes before every normally queued one of its priority.
 */
const NORMAL_BAND = 1e14;
const FRONT_SHIFT = 1e13;

export function queueScore(priority: Priority, enqueuedAtMs: number, front = false): number {
  const band = priority === 'high' ? 0 : NORMAL_BAND;
  return band + (front ? enqueuedAtMs - FRONT_SHIFT : enqueuedAtMs);
}

/** The priority a queue score was made with (epoch milliseconds stay far below the band gap). */
export function priorityOfScore(score: number): Priority {
  return score < NORMAL_BAND / 2 ? 'high' : 'normal';
}
