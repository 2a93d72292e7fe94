import { z } from 'zod';

/**
 * One file per intent under intents/, holding both languages (see docs/intents.md).
 * Answers are a small safe Markdown subset: paragraphs, "- " lists, "1. " lists,
 * **bold** and [links](https://…). `{brand}` is replaced by the configured brand name.
 */
export const intentIdSchema = z
  .string()
  .regex(/^[a-z]+\.[a-z_]+$/, 'must look like "area.name", e.g. "billing.refund_request"');

export const policySchema = z.discriminatedUnion('action', [
  /** Answer and stay with the bot. */
  z.object({ action: z.literal('answer') }),
  /** Answer, then ask whether it solved the problem; "no" clarifies or hands off. */
  z.object({ action: z.literal('answer_confirm'), onNo: z.enum(['clarify', 'handoff']) }),
  /** Give a short answer, then hand off (the fix needs account access). */
  z.object({ action: z.literal('answer_handoff'), priority: z.enum(['normal', 'high']).default('normal') }),
  /** Hand off at once. */
  z.object({ action: z.literal('handoff'), priority: z.enum(['normal', 'high']).default('normal') }),
  /** Thank the listener and record the feedback item for analysts; `offerHelp` adds a follow-up offer. */
  z.object({ action: z.literal('feedback'), offerHelp: z.boolean().default(false) }),
  /** Say goodbye, end the conversation and ask for CSAT. */
  z.object({ action: z.literal('close') }),
]);
export type IntentPolicy = z.infer<typeof policySchema>;

export const intentTagSchema = z.enum(['billing', 'troubleshooting', 'account', 'content', 'feedback', 'meta']);

const phraseSchema = z.string().trim().min(1, 'a phrase must not be empty').max(500);

export const localisedIntentSchema = z.object({
  phrases: z.array(phraseSchema).min(1),
  answer: z.string().trim().min(1, 'the answer must not be empty').max(4000),
  quickReplies: z.array(z.string().trim().min(1).max(40)).max(6).default([]),
});
export type LocalisedIntent = z.infer<typeof localisedIntentSchema>;

export const intentFileSchema = z
  .object({
    id: intentIdSchema,
    /** Short human label, used for clarifying quick replies ("Which one: A or B?"). */
    label: z.object({ en: z.string().min(1).max(40), es: z.string().min(1).max(40) }),
    tags: z.array(intentTagSchema).min(1),
    policy: policySchema,
    en: localisedIntentSchema,
    es: localisedIntentSchema,
  })
  .strict();
export type IntentDefinition = z.infer<typeof intentFileSchema>;
