/**
 * The agent console protocol over socket.io (namespace /agents). Every payload in both
 * directions is defined here once and parsed with zod; every client event is acknowledged
 * with {ok: true, ...} or {ok: false, code, message}. See docs/agent-protocol.md.
 */
import * as z from 'zod/mini';
import { conversationEventSchema, languageSchema, MAX_TEXT_LENGTH } from './protocol.js';

export const AGENT_NAMESPACE = '/agents';

export const presenceStatusSchema = z.enum(['online', 'away', 'offline']);
export type PresenceStatus = z.infer<typeof presenceStatusSchema>;

export const prioritySchema = z.enum(['high', 'normal']);
export const handoffReasonSchema = z.enum(['requested', 'policy', 'not_understood', 'confirmation_failed', 'frustrated', 'released', 'transferred']);

const conversationIdSchema = z.string().check(z.regex(/^conv_[A-Za-z0-9_-]{8,64}$/));

/** What an agent sees of a conversation waiting for or assigned to a person. */
export const handoffSummarySchema = z.object({
  conversationId: z.string(),
  queue: z.string(),
  language: languageSchema,
  priority: prioritySchema,
  reason: z.string(),
  intent: z.nullable(z.string()),
  confidence: z.number(),
  /** The listener's messages and what the bot answered, short, oldest first. */
  summary: z.array(z.string()),
  enqueuedAt: z.string(),
  agentId: z.nullable(z.string()),
  state: z.string(),
});
export type HandoffSummary = z.infer<typeof handoffSummarySchema>;

export const agentProfileSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  languages: z.array(languageSchema),
  capacity: z.number(),
  role: z.enum(['agent', 'analyst', 'admin']),
});
export type AgentProfile = z.infer<typeof agentProfileSchema>;

/* ---------- agent -> server (each with an ack) ---------- */

export const agentRequestSchemas = {
  'presence.set': z.object({ status: presenceStatusSchema }),
  'queue.list': z.object({}),
  'chat.claim': z.object({ conversationId: conversationIdSchema }),
  'chat.claimNext': z.object({}),
  /** The whole transcript (bot part included) and the handoff context. */
  'chat.open': z.object({ conversationId: conversationIdSchema }),
  'chat.send': z.object({
    conversationId: conversationIdSchema,
    clientId: z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/)),
    text: z.string().check(z.minLength(1), z.maxLength(MAX_TEXT_LENGTH)),
  }),
  'chat.typing': z.object({ conversationId: conversationIdSchema, active: z.boolean() }),
  'chat.close': z.object({
    conversationId: conversationIdSchema,
    resolution: z.object({
      resolved: z.boolean(),
      /** The intent the agent confirms (same as the bot's) or corrects to; feeds the tuning loop. */
      intent: z.nullable(z.string().check(z.regex(/^[a-z]+\.[a-z_]+$/))),
      note: z.optional(z.string().check(z.maxLength(1000))),
    }),
  }),
  'chat.transfer': z.object({
    conversationId: conversationIdSchema,
    to: z.union([z.object({ agentId: z.string().check(z.minLength(1)) }), z.object({ queue: languageSchema })]),
  }),
  'chat.returnToBot': z.object({ conversationId: conversationIdSchema }),
  'messages.list': z.object({}),
  'cannedReplies.list': z.object({ language: languageSchema }),
} as const;
export type AgentRequestName = keyof typeof agentRequestSchemas;
export type AgentRequest<N extends AgentRequestName> = z.infer<(typeof agentRequestSchemas)[N]>;
export const AGENT_REQUEST_NAMES = Object.keys(agentRequestSchemas) as AgentRequestName[];

export type AgentAck<T = Record<string, unknown>> = ({ ok: true } & T) | { ok: false; code: string; message: string };

/* ---------- server -> agent ---------- */

export const agentPushSchemas = {
  /** The agent's profile and current chats, sent on connect. */
  'agent.ready': z.object({ agent: agentProfileSchema, chats: z.array(handoffSummarySchema), status: presenceStatusSchema }),
  /** The queue view changed (for the queues of the agent's languages). */
  'queue.updated': z.object({ items: z.array(handoffSummarySchema) }),
  /** A conversation was assigned to this agent (auto-assignment, claim, or transfer). */
  'chat.assigned': z.object({ chat: handoffSummarySchema }),
  /** A conversation left this agent (closed, transferred away, returned to the bot, released). */
  'chat.removed': z.object({ conversationId: z.string(), reason: z.string() }),
  /** A new event in one of this agent's conversations, in sequence order. */
  'chat.event': z.object({ conversationId: z.string(), event: conversationEventSchema }),
  'chat.typing': z.object({ conversationId: z.string(), active: z.boolean() }),
} as const;
export type AgentPushName = keyof typeof agentPushSchemas;
export type AgentPush<N extends AgentPushName> = z.infer<(typeof agentPushSchemas)[N]>;
