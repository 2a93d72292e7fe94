import { z } from 'zod';
import { languageSchema } from '../../bot/language.js';

/**
 * Who served a conversation (the cohorts analytics compare):
 * - `bot`: no person was involved (bot_resolved cohort when it ended resolved or by goodbye);
 * - `bot_then_agent`: the bot answered at least one understood intent, then a person took over;
 * - `agent`: a person took over before the bot answered anything it understood (agent-only).
 */
export const handledBySchema = z.enum(['bot', 'bot_then_agent', 'agent']);
export type HandledBy = z.infer<typeof handledBySchema>;

export const surveyRatingSchema = z.number().int().min(1).max(5);

/** One survey per ended conversation: what happened, and the listener's answer (if any). */
export const surveyRecordSchema = z.object({
  v: z.literal(1),
  conversationId: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  /** The reason of the closing transition, e.g. resolved_by_bot, listener_goodbye, closed_by_agent:resolved, listener_left. */
  endReason: z.string(),
  handledBy: handledBySchema,
  /** Every agent who held the conversation, in order. */
  agentIds: z.array(z.string()),
  /** The intents the bot acted on, in order, and the one the agent confirmed or corrected at close. */
  botIntents: z.array(z.string()),
  agentIntent: z.string().nullable(),
  language: languageSchema,
  handoffReason: z.string().nullable(),
  /** Queued -> first claimed, when a person was involved. */
  waitMs: z.number().int().min(0).nullable(),
  /** The listener's answer; all null while unanswered (unanswered surveys count for response rates). */
  rating: surveyRatingSchema.nullable(),
  comment: z.string().max(2000).nullable(),
  resolved: z.boolean().nullable(),
  answeredAt: z.string().nullable(),
});
export type SurveyRecord = z.infer<typeof surveyRecordSchema>;

/** CSAT: the share of answered surveys rated 4 or 5. */
export function isSatisfied(rating: number): boolean {
  return rating >= 4;
}

export const surveyAnswerSchema = z.object({
  rating: surveyRatingSchema,
  comment: z.string().max(2000).nullable(),
  resolved: z.boolean().nullable(),
  answeredAt: z.string(),
});
export type SurveyAnswer = z.infer<typeof surveyAnswerSchema>;
