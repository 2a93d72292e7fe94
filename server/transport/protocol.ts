/**
 * The widget wire protocol: every frame in both directions, defined once.
 * Imported by the server, the widget bundle and the tests; zod/mini keeps the widget small.
 * docs/protocol.md describes it with an example exchange.
 */
import * as z from 'zod/mini';

export const MAX_TEXT_LENGTH = 2000;
/** Frames larger than this are refused by the socket itself (close 1009). */
export const MAX_FRAME_BYTES = 16 * 1024;

/** WebSocket close codes the server uses, and what the widget does on each. */
export const CLOSE_CODES = {
  /** The server is restarting or draining: reconnect with backoff. */
  SERVICE_RESTART: 1012,
  /** Too many refused frames: the widget waits longer before reconnecting. */
  FLOOD: 4008,
  /** Origin not allowed: do not reconnect. */
  ORIGIN_REFUSED: 4003,
} as const;

export const languageSchema = z.enum(['en', 'es']);
export type WireLanguage = z.infer<typeof languageSchema>;

const clientIdSchema = z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/));
const seqSchema = z.number().check(z.int(), z.gte(0));

/* ---------- listener -> server ---------- */

export const startFrameSchema = z.object({
  type: z.literal('conversation.start'),
  language: z.optional(languageSchema),
});
export const resumeFrameSchema = z.object({
  type: z.literal('conversation.resume'),
  token: z.string().check(z.minLength(1), z.maxLength(512)),
  /** Every event with a sequence number above this is replayed. */
  afterSeq: seqSchema,
});
export const sendFrameSchema = z.object({
  type: z.literal('message.send'),
  /** Chosen by the client; a resend with the same id is acknowledged again, never stored twice. */
  clientId: clientIdSchema,
  text: z.string().check(z.minLength(1), z.maxLength(MAX_TEXT_LENGTH)),
  /** The value of the quick reply the listener tapped, if any. */
  quickReply: z.optional(z.string().check(z.maxLength(120))),
});
export const typingFrameSchema = z.object({ type: z.literal('typing'), active: z.boolean() });
export const pingFrameSchema = z.object({ type: z.literal('ping') });
/** The listener ends the chat (or leaves the queue). */
export const leaveFrameSchema = z.object({ type: z.literal('conversation.leave') });
/** When no person is available: a message and an e-mail address for agents to answer later. */
export const leaveMessageFrameSchema = z.object({
  type: z.literal('message.leave'),
  email: z.string().check(z.maxLength(254), z.regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/)),
  text: z.string().check(z.minLength(1), z.maxLength(MAX_TEXT_LENGTH)),
});

/** The post-chat survey: "How satisfied are you with this chat?" 1-5, an optional comment, "Was your issue resolved?". */
export const surveyAnswerFrameSchema = z.object({
  type: z.literal('survey.answer'),
  rating: z.number().check(z.int(), z.gte(1), z.lte(5)),
  comment: z.optional(z.string().check(z.maxLength(MAX_TEXT_LENGTH))),
  resolved: z.optional(z.boolean()),
});

