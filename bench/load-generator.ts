/**
 * A load generator process for bench/load.ts: it holds many listener connections on loopback
 * and drives them as the orchestrator says over IPC (see bench/load-protocol.ts). It runs apart
 * from the server so its CPU is not counted as the server's; the orchestrator starts several
 * when the listeners would not fit under one process's open-file limit.
 *
 * Against our server (`bot`) every listener speaks the real widget protocol: conversation.start,
 * then message.send with a fresh clientId; the server answers message.ack and the numbered
 * events. The accounting is end to end:
 * - every event seq must arrive exactly once and in order (a jump is a gap, a repeat a duplicate);
 * - every acknowledged message must come back exactly once as its own message.new (by clientId),
 *   with the seq its ack named; a message sent but never acknowledged nor refused is lost;
 * - a message stored while the bot had the conversation must get a bot reply: the bot's first
 *   message of a turn carries `understanding`, and the server runs a connection's frames in order,
 *   so the reply to a listener message is the first such bot message after that message's event.
 * Reply latency runs from the message's intended send time, not from when it was really sent, so a
 * late generator or a queue in the server both count.
 *
 * Against the echo server (`echo`) the same message.send frames go out and come back unchanged;
 * the echo is the reply, and an echo that never comes is lost.
 */
import path from 'node:path';
import WebSocket from 'ws';
import { assessFrustration } from '../bot/frustration.js';
import { createRandom, shuffleInPlace } from '../bot/engine/random.js';
import { loadIntents } from '../bot/load-intents.js';
import { projectRoot } from '../server/paths.js';
import {
  emptyAccounting,
  wallNow,
  type Accounting,
  type GeneratorCommand,
  type GeneratorReport,
  type LoadTarget,
  type RampOpenCommand,
  type RampStepCommand,
  type SteadyCommand,
} from './load-protocol.js';

type Language = 'en' | 'es';
const BRAND = 'Melodrift';
const CONNECT_CONCURRENCY = 64;
const CONNECT_TIMEOUT_MS = 15_000;

/* ---------- phrases ---------- */

interface PhraseBook {
  chat: Record<Language, string[]>;
  person: Record<Language, string[]>;
}

/** Phrases of intents the bot answers and stays on, both languages; none that sounds frustrated on its own. */
async function loadPhrases(): Promise<PhraseBook> {
  const intents = await loadIntents(path.join(projectRoot(), 'intents'));
  const book: PhraseBook = { chat: { en: [], es: [] }, person: { en: [], es: [] } };
  for (const intent of intents) {
    for (const language of ['en', 'es'] as const) {
      const phrases = intent[language].phrases.map((p) => p.replaceAll('{brand}', BRAND));
      if (intent.id === 'meta.human_agent') book.person[language].push(...phrases);
      if (intent.policy.action !== 'answer') continue;
      book.chat[language].push(...phrases.filter((p) => !assessFrustration(p, language, []).frustrated));
    }
  }
  for (const language of ['en', 'es'] as const) {
    if (book.chat[language].length === 0 || book.person[language].length === 0) throw new Error(`no ${language} phrases in the catalogue`);
  }
  return book;
}

/** Walks a phrase list in a per-listener shuffled order, so a listener does not repeat itself (repeats sound frustrated). */
function phraseCycle(phrases: readonly string[], rng: () => number): () => string {
  const order = phrases.map((_, i) => i);
  shuffleInPlace(order, rng);
  let next = 0;
  return () => phrases[order[next++ % order.length] ?? 0] ?? 'hello';
}

/* ---------- one connection ---------- */

interface SentMessage {
  clientId: string;
  intendedAt: number;
  ackSeq: number | null;
  eventSeq: number | null;
  events: number;
  refused: string | null;
  /** Its event arrived while the bot had the conversation: a bot reply is due. */
  replyExpected: boolean;
  /** The conversation left the bot before the reply: none is due any more. */
  cancelled: boolean;
  repliedAt: number | null;
  onReply?: (message: SentMessage) => void;
}

