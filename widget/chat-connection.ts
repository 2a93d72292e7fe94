import {
  CLOSE_CODES,
  parseServerFrame,
  type ClientFrame,
  type ConversationEvent,
  type ReadyFrame,
  type WireLanguage,
} from '../server/transport/protocol.js';

export type ConnectionStatus = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface PendingMessage {
  clientId: string;
  text: string;
  quickReply?: string;
}

export interface ChatConnectionHandlers {
  status(status: ConnectionStatus): void;
  ready(frame: ReadyFrame): void;
  /** Every conversation event exactly once, in sequence order. */
  event(event: ConversationEvent): void;
  acked(clientId: string): void;
  typing(author: 'bot' | 'agent', active: boolean): void;
  queue(position: number, etaSeconds: number | null, agentsOnline: number): void;
  surveyAcked(): void;
  messageLeft(): void;
  error(code: string, message: string, clientId?: string): void;
  /** The stored conversation could not be resumed and a new one begins: forget what is shown. */
  reset(): void;
}

interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface ChatConnectionOptions {
  url: string;
  language: WireLanguage;
  storage: KeyValueStorage;
  storageKey?: string;
  handlers: ChatConnectionHandlers;
  createSocket?: (url: string) => WebSocketLike;
  random?: () => number;
}

const OPEN = 1;
const MAX_BACKOFF_MS = 15_000;
const HEARTBEAT_MS = 25_000;
/** Refusals after which the same message may succeed when sent again. */
const RETRYABLE = new Set(['STORE_UNAVAILABLE', 'RATE_LIMITED', 'SERVER_DRAINING', 'INTERNAL']);

/**
 * The widget's side of the protocol: starts or resumes the conversation, replays what it
 * missed, keeps unacknowledged messages in storage and resends them (same clientId) after
 * every reconnect, and reconnects with exponential backoff and full jitter.
 */
export class ChatConnection {
  private socket: WebSocketLike | null = null;
  private lastSeq = 0;
  private attempts = 0;
  private ready = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private resendTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private counter = 0;
  private conversationId: string | null = null;
  private readonly key: string;
  private readonly random: () => number;

  constructor(private readonly options: ChatConnectionOptions) {
    this.key = options.storageKey ?? 'support-chat';
    this.random = options.random ?? Math.random;
  }

  get pending(): PendingMessage[] {
    try {
      const parsed: unknown = JSON.parse(this.options.storage.getItem(`${this.key}:outbox`) ?? '[]');
      return Array.isArray(parsed) ? (parsed as PendingMessage[]) : [];
    } catch {
      return [];
    }
  }

  private set pendingMessages(messages: PendingMessage[]) {
    this.options.storage.setItem(`${this.key}:outbox`, JSON.stringify(messages));
  }

