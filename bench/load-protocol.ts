/**
 * The messages between bench/load.ts (the orchestrator) and its generator processes
 * (bench/load-generator.ts), over the child_process IPC channel. Times are wall-clock
 * milliseconds (`performance.timeOrigin + performance.now()`), comparable across processes.
 */

/** bot: our widget protocol (conversation.start, message.send -> events); echo: the bare echo server. */
export type LoadTarget = 'bot' | 'echo';

export interface SteadyCommand {
  type: 'steady';
  target: LoadTarget;
  /** WebSocket URLs; listener i connects to urls[i % urls.length]. */
  urls: string[];
  listeners: number;
  /** A global index base, so clientIds and seeds stay unique across generators. */
  firstListener: number;
  /** How long the chatting lasts once `steady.go` starts it; connections are opened before. */
  durationMs: number;
  /** Each listener waits a uniformly random pause in [paceMinMs, paceMaxMs] between messages. */
  paceMinMs: number;
  paceMaxMs: number;
  /** Share of listeners (0..1) that ask for a person once during the run. */
  handoffShare: number;
  /** Share of listeners (0..1) that chat in Spanish. */
  spanishShare: number;
  /** After the run: how long to wait for outstanding acks, events and replies. */
  graceMs: number;
  seed: number;
}

export interface RampOpenCommand {
  type: 'ramp.open';
  target: LoadTarget;
  urls: string[];
  connections: number;
  firstListener: number;
  seed: number;
}

export interface RampStepCommand {
  type: 'ramp.step';
  step: number;
  /** This generator's share of the offered rate, messages per second. */
  rate: number;
  startAt: number;
  durationMs: number;
  /** How long after the last intended send a reply may still arrive; later = timed out. */
  graceMs: number;
}

/** Starts the chatting of the listeners a `steady` command opened (all generators at one time). */
export interface SteadyGoCommand {
  type: 'steady.go';
  startAt: number;
}

export type GeneratorCommand = SteadyCommand | SteadyGoCommand | { type: 'steady.close' } | RampOpenCommand | RampStepCommand | { type: 'ramp.close' } | { type: 'exit' };

/** End-to-end accounting of one generator's listeners (see bench/load-generator.ts for the rules). */
export interface Accounting {
  sent: number;
  acked: number;
  /** Error frames, socket errors and unexpected closes, by kind. */
  errors: Record<string, number>;
  /** Acknowledged messages whose message.new never arrived, plus sent messages never acknowledged. */
  lostMessages: number;
  unacked: number;
  /** Acknowledged messages that came back more than once. */
  duplicatedMessages: number;
  /** Event sequence numbers skipped / delivered more than once. */
  seqGaps: number;
  seqDuplicates: number;
  /** An ack whose seq is not the seq of that message's event. */
  ackMismatches: number;
  /** Messages stored while the bot had the conversation that got no bot reply in time. */
  replyTimeouts: number;
  handoffsRequested: number;
  handoffsAssigned: number;
  /** Hand-offs the listener did not ask for (the bot chose to: frustration, policy, not understood). */
  unplannedHandoffs: number;
  agentMessages: number;
  conversationsStarted: number;
  conversationsClosed: number;
}

export interface SteadyResult {
  type: 'steady.result';
  accounting: Accounting;
  /** Reply latencies (ms, from each message's intended send time to the bot's first reply). */
  replyMs: number[];
  /** From the intended send of "a person, please" to conversation.state -> assigned. */
  handoffMs: number[];
  /** Connections open at the end of the chatting window, and the most open at once. */
  openAtEnd: number;
  peakOpen: number;
  connectFailures: number;
}

export interface RampStepResult {
  type: 'ramp.step.result';
  step: number;
  scheduled: number;
  sent: number;
  replied: number;
  timeouts: number;
  errors: number;
  /** Intended send slots that found no ready connection (a conversation being replaced). */
  skipped: number;
  latencyMs: number[];
}

export type GeneratorReport =
  | { type: 'ready' }
  | { type: 'steady.connected'; open: number; failures: number }
  | SteadyResult
  | { type: 'steady.closed' }
  | { type: 'ramp.opened'; open: number; failures: number }
  | RampStepResult
  | { type: 'ramp.closed' }
  | { type: 'fatal'; message: string };

export function emptyAccounting(): Accounting {
  return {
    sent: 0,
    acked: 0,
    errors: {},
    lostMessages: 0,
    unacked: 0,
    duplicatedMessages: 0,
    seqGaps: 0,
    seqDuplicates: 0,
    ackMismatches: 0,
    replyTimeouts: 0,
    handoffsRequested: 0,
    handoffsAssigned: 0,
    unplannedHandoffs: 0,
    agentMessages: 0,
    conversationsStarted: 0,
    conversationsClosed: 0,
  };
}

export function addAccounting(into: Accounting, from: Accounting): Accounting {
  for (const key of Object.keys(into) as (keyof Accounting)[]) {
    if (key === 'errors') {
      for (const [kind, count] of Object.entries(from.errors)) into.errors[kind] = (into.errors[kind] ?? 0) + count;
    } else {
      into[key] += from[key];
    }
  }
  return into;
}

export const wallNow = (): number => performance.timeOrigin + performance.now();