export const clientFrameSchema = z.discriminatedUnion('type', [
  startFrameSchema,
  resumeFrameSchema,
  sendFrameSchema,
  typingFrameSchema,
  pingFrameSchema,
  leaveFrameSchema,
  leaveMessageFrameSchema,
  surveyAnswerFrameSchema,
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export const CLIENT_FRAME_TYPES = ['conversation.start', 'conversation.resume', 'message.send', 'typing', 'ping', 'conversation.leave', 'message.leave', 'survey.answer'] as const;

/* ---------- conversation events (stored, numbered, replayed) ---------- */

export const authorSchema = z.enum(['listener', 'bot', 'agent', 'system']);
export type Author = z.infer<typeof authorSchema>;

export const quickReplySchema = z.object({ label: z.string(), value: z.string() });
export type QuickReply = z.infer<typeof quickReplySchema>;

/** bot: the bot answers; queued: waiting for a person; assigned: a person has it; closed: ended. */
export const CONVERSATION_STATES = ['bot', 'queued', 'assigned', 'closed'] as const;
export const conversationStateSchema = z.enum(CONVERSATION_STATES);
export type ConversationState = z.infer<typeof conversationStateSchema>;

export const messageEventSchema = z.object({
  type: z.literal('message.new'),
  seq: seqSchema,
  at: z.string(),
  messageId: z.string(),
  author: authorSchema,
  text: z.string(),
  clientId: z.optional(z.string()),
  /** On agent messages: the name the listener sees. */
  authorName: z.optional(z.string()),
  /** On listener messages: the quick reply tapped (the text is then its label, not the listener's words). */
  quickReply: z.optional(z.string()),
  quickReplies: z.optional(z.array(quickReplySchema)),
  /** On bot messages: what the bot understood (shown to agents and used by analytics). */
  understanding: z.optional(
    z.object({
      intent: z.nullable(z.string()),
      confidence: z.number(),
      outcome: z.string(),
      modelVersion: z.string(),
    }),
  ),
});
export const stateEventSchema = z.object({
  type: z.literal('conversation.state'),
  seq: seqSchema,
  at: z.string(),
  from: z.nullable(conversationStateSchema),
  to: conversationStateSchema,
  reason: z.string(),
  /** Set when a person joins (assigned): the name the listener sees. */
  agentName: z.optional(z.string()),
  /** Internal: which agent it was (kept for analytics; not sent to the widget). */
  agentId: z.optional(z.string()),
});
export const conversationEventSchema = z.discriminatedUnion('type', [messageEventSchema, stateEventSchema]);
export type ConversationEvent = z.infer<typeof conversationEventSchema>;
export type MessageEvent = z.infer<typeof messageEventSchema>;

/* ---------- server -> listener ---------- */

export const readyFrameSchema = z.object({
  type: z.literal('conversation.ready'),
  conversationId: z.string(),
  token: z.string(),
  state: conversationStateSchema,
  language: languageSchema,
  lastSeq: seqSchema,
  resumed: z.boolean(),
});
export const ackFrameSchema = z.object({
  type: z.literal('message.ack'),
  clientId: z.string(),
  messageId: z.string(),
  seq: seqSchema,
  duplicate: z.boolean(),
});
export const typingIndicatorFrameSchema = z.object({
  type: z.literal('typing.indicator'),
  author: z.enum(['bot', 'agent']),
  active: z.boolean(),
});
export const errorFrameSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  /** Set when the error refers to one listener message. */
  clientId: z.optional(z.string()),
});
/** While queued: where the listener stands, refreshed as it changes. etaSeconds is null without recent data. */
export const queuePositionFrameSchema = z.object({
  type: z.literal('queue.position'),
  position: z.number().check(z.int(), z.gte(1)),
  etaSeconds: z.nullable(z.number()),
  agentsOnline: z.number().check(z.int(), z.gte(0)),
});
/** The survey answer is stored (duplicate: an answer was already stored, and this one changed nothing). */
export const surveyAckFrameSchema = z.object({ type: z.literal('survey.ack'), duplicate: z.boolean() });
/** The result of message.leave. */
export const messageLeftFrameSchema = z.object({ type: z.literal('message.left') });
export const drainingFrameSchema = z.object({ type: z.literal('server.draining'), retryAfterMs: seqSchema });
export const pongFrameSchema = z.object({ type: z.literal('pong') });

export const serverFrameSchema = z.discriminatedUnion('type', [
  readyFrameSchema,
  ackFrameSchema,
  messageEventSchema,
  stateEventSchema,
  typingIndicatorFrameSchema,
  errorFrameSchema,
  drainingFrameSchema,
  pongFrameSchema,
  queuePositionFrameSchema,
  messageLeftFrameSchema,
  surveyAckFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type ReadyFrame = z.infer<typeof readyFrameSchema>;
export type AckFrame = z.infer<typeof ackFrameSchema>;

/** Parses a server frame (used by the widget and the tests). */
export function parseServerFrame(data: string): ServerFrame | null {
  try {
    const result = z.safeParse(serverFrameSchema, JSON.parse(data));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

export type ClientFrameResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: 'MALFORMED_JSON' | 'UNKNOWN_TYPE' | 'VALIDATION_FAILED' | 'TEXT_TOO_LONG'; detail: string; clientId?: string };

/** Parses a listener frame into a typed frame or a precise refusal. */
export function parseClientFrame(data: string): ClientFrameResult {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, code: 'MALFORMED_JSON', detail: 'The frame is not valid JSON.' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, code: 'VALIDATION_FAILED', detail: 'A frame must be a JSON object with a "type".' };
  }
  const record = json as Record<string, unknown>;
  const clientId = typeof record.clientId === 'string' && record.clientId.length <= 64 ? record.clientId : undefined;
  const withClientId = clientId === undefined ? {} : { clientId };
  if (!(CLIENT_FRAME_TYPES as readonly unknown[]).includes(record.type)) {
    // Never stringify the value itself: it may be nested thousands deep.
    const shown = typeof record.type === 'string' ? JSON.stringify(record.type.slice(0, 60)) : `of JSON type ${Array.isArray(record.type) ? 'array' : record.type === null ? 'null' : typeof record.type}`;
    return { ok: false, code: 'UNKNOWN_TYPE', detail: `Unknown frame type ${shown}.`, ...withClientId };
  }
  if (record.type === 'message.send' && typeof record.text === 'string' && record.text.length > MAX_TEXT_LENGTH) {
    return { ok: false, code: 'TEXT_TOO_LONG', detail: `The message is ${record.text.length} characters; ${MAX_TEXT_LENGTH} at most.`, ...withClientId };
  }
  const result = z.safeParse(clientFrameSchema, json);
  if (result.success) return { ok: true, frame: result.data };
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'frame';
  return { ok: false, code: 'VALIDATION_FAILED', detail: `Field "${field}" is missing or invalid.`, ...withClientId };
}
