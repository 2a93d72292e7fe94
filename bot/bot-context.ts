import { z } from 'zod';

/** What the bot remembers between turns of one conversation (stored with the conversation). */
export const botContextSchema = z.object({
  /** Consecutive turns the bot did not understand. */
  notUnderstoodStreak: z.number().int().min(0).default(0),
  /** Intent whose answer the bot asked the listener to confirm, if any. */
  awaitingConfirmation: z.string().nullable().default(null),
  /** The last few listener texts, normalised, to notice repetition. */
  recentTexts: z.array(z.string()).max(5).default([]),
});
export type BotContext = z.infer<typeof botContextSchema>;

export function emptyBotContext(): BotContext {
  return { notUnderstoodStreak: 0, awaitingConfirmation: null, recentTexts: [] };
}
