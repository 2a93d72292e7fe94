/**
 * The console's side of the agent protocol (socket.io namespace /agents), with no DOM in it.
 * Requests are checked against the shared request schemas before they leave, acks and pushes
 * are parsed with zod/mini when they arrive; anything outside the contract is refused here
 * and never reaches the views.
 */
import type { Socket } from 'socket.io-client';
import * as z from 'zod/mini';
import {
  agentPushSchemas,
  agentRequestSchemas,
  handoffSummarySchema,
  type AgentAck,
  type AgentPush,
  type AgentPushName,
  type AgentRequest,
  type AgentRequestName,
} from '../server/transport/agent-protocol.js';
import { conversationEventSchema, languageSchema } from '../server/transport/protocol.js';

/** A message a listener left when nobody was available. */
export const leftMessageSchema = z.object({
  id: z.string(),
  at: z.string(),
  data: z.object({ email: z.string(), text: z.string(), conversationId: z.string(), language: languageSchema }),
});
export type LeftMessage = z.infer<typeof leftMessageSchema>;

/** A ready answer drawn from the bot's intent answers. */
export const cannedReplySchema = z.object({ intent: z.string(), label: z.string(), text: z.string() });
export type CannedReply = z.infer<typeof cannedReplySchema>;

const empty = z.object({});

/** What a successful ack carries besides `ok: true`, per request. */
export const agentAckSchemas = {
  'presence.set': empty,
  'queue.list': z.object({ items: z.array(handoffSummarySchema) }),
  'chat.claim': z.object({ chat: handoffSummarySchema }),
  'chat.claimNext': z.object({ chat: handoffSummarySchema }),
  'chat.open': z.object({ chat: handoffSummarySchema, events: z.array(conversationEventSchema) }),
  'chat.send': z.object({ seq: z.number(), messageId: z.string() }),
  'chat.typing': empty,
  'chat.close': empty,
  'chat.transfer': empty,
  'chat.returnToBot': empty,
  'messages.list': z.object({ items: z.array(leftMessageSchema) }),
  'cannedReplies.list': z.object({ replies: z.array(cannedReplySchema) }),
} as const satisfies Record<AgentRequestName, z.ZodMiniType>;

export type AckData<N extends AgentRequestName> = z.infer<(typeof agentAckSchemas)[N]>;
export type AckResult<N extends AgentRequestName> = AgentAck<AckData<N>>;

/** Codes this module produces itself (the server's codes pass through unchanged). */
export const CLIENT_CODES = {
  OFFLINE: 'OFFLINE',
  TIMEOUT: 'TIMEOUT',
  BAD_ACK: 'BAD_ACK',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
} as const;

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'unauthorized' | 'forbidden' | 'offline';

/** Handshake refusals that no retry can fix. */
const TERMINAL_REFUSALS: Record<string, ConnectionState> = { UNAUTHORIZED: 'unauthorized', FORBIDDEN: 'forbidden' };

const failureSchema = z.object({ ok: z.literal(false), code: z.string(), message: z.string() });

/** The socket.io client surface this module uses (a real Socket in the page, a fake in a test). */
export type AgentSocket = Pick<Socket, 'connected' | 'active' | 'connect' | 'disconnect' | 'on' | 'off' | 'timeout'>;

export interface AgentClientOptions {
  /** How long to wait for an ack. */
  ackTimeoutMs?: number;
  /** Delay before retrying after a refused (non-auth) connection. */
  retryDelayMs?: number;
  /** Where pushes and acks outside the contract are reported. */
  warn?: (message: string, detail?: unknown) => void;
}

export interface AgentClient {
  readonly state: ConnectionState;
  request<N extends AgentRequestName>(name: N, payload: AgentRequest<N>): Promise<AckResult<N>>;
  /** Subscribes to one push; returns the unsubscribe function. */
  on<N extends AgentPushName>(name: N, handler: (payload: AgentPush<N>) => void): () => void;
  onState(handler: (state: ConnectionState) => void): () => void;
  connect(): void;
  close(): void;
}

function fail(code: string, message: string): { ok: false; code: string; message: string } {
  return { ok: false, code, message };
}

