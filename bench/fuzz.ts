/**
 * npm run fuzz -- [--seed N] [--frames N] [--seconds S] [--json] [--no-record]
 *
 * Fuzzes the built server (dist/server/main.js, run as `node --unhandled-rejections=strict`,
 * NODE_ENV=test, embedded store) from a seeded PRNG:
 *   1. parser phase (high WIDGET_MESSAGES_PER_SECOND so frames reach the parser): the widget
 *      protocol on many connections, the agent console (socket.io /agents) and HTTP, at once;
 *   2. limiter phase (default limits): bursts and floods against the rate limiter.
 * The server's RSS is sampled every second. At the end the server must answer /healthz, hold a
 * normal conversation and still be running. When the server dies, the suspects (the last inputs
 * sent) are replayed one at a time on a fresh server to find the one that kills it, that input
 * is blocked, and the run goes on with a new server.
 *
 * Prints one JSON line and records the run in docs/benchmarks.md (not with --no-record).
 * Exit code: 0 when there is no finding, 1 when there are findings, 2 when the fuzzer itself
 * failed (the server would not start, or the hard deadline was hit).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword } from '../server/domain/agent-accounts.js';
import { writeAccountsFile } from '../server/store/accounts-file.js';
import { runAgentPhase } from './fuzz-agents.js';
import { sleep, type Counters, type FuzzContext, type RecentInput } from './fuzz-context.js';
import { clip, Findings } from './fuzz-findings.js';
import { runHttpPhase } from './fuzz-http.js';
import { createRng, type Rng } from './fuzz-rng.js';
import { startFuzzServer, type FuzzServer, type ServerExit } from './fuzz-server.js';
import { normalConversation, runLimiterPhase, runParserPhase } from './fuzz-widget.js';
import { recordBenchmark } from './record.js';
import { round } from './stats.js';

interface Options {
  seed: number;
  frames: number;
  seconds: number;
  json: boolean;
  record: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { seed: Math.floor(Date.now() % 2 ** 31), frames: 300_000, seconds: 60, json: false, record: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${arg} needs a non-negative number`);
      return v;
    };
    if (arg === '--seed') options.seed = Math.floor(value());
    else if (arg === '--frames') options.frames = Math.floor(value());
    else if (arg === '--seconds') options.seconds = value();
    else if (arg === '--json') options.json = true;
    else if (arg === '--no-record') options.record = false;
    else throw new Error(`unknown argument ${arg}; usage: fuzz [--seed N] [--frames N] [--seconds S] [--json] [--no-record]`);
  }
  if (options.seconds < 3) options.seconds = 3;
  return options;
}

const AGENT = { email: 'fuzz-agent@example.com', password: 'fuzz agent password' };
const ANALYST = { email: 'fuzz-analyst@example.com', password: 'fuzz analyst password' };
const MAX_CRASHES = 8;
const MAX_TRIAGES = 4;
/** RSS above this (MB) is a finding whatever the trend. */
const RSS_CEILING_MB = 1024;

async function signIn(server: FuzzServer, account: { email: string; password: string }): Promise<string> {
  const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });
  if (!response.ok) throw new Error(`sign-in of ${account.email} failed: HTTP ${response.status}`);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

