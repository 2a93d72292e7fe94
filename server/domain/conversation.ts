import { z } from 'zod';
import { botContextSchema } from '../../bot/bot-context.js';
import { languageSchema } from '../../bot/language.js';
import { AppError } from '../errors.js';
import type { ConversationState } from '../transport/protocol.js';

export const conversationStateSchema = z.enum(['bot', 'awaiting_agent', 'closed']);

/** The allowed transitions; anything else is a broken rule (INVALID_TRANSITION). */
const TRANSITIONS: Record<ConversationState, readonly ConversationState[]> = {
  bot: ['awaiting_agent', 'closed'],
  awaiting_agent: ['bot', 'closed'],
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

/** States from which a transition to `to` is allowed: used as the store's guard. */
export function statesThatMayMoveTo(to: ConversationState): ConversationState[] {
  return (Object.keys(TRANSITIONS) as ConversationState[]).filter((from) => canTransition(from, to));
}

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
});
export type ConversationRecord = z.infer<typeof conversationRecordSchema>;