/** Wraps a socket.io socket on /agents; the caller creates the socket (with autoConnect: false) and owns it. */
export function createAgentClient(socket: AgentSocket, options: AgentClientOptions = {}): AgentClient {
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const retryDelayMs = options.retryDelayMs ?? 3_000;
  const warn = options.warn ?? ((message: string, detail?: unknown) => console.warn(`[agent-client] ${message}`, detail));
  const stateHandlers = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'offline';
  let stopped = true;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  function setState(next: ConnectionState): void {
    if (next === state) return;
    state = next;
    for (const handler of stateHandlers) handler(next);
  }

  socket.on('connect', () => setState('online'));
  socket.on('disconnect', (reason) => {
    if (stopped || reason === 'io client disconnect') return setState('offline');
    // The manager reconnects by itself unless the server ended the session.
    setState('reconnecting');
    if (reason === 'io server disconnect') scheduleRetry();
  });
  socket.on('connect_error', (error) => {
    if (stopped) return;
    const terminal = TERMINAL_REFUSALS[error.message];
    if (terminal) {
      stopped = true;
      socket.disconnect();
      return setState(terminal);
    }
    setState(state === 'connecting' ? 'connecting' : 'reconnecting');
    // A refusal by the server's middleware is not retried by socket.io itself.
    if (!socket.active) scheduleRetry();
  });

  function scheduleRetry(): void {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!stopped && !socket.connected) socket.connect();
    }, retryDelayMs);
  }

  return {
    get state() {
      return state;
    },

    request<N extends AgentRequestName>(name: N, payload: AgentRequest<N>): Promise<AckResult<N>> {
      const checked = z.safeParse(agentRequestSchemas[name] as z.ZodMiniType, payload);
      if (!checked.success) {
        const field = checked.error.issues[0]?.path.join('.') || 'payload';
        return Promise.resolve(fail(CLIENT_CODES.VALIDATION_FAILED, `Field "${field}" is missing or invalid.`));
      }
      if (!socket.connected) return Promise.resolve(fail(CLIENT_CODES.OFFLINE, 'Not connected to the server.'));
      return new Promise((resolve) => {
        socket.timeout(ackTimeoutMs).emit(name, checked.data, (error: Error | null, ack: unknown) => {
          if (error) return resolve(fail(CLIENT_CODES.TIMEOUT, `No answer to ${name} within ${Math.round(ackTimeoutMs / 1000)} s.`));
          if (typeof ack === 'object' && ack !== null && (ack as { ok?: unknown }).ok === true) {
            const parsed = z.safeParse(agentAckSchemas[name] as z.ZodMiniType, ack);
            if (parsed.success) return resolve({ ...(parsed.data as AckData<N>), ok: true } as AckResult<N>);
            warn(`ack of ${name} outside the contract`, parsed.error.issues);
            return resolve(fail(CLIENT_CODES.BAD_ACK, `The server's answer to ${name} was not understood.`));
          }
          const failure = z.safeParse(failureSchema, ack);
          if (failure.success) return resolve(failure.data);
          warn(`ack of ${name} outside the contract`, ack);
          resolve(fail(CLIENT_CODES.BAD_ACK, `The server's answer to ${name} was not understood.`));
        });
      });
    },

    on<N extends AgentPushName>(name: N, handler: (payload: AgentPush<N>) => void): () => void {
      const schema = agentPushSchemas[name] as z.ZodMiniType;
      const listener = (raw: unknown) => {
        const parsed = z.safeParse(schema, raw);
        if (!parsed.success) return warn(`push ${name} outside the contract; dropped`, parsed.error.issues);
        handler(parsed.data as AgentPush<N>);
      };
      const event: string = name;
      socket.on(event, listener);
      return () => void socket.off(event, listener);
    },

    onState(handler) {
      stateHandlers.add(handler);
      return () => void stateHandlers.delete(handler);
    },

    connect() {
      stopped = false;
      setState('connecting');
      socket.connect();
    },

    close() {
      stopped = true;
      clearTimeout(retryTimer);
      socket.disconnect();
      setState('offline');
    },
  };
}
