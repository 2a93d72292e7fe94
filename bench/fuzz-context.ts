import type { Findings } from './fuzz-findings.js';
import type { Rng } from './fuzz-rng.js';
import type { FuzzServer } from './fuzz-server.js';

export interface Counters {
  framesSent: number;
  httpRequests: number;
  socketIoRequests: number;
}

/** What every fuzz loop shares: where to send, what to count, when to stop. */
export interface FuzzContext {
  server: FuzzServer;
  findings: Findings;
  counters: Counters;
  /** Widget frames this phase may send at most (counted in counters.framesSent). */
  frameLimit: number;
  /** Epoch ms at which this phase's loops stop. */
  phaseEnd: number;
  /** True once the loops must stop (time, budget, or the server went away). */
  stopped(): boolean;
  /** Conversation tokens seen (for resumes on other connections). */
  tokens: string[];
  /** The last inputs sent on any transport, newest last: the suspects when the server dies. */
  recent: RecentInput[];
  /** Inputs already known to kill the server (triaged); not sent again, so the run goes on. */
  blocked: Set<string>;
  /**
   * Error messages the server's own frame parser throws on inputs known to kill the server: the
   * widget fuzz runs parseClientFrame locally and skips any frame that throws one of these.
   */
  blockedParserErrors: Set<string>;
  /** Inputs skipped because of blocked / blockedParserErrors. */
  suppressed: { count: number };
}

/** What a replay needs: a fresh server and a session on it. */
export interface ReplayEnv {
  server: FuzzServer;
  agentCookie: string;
}

export interface RecentInput {
  transport: 'ws' | 'socket.io' | 'http';
  label: string;
  /** What ctx.blocked holds once this input is known to kill the server. */
  key: string;
  /** Sends the same input again, alone, to a fresh server. */
  replay(env: ReplayEnv): Promise<void>;
  /** When it was sent (set by remember). */
  at?: number;
  /** For widget frames: what the server's parser throws on it, run locally. */
  parserError?: () => string | null;
}

const RECENT = 300;

export function remember(ctx: FuzzContext, input: RecentInput): void {
  input.at = Date.now();
  ctx.recent.push(input);
  if (ctx.recent.length > RECENT) ctx.recent.shift();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Whether the server is still up a moment later: a dropped socket seen just before the process
 * exit is reported is the crash's doing, not a finding of its own.
 */
export async function stillAlive(ctx: FuzzContext): Promise<boolean> {
  if (!ctx.server.alive()) return false;
  await sleep(400);
  return ctx.server.alive();
}

/** URL-encodes any string, lone surrogates included (encodeURIComponent throws on those). */
export function encodeAny(text: string): string {
  return encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

/** Runs `worker` on `concurrency` loops, each with its own forked generator, until ctx stops. */
export async function runWorkers(ctx: FuzzContext, rng: Rng, concurrency: number, worker: (rng: Rng, index: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, index) => {
      const own = rng.fork();
      while (!ctx.stopped()) {
        try {
          await worker(own, index);
        } catch (error) {
          if (ctx.stopped()) return;
          // a harness error (connection refused while the server restarts...): back off briefly
          ctx.findings.note(`harness error (retried): ${(error as Error).message ?? String(error)}`.slice(0, 160));
          await sleep(50);
        }
      }
    }),
  );
}
