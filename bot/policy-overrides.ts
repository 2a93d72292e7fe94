import { z } from 'zod';

/** Per-intent changes the tuning loop applies on top of the model's own thresholds and the intent's policy. */
export const intentOverrideSchema = z.object({
  /** The bot answers this intent only at or above this confidence; below, it treats the message as not understood. */
  minConfidence: z.number().min(0).max(1).optional(),
  /** The bot hands this intent to a person instead of answering. */
  handoff: z.boolean().optional(),
});
export type IntentOverride = z.infer<typeof intentOverrideSchema>;
export type IntentOverrides = Record<string, IntentOverride>;