interface ConnectionEvents {
  onHandoffAssigned?: (latencyMs: number) => void;
  /** The conversation left the bot (queued, assigned or closed). */
  onStateChange?: (state: string) => void;
  onClosedUnexpectedly?: () => void;
}

class Connection {
  readonly accounting = emptyAccounting();
  readonly messages = new Map<string, SentMessage>();
  state: string | null = null;
  open = false;
  private socket: WebSocket | null = null;
  private nextSeq = 1;
  private awaiting: SentMessage | null = null;
  private handoffRequest: SentMessage | null = null;
  private handoffSeen = false;
  private closing = false;
  private counter = 0;

  constructor(
    readonly target: LoadTarget,
    readonly url: string,
    readonly id: string,
    readonly language: Language,
    private readonly events: ConnectionEvents = {},
  ) {}

  private error(kind: string): void {
    this.accounting.errors[kind] = (this.accounting.errors[kind] ?? 0) + 1;
  }

  /** Opens the socket and, against our server, starts a conversation; resolves when it is ready. */
  connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.url, { perMessageDeflate: false });
      this.socket = socket;
      let settled = false;
      const timer = setTimeout(() => finish(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          this.closing = true;
          socket.terminate();
          reject(error);
        } else {
          resolve();
        }
      };
      socket.on('message', (data: WebSocket.RawData) => {
        const ready = this.onFrame(data.toString());
        if (ready) finish();
      });
      socket.once('open', () => {
        this.open = true;
        if (this.target === 'echo') {
          this.state = 'bot';
          finish();
          return;
        }
        this.accounting.conversationsStarted++;
        socket.send(JSON.stringify({ type: 'conversation.start', language: this.language }));
      });
      socket.on('error', (error) => {
        if (!settled) finish(error);
        else this.error(`socket:${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      });
      socket.on('close', (code) => {
        this.open = false;
        if (!settled) finish(new Error(`closed ${code} before ready`));
        else if (!this.closing) {
          this.error(`close:${code}`);
          this.events.onClosedUnexpectedly?.();
        }
      });
    });
  }

  get ready(): boolean {
    return this.open && this.state === 'bot';
  }

  /** Sends one listener message scheduled for `intendedAt` (wall ms). */
  send(text: string, intendedAt: number, options: { quickReply?: string; handoff?: boolean; onReply?: (m: SentMessage) => void } = {}): SentMessage {
    const clientId = `${this.id}x${(this.counter++).toString(36)}`;
    // A timer may fire a little before its time: latency then runs from the real send.
    const message: SentMessage = { clientId, intendedAt: Math.min(intendedAt, wallNow()), ackSeq: null, eventSeq: null, events: 0, refused: null, replyExpected: false, cancelled: false, repliedAt: null };
    if (options.onReply) message.onReply = options.onReply;
    this.messages.set(clientId, message);
    if (options.handoff) {
      this.handoffRequest = message;
      this.accounting.handoffsRequested++;
    }
    this.accounting.sent++;
    const frame: Record<string, string> = { type: 'message.send', clientId, text };
    if (options.quickReply) frame.quickReply = options.quickReply;
    this.socket?.send(JSON.stringify(frame));
    return message;
  }

  /** Handles one server frame; true when it is conversation.ready. */
  private onFrame(data: string): boolean {
    const arrival = wallNow();
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(data) as Record<string, unknown>;
    } catch {
      this.error('bad_frame');
      return false;
    }
    if (this.target === 'echo') {
      const message = typeof frame.clientId === 'string' ? this.messages.get(frame.clientId) : undefined;
      if (!message) return false;
      message.events++;
      if (message.events === 1) {
        this.accounting.acked++;
        message.ackSeq = 0;
        message.eventSeq = 0;
        message.replyExpected = true;
        message.repliedAt = arrival;
        message.onReply?.(message);
      }
      return false;
    }
    switch (frame.type) {
      case 'conversation.ready':
        this.state = String(frame.state);
        return true;
      case 'message.ack': {
        const message = this.messages.get(String(frame.clientId));
        if (!message) return false;
        if (frame.duplicate === true) this.error('ack_duplicate');
        if (message.ackSeq === null) this.accounting.acked++;
        message.ackSeq = Number(frame.seq);
        if (message.eventSeq !== null && message.eventSeq !== message.ackSeq) this.accounting.ackMismatches++;
        return false;
      }
      case 'error': {
        this.error(`error:${String(frame.code)}`);
        const message = typeof frame.clientId === 'string' ? this.messages.get(frame.clientId) : undefined;
        if (message) message.refused = String(frame.code);
        return false;
      }
      case 'message.new':
      case 'conversation.state':
        this.onEvent(frame, arrival);
        return false;
      default:
        return false; // typing.indicator, queue.position, pong
    }
  }

  private onEvent(event: Record<string, unknown>, arrival: number): void {
    const seq = Number(event.seq);
    if (seq < this.nextSeq) {
      this.accounting.seqDuplicates++;
      return;
    }
    if (seq > this.nextSeq) this.accounting.seqGaps += seq - this.nextSeq;
    this.nextSeq = seq + 1;
    if (event.type === 'conversation.state') {
      const to = String(event.to);
      this.state = to;
      if (to !== 'bot') {
        if (this.awaiting && this.awaiting.repliedAt === null) {
          this.awaiting.replyExpected = false;
          this.awaiting.cancelled = true;
        }
        this.awaiting = null;
        for (const message of this.messages.values()) if (message.events === 0) message.cancelled = true;
      }
      if (to === 'queued' && !this.handoffRequest && !this.handoffSeen) this.accounting.unplannedHandoffs++;
      if (to === 'queued') this.handoffSeen = true;
      if (to === 'assigned' && this.handoffRequest) {
        this.accounting.handoffsAssigned++;
        this.events.onHandoffAssigned?.(arrival - this.handoffRequest.intendedAt);
        this.handoffRequest = null;
      }
      if (to === 'closed') this.accounting.conversationsClosed++;
      this.events.onStateChange?.(to);
      return;
    }
    const author = event.author;
    if (author === 'listener' && typeof event.clientId === 'string') {
      const message = this.messages.get(event.clientId);
      if (!message) return;
      message.events++;
      if (message.events > 1) return;
      message.eventSeq = seq;
      if (message.ackSeq !== null && message.ackSeq !== seq) this.accounting.ackMismatches++;
      if (this.state === 'bot') {
        message.replyExpected = true;
        this.awaiting = message;
      } else {
        message.cancelled = true;
      }
      return;
    }
    if (author === 'bot' && event.understanding !== undefined && this.awaiting) {
      const message = this.awaiting;
      this.awaiting = null;
      if (message.repliedAt === null) {
        message.repliedAt = arrival;
        message.onReply?.(message);
      }
      return;
    }
    if (author === 'agent') this.accounting.agentMessages++;
  }

  /** Adds this connection's per-message verdicts to its accounting and returns it. */
  settle(): Accounting {
    for (const message of this.messages.values()) {
      if (message.refused !== null) continue;
      if (message.ackSeq === null) {
        this.accounting.unacked++;
        this.accounting.lostMessages++;
      } else if (message.events === 0) {
        this.accounting.lostMessages++;
      } else if (message.events > 1) {
        this.accounting.duplicatedMessages += message.events - 1;
      }
      if (message.replyExpected && !message.cancelled && message.repliedAt === null) this.accounting.replyTimeouts++;
    }
    this.messages.clear();
    return this.accounting;
  }

  /** Messages still waiting for something (an ack, their event or a due reply). */
  outstanding(): number {
    let count = 0;
    for (const message of this.messages.values()) {
      if (message.refused !== null || message.cancelled) continue;
      if (message.ackSeq === null || message.events === 0 || (message.replyExpected && message.repliedAt === null)) count++;
    }
    return count;
  }

  close(): void {
    this.closing = true;
    this.open = false;
    this.socket?.close();
  }
}

/** Opens `count` connections with bounded concurrency; returns those that came up. */
async function openMany(count: number, make: (index: number) => Connection): Promise<{ connections: Connection[]; failures: number; failedAccounting: Accounting }> {
  const connections: Connection[] = [];
  const failedAccounting = emptyAccounting();
  let failures = 0;
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const index = next++;
      const connection = make(index);
      try {
        await connection.connect();
        connections.push(connection);
      } catch {
        failures++;
        failedAccounting.errors.connect = (failedAccounting.errors.connect ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, worker));
  return { connections, failures, failedAccounting };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/* ---------- steady: listeners chatting at a human pace ---------- */

interface SteadyRun {
  listeners: SteadyListener[];
  retired: Accounting;
  connectFailures: number;
}

class SteadyListener {
  connection: Connection;
  private readonly nextPhrase: () => string;
  private readonly rng: () => number;
  private intendedAt = 0;
  private readonly firstOffset: number;
  private startAt = 0;
  private sentCount = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private handoffAt: number | null;
  private generation = 0;
  readonly language: Language;
  /** Accounting of conversations this listener finished and replaced. */
  readonly past = emptyAccounting();
  private readonly retired = new WeakSet<Connection>();

  constructor(
    private readonly command: SteadyCommand,
    private readonly index: number,
    private readonly book: PhraseBook,
    private readonly replyMs: number[],
    private readonly handoffMs: number[],
  ) {
    const globalIndex = command.firstListener + index;
    this.rng = createRandom(command.seed * 7919 + globalIndex);
    this.language = this.rng() < command.spanishShare ? 'es' : 'en';
    this.nextPhrase = phraseCycle(book.chat[this.language], this.rng);
    this.handoffAt = this.rng() < command.handoffShare ? 1 + Math.floor(this.rng() * 2) : null;
    this.firstOffset = this.rng() * command.paceMaxMs;
    this.connection = this.makeConnection();
  }

  private makeConnection(): Connection {
    const url = this.command.urls[(this.command.firstListener + this.index) % this.command.urls.length] ?? '';
    const id = `L${(this.command.firstListener + this.index).toString(36)}g${this.generation++}`;
    return new Connection(this.command.target, url, id, this.language, {
      onHandoffAssigned: (ms) => this.handoffMs.push(ms),
      onStateChange: (state) => {
        if (state === 'closed') void this.replace();
      },
    });
  }

  /** The conversation ended (an agent closed it): a new one on a new socket, as a widget would. */
  private async replace(): Promise<void> {
    const old = this.connection;
    await sleep(200);
    if (this.retired.has(old)) return;
    old.close();
    this.retired.add(old);
    mergeInto(this.past, old.settle());
    if (this.stopped || wallNow() > this.startAt + this.command.durationMs - 1000) return;
    const next = this.makeConnection();
    try {
      await next.connect();
      this.connection = next;
    } catch {
      this.past.errors.reconnect = (this.past.errors.reconnect ?? 0) + 1;
    }
  }

  start(startAt: number): void {
    this.startAt = startAt;
    this.intendedAt = startAt + this.firstOffset;
    this.arm();
  }

  private arm(): void {
    const end = this.startAt + this.command.durationMs;
    if (this.stopped || this.intendedAt > end) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.intendedAt - wallNow()));
  }

  private fire(): void {
    const intendedAt = this.intendedAt;
    this.intendedAt += this.command.paceMinMs + this.rng() * (this.command.paceMaxMs - this.command.paceMinMs);
    const connection = this.connection;
    if (connection.ready) {
      const record = (m: SentMessage) => this.replyMs.push((m.repliedAt ?? 0) - m.intendedAt);
      if (this.handoffAt !== null && this.sentCount === this.handoffAt) {
        const text = this.book.person[this.language][Math.floor(this.rng() * this.book.person[this.language].length)] ?? 'a person please';
        connection.send(text, intendedAt, { handoff: true, onReply: record, ...(this.rng() < 0.5 ? { quickReply: 'handoff' } : {}) });
        this.handoffAt = null;
      } else {
        connection.send(this.nextPhrase(), intendedAt, { onReply: record });
      }
      this.sentCount++;
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Everything this listener saw: its finished conversations and the current one. */
  finish(): Accounting {
    const total = emptyAccounting();
    mergeInto(total, this.past);
    if (!this.retired.has(this.connection)) {
      this.retired.add(this.connection);
      mergeInto(total, this.connection.settle());
    }
    return total;
  }
}

function mergeInto(into: Accounting, from: Accounting): void {
  for (const key of Object.keys(into) as (keyof Accounting)[]) {
    if (key === 'errors') for (const [kind, n] of Object.entries(from.errors)) into.errors[kind] = (into.errors[kind] ?? 0) + n;
    else into[key] += from[key];
  }
}

async function runSteady(command: SteadyCommand, book: PhraseBook, state: { steady: SteadyRun | null }, go: Promise<number>): Promise<void> {
  const replyMs: number[] = [];
  const handoffMs: number[] = [];
  const listeners: SteadyListener[] = [];
  const retired = emptyAccounting();
  let next = 0;
  let failures = 0;
  // Open every connection before the chatting window starts.
  async function worker(): Promise<void> {
    while (next < command.listeners) {
      const listener = new SteadyListener(command, next++, book, replyMs, handoffMs);
      try {
        await listener.connection.connect();
        listeners.push(listener);
      } catch {
        failures++;
        retired.errors.connect = (retired.errors.connect ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, command.listeners) }, worker));
  state.steady = { listeners, retired, connectFailures: failures };
  send({ type: 'steady.connected', open: listeners.length, failures });
  const startAt = await go;
  await sleep(startAt - wallNow());
  for (const listener of listeners) listener.start(startAt);
  let peakOpen = 0;
  const end = startAt + command.durationMs;
  while (wallNow() < end) {
    peakOpen = Math.max(peakOpen, listeners.filter((l) => l.connection.open).length);
    await sleep(Math.min(1000, end - wallNow()));
  }
  const openAtEnd = listeners.filter((l) => l.connection.open).length;
  peakOpen = Math.max(peakOpen, openAtEnd);
  for (const listener of listeners) listener.stop();
  // Grace: wait for outstanding acks, events and replies (a handoff's agent may still be typing).
  const graceEnd = wallNow() + command.graceMs;
  while (wallNow() < graceEnd && listeners.some((l) => l.connection.outstanding() > 0)) await sleep(50);
  const accounting = retired;
  for (const listener of listeners) mergeInto(accounting, listener.finish());
  send({ type: 'steady.result', accounting, replyMs, handoffMs, openAtEnd, peakOpen, connectFailures: failures });
}

/* ---------- ramp: open loop at a fixed offered rate ---------- */

interface RampState {
  command: RampOpenCommand;
  slots: (Connection | null)[];
  replacements: number;
  /** Each connection walks its own phrase order across steps, so it never repeats itself. */
  cycles: WeakMap<Connection, () => string>;
}

function rampConnection(command: RampOpenCommand, index: number, generation: number): Connection {
  const globalIndex = command.firstListener + index;
  const url = command.urls[globalIndex % command.urls.length] ?? '';
  return new Connection(command.target, url, `R${globalIndex.toString(36)}g${generation}`, globalIndex % 4 === 3 ? 'es' : 'en');
}

async function openRamp(command: RampOpenCommand): Promise<RampState> {
  const { connections, failures } = await openMany(command.connections, (i) => rampConnection(command, i, 0));
  send({ type: 'ramp.opened', open: connections.length, failures });
  return { command, slots: connections, replacements: 0, cycles: new WeakMap() };
}

/** A ramp conversation that left the bot (the bot handed it off or closed it) is replaced by a new one. */
function replaceSlot(ramp: RampState, index: number): void {
  const old = ramp.slots[index];
  if (!old) return;
  ramp.slots[index] = null;
  old.close();
  const next = rampConnection(ramp.command, index, ++ramp.replacements);
  next.connect().then(
    () => {
      ramp.slots[index] = next;
    },
    () => {},
  );
}

async function runRampStep(ramp: RampState, command: RampStepCommand, book: PhraseBook): Promise<void> {
  const total = Math.max(1, Math.round((command.rate * command.durationMs) / 1000));
  const interval = 1000 / command.rate;
  const rng = createRandom(command.step * 104729 + ramp.command.seed);
  const cycles = ramp.cycles;
  const step: SentMessage[] = [];
  let skipped = 0;
  let cursor = 0;
  let i = 0;
  const pick = (): Connection | null => {
    for (let tries = 0; tries < ramp.slots.length; tries++) {
      const index = cursor++ % ramp.slots.length;
      const connection = ramp.slots[index];
      if (connection?.ready) return connection;
      // Handed off or closed by the bot, or dropped: a new conversation takes the slot.
      if (connection) replaceSlot(ramp, index);
    }
    return null;
  };
  await sleep(command.startAt - wallNow());
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = wallNow();
      while (i < total && command.startAt + i * interval <= now) {
        const intendedAt = command.startAt + i * interval;
        i++;
        const connection = pick();
        if (!connection) {
          skipped++;
          continue;
        }
        let cycle = cycles.get(connection);
        if (!cycle) {
          cycle = phraseCycle(book.chat[connection.language], createRandom(Math.floor(rng() * 2 ** 31)));
          cycles.set(connection, cycle);
        }
        step.push(connection.send(cycle(), intendedAt));
      }
      if (i >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(5, command.startAt + i * interval - wallNow())));
    };
    tick();
  });
  const deadline = command.startAt + command.durationMs + command.graceMs;
  const pending = () => step.some((m) => m.refused === null && !m.cancelled && m.repliedAt === null);
  while (wallNow() < deadline && pending()) await sleep(20);
  let replied = 0;
  let timeouts = 0;
  let errors = 0;
  const latencyMs: number[] = [];
  for (const message of step) {
    if (message.refused !== null) errors++;
    else if (message.repliedAt !== null) {
      replied++;
      latencyMs.push(Math.round((message.repliedAt - message.intendedAt) * 1000) / 1000);
    } else if (!message.cancelled) timeouts++;
  }
  // Forget this step's messages: a late reply to one of them is not counted in the next step.
  for (const connection of ramp.slots) connection?.messages.clear();
  send({ type: 'ramp.step.result', step: command.step, scheduled: total, sent: step.length, replied, timeouts, errors, skipped, latencyMs });
}

/* ---------- IPC ---------- */

function send(report: GeneratorReport): void {
  process.send?.(report);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/load-generator.ts runs as a child of bench/load.ts (IPC)');
  const book = await loadPhrases();
  const state: { steady: SteadyRun | null; ramp: RampState | null } = { steady: null, ramp: null };
  let chain: Promise<void> = Promise.resolve();
  // steady.go is not queued behind the steady command it starts.
  let go: (startAt: number) => void = () => {};
  const fail = (error: unknown) => send({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.on('message', (command: GeneratorCommand) => {
    if (command.type === 'steady.go') {
      go(command.startAt);
      return;
    }
    chain = chain
      .then(async () => {
        switch (command.type) {
          case 'steady':
            await runSteady(command, book, state, new Promise<number>((resolve) => (go = resolve)));
            return;
          case 'steady.close':
            for (const listener of state.steady?.listeners ?? []) listener.connection.close();
            state.steady = null;
            send({ type: 'steady.closed' });
            return;
          case 'ramp.open':
            state.ramp = await openRamp(command);
            return;
          case 'ramp.step':
            if (!state.ramp) throw new Error('ramp.step before ramp.open');
            await runRampStep(state.ramp, command, book);
            return;
          case 'ramp.close':
            for (const connection of state.ramp?.slots ?? []) connection?.close();
            state.ramp = null;
            send({ type: 'ramp.closed' });
            return;
          case 'exit':
            process.exit(0);
        }
      })
      .catch(fail);
  });
  // The orchestrator is gone: never outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  send({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