/** The error line of a crash and the first frames of its stack. */
function crashSummary(exit: ServerExit): string {
  const lines = exit.stderrTail.split('\n').map((l) => l.trimEnd());
  const index = lines.findIndex((l) => /^(\w*Error|Uncaught|\[UnhandledPromiseRejection)/.test(l.trim()) || /Error:/.test(l));
  const picked = index >= 0 ? lines.slice(index, index + 7) : lines.slice(-8);
  return `exit ${exit.code ?? exit.signal}: ${picked.join(' | ').replace(/\s+/g, ' ')}`;
}

/** Memory: a steady climb is a finding (each quarter of the run above the one before, by a lot). */
function judgeMemory(findings: Findings, rss: number[]): void {
  if (rss.length < 8) return;
  const q = Math.floor(rss.length / 4);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const quarters = [0, 1, 2, 3].map((i) => median(rss.slice(i * q, i === 3 ? rss.length : (i + 1) * q)));
  const max = Math.max(...rss);
  const climbing = quarters.every((m, i) => i === 0 || m > (quarters[i - 1] ?? 0) + 5);
  const growth = (quarters[3] ?? 0) - (quarters[0] ?? 0);
  const series = `RSS quarter medians ${quarters.map((m) => round(m, 0)).join(' → ')} MB over ${rss.length} s; max ${round(max, 0)} MB`;
  if (climbing && growth > 40) findings.add('memory', `RSS climbs steadily under fuzz (+${round(growth, 0)} MB)`, `the parser phase of this run; ${series}`);
  if (max > RSS_CEILING_MB) findings.add('memory', `RSS reached ${round(max, 0)} MB (ceiling ${RSS_CEILING_MB} MB)`, series);
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const log = (message: string) => {
    if (!options.json) process.stderr.write(`[fuzz] ${message}\n`);
  };
  const started = Date.now();
  const rng = createRng(options.seed);
  const findings = new Findings();
  const counters: Counters = { framesSent: 0, httpRequests: 0, socketIoRequests: 0 };
  const servers = new Set<FuzzServer>();
  let crashes = 0;
  let unhandledRejections = 0;
  let triages = 0;
  /** Crash signatures already triaged: a repeat only restarts the server. */
  const triaged = new Set<string>();
  const suppressed = { count: 0 };
  const rssPhaseA: number[] = [];
  let rssStart: number | null = null;
  let rssEnd: number | null = null;
  const phaseRss: Record<string, { startMb: number | null; maxMb: number | null; endMb: number | null }> = {};

  // The hard deadline: whatever happens, the children die and the fuzzer exits.
  const hardDeadline = setTimeout(() => {
    for (const server of servers) server.kill();
    process.stdout.write(`${JSON.stringify({ seed: options.seed, error: 'hard deadline hit', framesSent: counters.framesSent, findings: findings.count, list: findings.list() })}\n`);
    process.exit(2);
  }, options.seconds * 1000 + 120_000);

  const dir = await mkdtemp(path.join(tmpdir(), 'fuzz-'));
  const accountsFile = path.join(dir, 'accounts.json');
  const now = new Date().toISOString();
  await writeAccountsFile(accountsFile, [
    { id: 'agt_fuzzagent01', email: AGENT.email, displayName: 'Fuzz Agent', role: 'agent', languages: ['en', 'es'], capacity: 20, passwordHash: await hashPassword(AGENT.password), createdAt: now },
    { id: 'agt_fuzzanalyst1', email: ANALYST.email, displayName: 'Fuzz Analyst', role: 'analyst', languages: ['en'], capacity: 1, passwordHash: await hashPassword(ANALYST.password), createdAt: now },
  ]);

  // All fuzz traffic comes from one address: the per-address limits (tested on their own in
  // test/security.test.ts) are raised so the frames reach the parser and the frame limiter.
  const perAddress = { WIDGET_NEW_CONVERSATIONS_PER_MINUTE: '100000', WIDGET_CONNECTIONS_PER_ADDRESS: '100000', HTTP_RATE_LIMIT_PER_MINUTE: '100000', SIGNIN_RATE_LIMIT_PER_MINUTE: '100000' };
  const parserEnv = { ACCOUNTS_FILE: accountsFile, WIDGET_MESSAGES_PER_SECOND: '1000', WIDGET_MESSAGE_BURST: '1000', WIDGET_FLOOD_LIMIT: '10000', ...perAddress };
  const limiterEnv = { ACCOUNTS_FILE: accountsFile, ...perAddress };
  const limiterLimits = { messagesPerSecond: 5, burst: 10, floodLimit: 30 };

  async function boot(env: Record<string, string>): Promise<FuzzServer> {
    const server = await startFuzzServer(env);
    servers.add(server);
    server.onErrorLog = (entry) => findings.add('server-error-log', `${entry.msg} (${entry.err})`, `see the inputs of this run; log line: ${clip(entry.line, 600)}`, `log|${entry.msg}|${entry.err.slice(0, 80)}`);
    return server;
  }

  /**
   * Finds the input that kills the server: the suspects sent before the exit, newest first, are
   * replayed in batches of 10 on a fresh server; the batch that kills it is replayed one input at
   * a time on another fresh server.
   */
  async function triage(env: Record<string, string>, suspects: RecentInput[], exitAt: number): Promise<{ input: RecentInput; summary: string } | null> {
    const seen = new Set<string>();
    const distinct = suspects
      .filter((s) => (s.at ?? 0) <= exitAt)
      .reverse()
      .filter((s) => !seen.has(s.key) && seen.add(s.key))
      .slice(0, 120);
    const until = Date.now() + 30_000;
    const fresh = async () => {
      const server = await boot(env);
      return { server, agentCookie: await signIn(server, AGENT) };
    };
    let replayEnv = await fresh();
    try {
      for (let i = 0; i < distinct.length && Date.now() < until; i += 10) {
        const batch = distinct.slice(i, i + 10);
        const env0 = replayEnv;
        await Promise.all(batch.map((s) => s.replay(env0).catch(() => {})));
        await sleep(250);
        if (replayEnv.server.alive()) continue;
        replayEnv = await fresh();
        for (const suspect of batch) {
          await suspect.replay(replayEnv).catch(() => {});
          await sleep(150);
          if (!replayEnv.server.alive()) {
            await sleep(50);
            return { input: suspect, summary: replayEnv.server.exit ? crashSummary(replayEnv.server.exit) : '' };
          }
        }
        return { input: { transport: batch[0]?.transport ?? 'ws', key: `batch|${batch[0]?.key ?? ''}`, label: `these inputs together (none alone): ${batch.map((b) => clip(b.label, 120)).join('  ||  ')}` , replay: async () => {} }, summary: '' };
      }
      return null;
    } finally {
      replayEnv.server.kill();
    }
  }

  /** Runs one phase until its end, restarting the server after each crash. */
  async function phase(name: string, env: Record<string, string>, seconds: number, frameLimit: number, run: (ctx: FuzzContext, rng: Rng, cookies: { agent: string; analyst: string }) => Promise<void>, rssSink: number[]): Promise<FuzzServer> {
    const phaseRng = rng.fork();
    const tokens: string[] = [];
    const blocked = new Set<string>();
    const blockedParserErrors = new Set<string>();
    let server = await boot(env);
    let end = Date.now() + seconds * 1000;
    for (;;) {
      const cookies = { agent: await signIn(server, AGENT), analyst: await signIn(server, ANALYST) };
      const startFrames = counters.framesSent;
      const ctx: FuzzContext = {
        server,
        findings,
        counters,
        frameLimit,
        phaseEnd: end,
        stopped: () => Date.now() > end || counters.framesSent - startFrames >= frameLimit || !server.alive(),
        tokens,
        recent: [],
        blocked,
        blockedParserErrors,
        suppressed,
      };
      log(`${name}: fuzzing server pid ${server.pid} for ${round((end - Date.now()) / 1000, 1)} s`);
      await run(ctx, phaseRng, cookies);
      frameLimit -= counters.framesSent - startFrames;
      if (server.alive()) {
        rssSink.push(...server.rss);
        return server;
      }
      // the server died under fuzz
      await sleep(100);
      rssSink.push(...server.rss);
      const exit = server.exit ?? { code: null, signal: null, stderrTail: '', unhandledRejection: false };
      crashes++;
      if (exit.unhandledRejection) unhandledRejections++;
      const kind = exit.unhandledRejection ? 'unhandled-rejection' : 'crash';
      const summary = crashSummary(exit);
      log(`${name}: the server died (${summary.slice(0, 160)})`);
      const pausedAt = Date.now();
      let found: Awaited<ReturnType<typeof triage>> = null;
      const signature = `${kind}|${summary.slice(0, 120)}`;
      if (triages < MAX_TRIAGES && !triaged.has(signature)) {
        triaged.add(signature);
        triages++;
        found = await triage(env, ctx.recent, server.exitAt ?? Date.now()).catch(() => null);
      }
      if (found) {
        blocked.add(found.input.key);
        const parserError = found.input.parserError?.() ?? null;
        if (parserError) blockedParserErrors.add(parserError);
        findings.add(kind, summary, `${found.input.transport}: ${found.input.label}  (alone, on a fresh server, it kills the server: ${found.summary.slice(0, 300)})`, `${kind}|${summary.slice(0, 120)}`);
      } else {
        findings.add(kind, summary, `${triaged.has(signature) ? '(same crash as an earlier, triaged one) ' : ''}one of the last inputs (not isolated): ${ctx.recent.slice(-5).map((r) => `${r.transport}: ${clip(r.label, 200)}`).join('  ||  ')}`, `${kind}|${summary.slice(0, 120)}`);
      }
      server = await boot(env);
      end += Date.now() - pausedAt; // the triage and the restart do not eat the fuzz time
      log(`${name}: ${found ? 'triage isolated the input' : triaged.has(signature) ? 'a known crash again; restarted' : 'triage did not isolate an input'} in ${round((Date.now() - pausedAt) / 1000, 1)} s`);
      if (crashes >= MAX_CRASHES || Date.now() > end) {
        rssSink.push(...server.rss);
        return server;
      }
    }
  }

  let exitCode = 0;
  try {
    const seconds = options.seconds;
    /* 1. the parser phase: widget + agents + HTTP at once */
    const parserSeconds = Math.max(2, seconds * 0.7);
    const a = await phase(
      'parser',
      parserEnv,
      parserSeconds,
      Math.floor(options.frames * 0.9),
      async (ctx, phaseRng, cookies) => {
        await Promise.all([runParserPhase(ctx, phaseRng.fork(), 10), runAgentPhase(ctx, phaseRng.fork(), cookies), runHttpPhase(ctx, phaseRng.fork(), cookies.agent, 2)]);
      },
      rssPhaseA,
    );
    const sampledDuringPhase = a.rss.length;
    rssStart = rssPhaseA[0] ?? null;
    await finalChecks('parser', a);
    await sleep(1200);
    rssPhaseA.push(...a.rss.slice(sampledDuringPhase));
    rssEnd = a.rss.at(-1) ?? null;
    phaseRss.parser = { startMb: rssStart, maxMb: rssPhaseA.length ? Math.max(...rssPhaseA) : null, endMb: rssEnd };
    const drained = await a.stop();
    if (drained !== 0) findings.add('final-check', `the parser-phase server did not drain cleanly on SIGTERM (exit ${drained})`, 'SIGTERM after the fuzz');

    /* 2. the limiter phase: default limits */
    const limiterSeconds = Math.max(2, seconds * 0.2);
    const rssB: number[] = [];
    const b = await phase(
      'limiter',
      limiterEnv,
      limiterSeconds,
      Math.floor(options.frames * 0.1),
      async (ctx, phaseRng) => runLimiterPhase(ctx, phaseRng.fork(), 6, limiterLimits),
      rssB,
    );
    await finalChecks('limiter', b);
    phaseRss.limiter = { startMb: rssB[0] ?? null, maxMb: rssB.length ? Math.max(...rssB) : null, endMb: b.rss.at(-1) ?? null };
    const drainedB = await b.stop();
    if (drainedB !== 0) findings.add('final-check', `the limiter-phase server did not drain cleanly on SIGTERM (exit ${drainedB})`, 'SIGTERM after the fuzz');

    judgeMemory(findings, rssPhaseA);
  } catch (error) {
    findings.note(`fuzzer failure: ${(error as Error).stack ?? String(error)}`.slice(0, 500));
    exitCode = 2;
  } finally {
    for (const server of servers) server.kill();
    await rm(dir, { recursive: true, force: true });
  }

  async function finalChecks(name: string, server: FuzzServer): Promise<void> {
    if (!server.alive()) {
      findings.add('final-check', `${name}: the server process is not running at the end`, 'the whole run');
      return;
    }
    try {
      const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
      const body = (await health.json()) as { status?: string };
      if (!health.ok || body.status !== 'ok') findings.add('final-check', `${name}: /healthz answered ${health.status} ${JSON.stringify(body)}`, 'GET /healthz after the fuzz');
    } catch (error) {
      findings.add('final-check', `${name}: /healthz failed: ${(error as Error).message}`, 'GET /healthz after the fuzz');
    }
    const conversation = await normalConversation(server.wsUrl);
    log(`${name}: final conversation: ${conversation.detail}`);
    if (!conversation.ok) findings.add('final-check', `${name}: a normal conversation failed: ${conversation.detail}`, 'start, send "I was charged twice", wait for the bot');
    if (!server.alive()) findings.add('final-check', `${name}: the server exited during the final checks`, 'the final checks');
  }

  clearTimeout(hardDeadline);
  const durationS = round((Date.now() - started) / 1000, 1);
  const maxMb = rssPhaseA.length ? Math.max(...rssPhaseA) : null;
  const result = {
    seed: options.seed,
    framesSent: counters.framesSent,
    httpRequests: counters.httpRequests,
    socketIoRequests: counters.socketIoRequests,
    findings: findings.count,
    list: findings.list().map((f) => ({ kind: f.kind, detail: f.detail, reproducer: f.reproducer, count: f.count })),
    crashes,
    unhandledRejections,
    serverRssStartMb: rssStart === null ? null : round(rssStart, 1),
    serverRssMaxMb: maxMb === null ? null : round(maxMb, 1),
    serverRssEndMb: rssEnd === null ? null : round(rssEnd, 1),
    durationS,
    phases: phaseRss,
    /** The parser phase's RSS, one sample every 5 s (MB). */
    rssSeriesMb: rssPhaseA.filter((_, i) => i % 5 === 0).map((mb) => round(mb, 0)),
    suppressedKnownKillers: suppressed.count,
    notes: [...findings.notes.entries()].map(([text, count]) => ({ text, count })),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (options.record && exitCode !== 2) await recordBenchmark('fuzz', 'npm run fuzz', markdown(result, options));
  if (exitCode === 2) return 2;
  return findings.count > 0 ? 1 : 0;
}

function markdown(result: { seed: number; framesSent: number; httpRequests: number; socketIoRequests: number; findings: number; list: { kind: string; detail: string; reproducer: string; count: number }[]; crashes: number; unhandledRejections: number; serverRssStartMb: number | null; serverRssMaxMb: number | null; serverRssEndMb: number | null; durationS: number; notes: { text: string; count: number }[] }, options: Options): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = [
    ['seed', String(result.seed)],
    ['budget', `${options.seconds} s, ${options.frames} frames`],
    ['widget frames sent', String(result.framesSent)],
    ['HTTP requests', String(result.httpRequests)],
    ['socket.io requests', String(result.socketIoRequests)],
    ['crashes (of which unhandled rejections)', `${result.crashes} (${result.unhandledRejections})`],
    ['findings (distinct)', String(result.findings)],
    ['server RSS start / max / end (parser phase)', `${result.serverRssStartMb} / ${result.serverRssMaxMb} / ${result.serverRssEndMb} MB`],
    ['duration', `${result.durationS} s`],
  ];
  const lines = ['| figure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
  lines.push('', `Replay this run with \`npm run fuzz -- --seed ${result.seed} --seconds ${options.seconds} --frames ${options.frames}\` (same inputs; timing differs).`, '');
  if (result.list.length === 0) lines.push('No findings.');
  else {
    lines.push('| kind | count | finding | reproducer |', '| --- | --- | --- | --- |');
    for (const f of result.list) lines.push(`| ${f.kind} | ${f.count} | ${cell(clip(f.detail, 200))} | ${cell(clip(f.reproducer, 300))} |`);
  }
  if (result.notes.length > 0) {
    lines.push('', 'Notes (expected behaviour, not findings):', '');
    for (const n of result.notes.slice(0, 10)) lines.push(`- ${cell(clip(n.text, 200))} (×${n.count})`);
  }
  return lines.join('\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