  connect(): void {
    this.stopped = false;
    this.open();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.resendTimer);
    clearInterval(this.heartbeat);
    this.socket?.close(1000);
  }

  /** Queues a message; it is sent now if connected, or after the next reconnect. Returns its clientId. */
  send(text: string, quickReply?: string): string {
    const clientId = `c${Date.now().toString(36)}${(this.counter++).toString(36)}${Math.floor(this.random() * 1e8).toString(36)}`;
    const message: PendingMessage = { clientId, text, ...(quickReply === undefined ? {} : { quickReply }) };
    this.pendingMessages = [...this.pending, message];
    if (this.ready) this.transmit(message);
    return clientId;
  }

  typing(active: boolean): void {
    if (this.ready) this.write({ type: 'typing', active });
  }

  /** Ends the chat (or leaves the queue). */
  leave(): void {
    if (this.ready) this.write({ type: 'conversation.leave' });
  }

  answerSurvey(rating: number, comment?: string, resolved?: boolean): void {
    if (!this.ready) return;
    this.write({ type: 'survey.answer', rating, ...(comment ? { comment } : {}), ...(resolved === undefined ? {} : { resolved }) });
  }

  /** Whether this browser already answered the survey of the current conversation. */
  get surveyDone(): boolean {
    return this.conversationId !== null && this.options.storage.getItem(`${this.key}:survey:${this.conversationId}`) === 'done';
  }

  leaveMessage(email: string, text: string): void {
    if (this.ready) this.write({ type: 'message.leave', email, text });
  }

  /** Forgets the stored conversation and starts a new one (after a chat ended). */
  startNew(): void {
    this.options.storage.removeItem(`${this.key}:token`);
    this.pendingMessages = [];
    this.lastSeq = 0;
    this.options.handlers.reset();
    this.socket?.close(1000);
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Resends what is still unacknowledged after a refusal that may pass (rate, storage). */
  private retrySoon(): void {
    clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => {
      if (this.ready) for (const message of this.pending) this.transmit(message);
    }, 1000 + Math.floor(this.random() * 1000));
  }

  private transmit(message: PendingMessage): void {
    this.write({ type: 'message.send', clientId: message.clientId, text: message.text, ...(message.quickReply === undefined ? {} : { quickReply: message.quickReply }) });
  }

  private write(frame: ClientFrame): void {
    if (this.socket && this.socket.readyState === OPEN) this.socket.send(JSON.stringify(frame));
  }

  private open(): void {
    const { handlers } = this.options;
    handlers.status(this.attempts === 0 ? 'connecting' : 'reconnecting');
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as WebSocketLike);
    const socket = create(this.options.url);
    this.socket = socket;
    socket.onopen = () => {
      const token = this.options.storage.getItem(`${this.key}:token`);
      this.write(token ? { type: 'conversation.resume', token, afterSeq: this.lastSeq } : { type: 'conversation.start', language: this.options.language });
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => this.write({ type: 'ping' }), HEARTBEAT_MS);
    };
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.ready = false;
      clearInterval(this.heartbeat);
      if (this.stopped) return;
      if (event.code === CLOSE_CODES.ORIGIN_REFUSED) {
        handlers.status('offline');
        return;
      }
      this.scheduleReconnect(event.code === CLOSE_CODES.FLOOD ? 10_000 : 0);
    };
  }

  private scheduleReconnect(minimumMs: number): void {
    this.options.handlers.status('reconnecting');
    const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts);
    this.attempts += 1;
    const delay = minimumMs + Math.floor(this.random() * ceiling);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private receive(data: string): void {
    const frame = parseServerFrame(data);
    const { handlers } = this.options;
    if (!frame) return;
    switch (frame.type) {
      case 'conversation.ready':
        this.options.storage.setItem(`${this.key}:token`, frame.token);
        this.conversationId = frame.conversationId;
        this.ready = true;
        this.attempts = 0;
        handlers.ready(frame);
        handlers.status('online');
        for (const message of this.pending) this.transmit(message);
        return;
      case 'message.new':
      case 'conversation.state':
        if (frame.seq <= this.lastSeq) return;
        this.lastSeq = frame.seq;
        handlers.event(frame);
        return;
      case 'message.ack':
        this.pendingMessages = this.pending.filter((message) => message.clientId !== frame.clientId);
        handlers.acked(frame.clientId);
        return;
      case 'typing.indicator':
        handlers.typing(frame.author, frame.active);
        return;
      case 'server.draining':
        this.ready = false;
        return; // the close that follows schedules the reconnect
      case 'queue.position':
        handlers.queue(frame.position, frame.etaSeconds, frame.agentsOnline);
        return;
      case 'survey.ack':
        if (this.conversationId) this.options.storage.setItem(`${this.key}:survey:${this.conversationId}`, 'done');
        handlers.surveyAcked();
        return;
      case 'message.left':
        handlers.messageLeft();
        return;
      case 'pong':
        return;
      case 'error':
        if (frame.code === 'SURVEY_CLOSED' && this.conversationId) this.options.storage.setItem(`${this.key}:survey:${this.conversationId}`, 'done');
        if (!this.ready && (frame.code === 'INVALID_TOKEN' || frame.code === 'NOT_FOUND')) {
          this.startNew();
          return;
        }
        if (frame.clientId) {
          if (RETRYABLE.has(frame.code)) this.retrySoon();
          else this.pendingMessages = this.pending.filter((message) => message.clientId !== frame.clientId);
        }
        if (frame.code === 'STORE_UNAVAILABLE') handlers.status('reconnecting');
        handlers.error(frame.code, frame.message, frame.clientId);
        // The start or resume itself was refused for now: reconnect with backoff and try again.
        if (!this.ready && RETRYABLE.has(frame.code)) this.socket?.close(1000);
        return;
    }
  }
}
