/**
 * npm run bench:load -- --listeners N --duration S --json
 *
 * Many concurrent listeners against the real server, all on loopback:
 * 1. Steady: N listener connections (spread over several generator processes, each under the
 *    per-process open-file limit) speak the widget protocol at a human pace (one message every
 *    5-15 s, catalogue phrases in English and Spanish); a few percent ask for a person and
 *    simulated agents (socket.io /agents) answer and close those chats. Counted end to end:
 *    reply and handoff latency, lost and duplicated messages and events, errors; CPU and peak RSS
 *    of the server process(es) from /proc.
 * 2. Ramp (open loop): a fixed pool of connections gets messages at fixed intended times, the
 *    offered rate rising in steps; latency runs from each intended time, so queueing counts.
 *    The highest rate whose bot-reply p99 stays ≤ 50 ms (with no timeouts and no errors) wins.
 * 3. The same steady pace and the same ramp, same generators, against a bare WebSocket echo
 *    server (bench/echo-server.ts) for the ratios.
 * The server, the echo server, redis-server and the generators are separate processes.
 *
 * Bounded: every phase has a budget, and a hard deadline (S + 300 s with the ramp, S + 90 s
 * without) kills every child process and exits. Prints one JSON line on stdout; progress goes
 * to stderr. Records a row in docs/benchmarks.md (section `load`) unless --no-record or --no-ramp.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createRedisAgentAccounts, startAgents, writeAgentAccountsFile, type AgentLogin, type AgentPool } from './load-agents.js';
import { measureProcesses } from './load-proc.js';
import {
  addAccounting,
  emptyAccounting,
  wallNow,
  type Accounting,
  type GeneratorCommand,
  type GeneratorReport,
  type LoadTarget,
  type RampStepResult,
  type SteadyResult,
} from './load-protocol.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { recordBenchmark } from './record.js';
import { freePort, startServerProcess, whenReady, type ServerProcess } from './server-process.js';
import { percentile, round } from './stats.js';

/* ---------- options ---------- */

export interface LoadOptions {
  listeners: number;
  durationS: number;
  json: boolean;
  redis: boolean;
  nodes: number;
  agents: number;
  handoffPct: number;
  spanishPct: number;
  paceMinS: number;
  paceMaxS: number;
  perGenerator: number;
  ramp: boolean;
  rampConnections: number;
  rampGenerators: number;
  rampStepMs: number;
  rampStartRate: number;
  rampFactor: number;
  echoSteadyS: number;
  record: boolean;
  seed: number;
  /** When set, every server process writes a V8 CPU profile (.cpuprofile) here when it stops. */
  cpuProfDir: string | null;
}

const USAGE = `usage: node dist/bench/load.js [options]
  --listeners N          concurrent listener connections in the steady run (default 1000)
  --duration S           steady chatting window in seconds (default 30)
  --json                 print only the JSON line on stdout (progress always goes to stderr)
  --redis                a private redis-server as the store (default: the embedded store)
  --nodes K              K server processes sharing that Redis (needs --redis; default 1)
  --agents A             simulated agents (default 10, capacity 20 each)
  --handoff-pct P        percent of listeners that ask for a person once (default 3)
  --spanish-pct P        percent of listeners chatting in Spanish (default 30)
  --pace-min S / --pace-max S   pause between one listener's messages (default 5 / 15)
  --per-generator M      listeners per generator process (default 5000; open-file limit 20,000)
  --no-ramp              steady run only (no ramp, no echo comparison, nothing recorded)
  --ramp-steps 0         same as --no-ramp
  --ramp-connections K   connections the ramp spreads its rate over (default 1000)
  --ramp-generators G    generator processes that drive the ramp (default 2)
  --ramp-step-ms MS      length of one ramp step (default 3000)
  --echo-steady S        length of the echo server's steady window (default min(duration, 15))
  --no-record            do not write docs/benchmarks.md
  --seed X               seed of every random choice (default 1)
  --cpu-prof DIR         run each server process with node --cpu-prof, profiles written to DIR on stop
                         (profiling slows the server: do not compare its figures with plain runs)`;

export function parseLoadArgs(argv: readonly string[]): LoadOptions {
  const options: LoadOptions = {
    listeners: 1000,
    durationS: 30,
    json: false,
    redis: false,
    nodes: 1,
    agents: 10,
    handoffPct: 3,
    spanishPct: 30,
    paceMinS: 5,
    paceMaxS: 15,
    perGenerator: 5000,
    ramp: true,
    rampConnections: 1000,
    rampGenerators: 2,
    rampStepMs: 3000,
    rampStartRate: 100,
    rampFactor: 1.5,
    echoSteadyS: Number.NaN,
    record: true,
    seed: 1,
    cpuProfDir: null,
  };
  const numbers: Record<string, keyof LoadOptions> = {
    '--listeners': 'listeners',
    '--duration': 'durationS',
    '--nodes': 'nodes',
    '--agents': 'agents',
    '--handoff-pct': 'handoffPct',
    '--spanish-pct': 'spanishPct',
    '--pace-min': 'paceMinS',
    '--pace-max': 'paceMaxS',
    '--per-generator': 'perGenerator',
    '--ramp-connections': 'rampConnections',
    '--ramp-generators': 'rampGenerators',
    '--ramp-step-ms': 'rampStepMs',
    '--echo-steady': 'echoSteadyS',
    '--seed': 'seed',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const key = numbers[arg];
    if (key) {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value < 0) throw new Error(`${arg} needs a number ≥ 0\n${USAGE}`);
      (options as unknown as Record<string, number>)[key] = value;
      continue;
    }
    switch (arg) {
      case '--json':
        options.json = true;
        break;
      case '--redis':
        options.redis = true;
        break;
      case '--no-ramp':
        options.ramp = false;
        break;
      case '--ramp-steps': {
        const value = Number(argv[++i]);
        if (value !== 0) throw new Error('--ramp-steps takes only 0 (no ramp); the ramp otherwise runs until p99 passes 50 ms or its budget');
        options.ramp = false;
        break;
      }
      case '--no-record':
        options.record = false;
        break;
      case '--cpu-prof': {
        const dir = argv[++i];
        if (!dir || dir.startsWith('--')) throw new Error(`--cpu-prof needs a directory\n${USAGE}`);
        options.cpuProfDir = path.resolve(dir);
        // A profiled server is slower: its figures must not land in docs/benchmarks.md.
        options.record = false;
        break;
      }
      case '--help':
        console.error(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (options.listeners < 1 || options.durationS < 1) throw new Error('--listeners and --duration must be at least 1');
  if (options.durationS > 600) throw new Error('--duration is at most 600 s');
  if (options.nodes > 1 && !options.redis) throw new Error('--nodes above 1 needs --redis (the nodes share it)');
  if (options.paceMaxS < options.paceMinS) throw new Error('--pace-max must not be below --pace-min');
  if (!Number.isFinite(options.echoSteadyS)) options.echoSteadyS = Math.min(options.durationS, 15);
  if (!options.ramp) options.record = false;
  options.nodes = Math.max(1, Math.floor(options.nodes));
  options.rampGenerators = Math.max(1, Math.floor(options.rampGenerators));
  options.perGenerator = Math.max(1, Math.min(15_000, Math.floor(options.perGenerator)));
  return options;
}

/* ---------- budgets ---------- */

/** What the run may take beyond --duration, in seconds; the hard deadline. */
export const FIXED_BUDGET_S = { withRamp: 300, withoutRamp: 90 } as const;
/** Each ramp (ours, echo) stops stepping once it has run this long. */
const RAMP_BUDGET_MS = 80_000;
const STEADY_GRACE_MS = 5000;
const RAMP_GRACE_MS = 2000;
const P99_GOAL_MS = 50;
const RATE_LIMIT = { messagesPerSecond: 1000, burst: 1000 };
/** The per-address limits are raised to their maximum: all generated traffic shares one address. */
const PER_ADDRESS_LIMIT = 100_000;

/* ---------- child processes ---------- */

const here = path.dirname(fileURLToPath(import.meta.url));
const children = new Set<ChildProcess>();

function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
}

const log = (message: string) => process.stderr.write(`[bench:load] ${message}\n`);

class Generator {
  private waiters: { match: (r: GeneratorReport) => boolean; resolve: (r: GeneratorReport) => void }[] = [];
  private constructor(readonly child: ChildProcess) {
    child.on('message', (report: GeneratorReport) => {
      if (report.type === 'fatal') {
        log(`generator ${child.pid} failed: ${report.message}`);
        return;
      }
      const index = this.waiters.findIndex((w) => w.match(report));
      if (index >= 0) this.waiters.splice(index, 1)[0]?.resolve(report);
    });
  }

  static async start(): Promise<Generator> {
    const child = fork(path.join(here, 'load-generator.js'), [], { stdio: ['ignore', 2, 2, 'ipc'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const generator = new Generator(child);
    await generator.next('ready', 30_000);
    return generator;
  }

  command(command: GeneratorCommand): void {
    this.child.send(command);
  }

  next<T extends GeneratorReport['type']>(type: T, timeoutMs: number): Promise<Extract<GeneratorReport, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`generator ${this.child.pid}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match: (r) => r.type === type,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as Extract<GeneratorReport, { type: T }>);
        },
      });
    });
  }

  stop(): void {
    if (this.child.connected) this.command({ type: 'exit' });
  }
}

async function startEchoServer(): Promise<ServerProcess> {
  const port = await freePort();
  const child = fork(path.join(here, 'echo-server.js'), [], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 2, 2, 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return whenReady(child, port, 'echo server', 15_000);
}

/* ---------- phases ---------- */

type SteadyOutcome = Omit<SteadyResult, 'type'> & { seconds: number };

/** Splits `total` into `parts` near-equal whole shares. */
function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

async function runSteady(generators: Generator[], target: LoadTarget, urls: string[], options: LoadOptions, durationS: number, onWindow?: (phase: 'start' | 'end') => void): Promise<SteadyOutcome> {
  const perGenerator = shares(options.listeners, generators.length);
  let first = 0;
  generators.forEach((generator, i) => {
    const listeners = perGenerator[i] ?? 0;
    generator.command({
      type: 'steady',
      target,
      urls,
      listeners,
      firstListener: first,
      durationMs: durationS * 1000,
      paceMinMs: options.paceMinS * 1000,
      paceMaxMs: options.paceMaxS * 1000,
      handoffShare: target === 'bot' ? options.handoffPct / 100 : 0,
      spanishShare: options.spanishPct / 100,
      graceMs: STEADY_GRACE_MS,
      seed: options.seed,
    });
    first += listeners;
  });
  const connectTimeout = 30_000 + options.listeners * 10;
  const connected = await Promise.all(generators.map((g) => g.next('steady.connected', connectTimeout)));
  log(`${target}: ${connected.reduce((n, c) => n + c.open, 0)} listeners connected (${connected.reduce((n, c) => n + c.failures, 0)} failed); chatting for ${durationS} s`);
  const startAt = wallNow() + 500;
  const results = generators.map((g) => g.next('steady.result', durationS * 1000 + STEADY_GRACE_MS + 30_000));
  for (const generator of generators) generator.command({ type: 'steady.go', startAt });
  await sleep(Math.max(0, startAt - wallNow()));
  onWindow?.('start');
  await sleep(durationS * 1000);
  onWindow?.('end');
  const reports: SteadyResult[] = await Promise.all(results);
  for (const generator of generators) generator.command({ type: 'steady.close' });
  await Promise.all(generators.map((g) => g.next('steady.closed', 30_000)));
  const accounting = emptyAccounting();
  for (const report of reports) addAccounting(accounting, report.accounting);
  return {
    accounting,
    replyMs: reports.flatMap((r) => r.replyMs),
    handoffMs: reports.flatMap((r) => r.handoffMs),
    openAtEnd: reports.reduce((n, r) => n + r.openAtEnd, 0),
    peakOpen: reports.reduce((n, r) => n + r.peakOpen, 0),
    connectFailures: reports.reduce((n, r) => n + r.connectFailures, 0),
    seconds: durationS,
  };
}

export interface RampStep {
  rate: number;
  sent: number;
  p50Ms: number | null;
  p99Ms: number | null;
  timeouts: number;
  errors: number;
  skipped: number;
  pass: boolean;
  /** A second try of a rate whose first try failed. */
  retry?: boolean;
}

interface RampOutcome {
  maxRate: number | null;
  steps: RampStep[];
  connections: number;
  /** Why the ramp stopped: a failing step (then one refinement), or its time budget. */
  stoppedBy: 'p99' | 'budget';
}

async function rampStep(generators: Generator[], rate: number, step: number, stepMs: number): Promise<RampStep> {
  const rates = generators.map(() => rate / generators.length);
  const startAt = wallNow() + 300;
  const results = generators.map((g) => g.next('ramp.step.result', stepMs + RAMP_GRACE_MS + 30_000));
  generators.forEach((generator, i) => generator.command({ type: 'ramp.step', step, rate: rates[i] ?? 0, startAt, durationMs: stepMs, graceMs: RAMP_GRACE_MS }));
  const reports: RampStepResult[] = await Promise.all(results);
  const latencies = reports.flatMap((r) => r.latencyMs);
  const sent = reports.reduce((n, r) => n + r.sent, 0);
  const scheduled = reports.reduce((n, r) => n + r.scheduled, 0);
  const timeouts = reports.reduce((n, r) => n + r.timeouts, 0);
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const skipped = reports.reduce((n, r) => n + r.skipped, 0);
  // Unanswered messages count as infinitely late in the percentiles.
  const all = latencies.concat(Array.from({ length: timeouts }, () => Number.POSITIVE_INFINITY));
  const p99 = all.length > 0 ? percentile(all, 99) : null;
  const pass = p99 !== null && p99 <= P99_GOAL_MS && timeouts === 0 && errors === 0 && skipped <= scheduled * 0.01;
  return {
    rate: round(rate, 0),
    sent,
    p50Ms: all.length > 0 && Number.isFinite(percentile(all, 50)) ? round(percentile(all, 50), 2) : null,
    p99Ms: p99 !== null && Number.isFinite(p99) ? round(p99, 2) : null,
    timeouts,
    errors,
    skipped,
    pass,
  };
}

async function runRamp(generators: Generator[], target: LoadTarget, urls: string[], options: LoadOptions): Promise<RampOutcome> {
  const perGenerator = shares(options.rampConnections, generators.length);
  let first = 0;
  generators.forEach((generator, i) => {
    generator.command({ type: 'ramp.open', target, urls, connections: perGenerator[i] ?? 0, firstListener: first, seed: options.seed });
    first += perGenerator[i] ?? 0;
  });
  const opened = await Promise.all(generators.map((g) => g.next('ramp.opened', 60_000)));
  const connections = opened.reduce((n, o) => n + o.open, 0);
  log(`${target} ramp: ${connections} connections`);
  const started = Date.now();
  const steps: RampStep[] = [];
  let rate = options.rampStartRate;
  let lastPass: number | null = null;
  let stoppedBy: RampOutcome['stoppedBy'] = 'budget';
  let index = 0;
  while (Date.now() - started < RAMP_BUDGET_MS) {
    let step = await rampStep(generators, rate, index++, options.rampStepMs);
    steps.push(step);
    log(`${target} ramp ${step.rate}/s: p99 ${step.p99Ms ?? '∞'} ms, timeouts ${step.timeouts}, errors ${step.errors} -> ${step.pass ? 'pass' : 'fail'}`);
    if (!step.pass && Date.now() - started < RAMP_BUDGET_MS) {
      // The cores are shared: one stall of ~80 ms fails a 3 s step. A rate fails only if it fails twice.
      await sleep(2000);
      step = await rampStep(generators, rate, index++, options.rampStepMs);
      step.retry = true;
      steps.push(step);
      log(`${target} ramp ${step.rate}/s (again): p99 ${step.p99Ms ?? '∞'} ms, timeouts ${step.timeouts}, errors ${step.errors} -> ${step.pass ? 'pass' : 'fail'}`);
    }
    if (!step.pass) {
      stoppedBy = 'p99';
      break;
    }
    lastPass = rate;
    rate *= options.rampFactor;
    await sleep(300);
  }
  // One refinement between the last passing and the first failing rate, after the backlog drains.
  if (stoppedBy === 'p99' && lastPass !== null && Date.now() - started < RAMP_BUDGET_MS + 10_000) {
    await sleep(3000);
    const middle = Math.sqrt(lastPass * rate);
    const step = await rampStep(generators, middle, index++, options.rampStepMs);
    steps.push(step);
    log(`${target} ramp ${step.rate}/s (refinement): p99 ${step.p99Ms ?? '∞'} ms -> ${step.pass ? 'pass' : 'fail'}`);
    if (step.pass) lastPass = middle;
  }
  for (const generator of generators) generator.command({ type: 'ramp.close' });
  await Promise.all(generators.map((g) => g.next('ramp.closed', 30_000)));
  return { maxRate: lastPass === null ? null : round(lastPass, 0), steps, connections, stoppedBy };
}

/* ---------- the run ---------- */

function configurationName(options: LoadOptions): string {
  if (options.nodes > 1) return `${options.nodes} nodes, Redis, ${options.listeners} listeners`;
  return `1 node, ${options.redis ? 'Redis' : 'embedded store'}, ${options.listeners} listeners`;
}

function commandLine(options: LoadOptions): string {
  const parts = [`npm run bench:load -- --listeners ${options.listeners} --duration ${options.durationS}`];
  if (options.redis) parts.push('--redis');
  if (options.nodes > 1) parts.push(`--nodes ${options.nodes}`);
  parts.push('--json');
  return parts.join(' ');
}

const percentileOrNull = (values: number[], p: number, digits = 2) => (values.length > 0 ? round(percentile(values, p), digits) : null);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export async function runLoad(options: LoadOptions) {
  const runStarted = Date.now();
  const loadBefore = loadavg()[0] ?? 0;
  let redis: PrivateRedis | undefined;
  let accountsDir: string | undefined;
  const servers: ServerProcess[] = [];
  let agents: AgentPool | undefined;
  const generators: Generator[] = [];
  try {
    /* servers and agents */
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      CONVERSATION_SECRET: randomBytes(24).toString('base64url'),
      WIDGET_MESSAGES_PER_SECOND: String(RATE_LIMIT.messagesPerSecond),
      WIDGET_MESSAGE_BURST: String(RATE_LIMIT.burst),
      // Every listener comes from 127.0.0.1: the per-address guards would refuse all but a few.
      WIDGET_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS_LIMIT),
      WIDGET_NEW_CONVERSATIONS_PER_MINUTE: String(PER_ADDRESS_LIMIT),
    };
    let logins: AgentLogin[];
    if (options.redis) {
      redis = await startPrivateRedis();
      children.add(redis.process);
      env.REDIS_URL = redis.url;
      logins = await createRedisAgentAccounts(redis.url, options.agents);
    } else {
      const written = await writeAgentAccountsFile(options.agents);
      accountsDir = path.dirname(written.file);
      env.ACCOUNTS_FILE = written.file;
      logins = written.logins;
    }
    for (let i = 0; i < options.nodes; i++) {
      const server = await startServerProcess(env, options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []);
      children.add(server.child);
      servers.push(server);
    }
    log(`${servers.length} server process(es) ready (${options.redis ? 'Redis' : 'embedded store'}), pids ${servers.map((s) => s.child.pid).join(', ')}`);
    if (options.agents > 0) agents = await startAgents(servers.map((s) => s.url), logins, options.seed);

    /* generators: enough for the listeners, and at least as many as the ramp uses */
    const steadyCount = Math.max(1, Math.ceil(options.listeners / options.perGenerator));
    const generatorCount = Math.max(steadyCount, options.ramp ? options.rampGenerators : 1);
    for (let i = 0; i < generatorCount; i++) generators.push(await Generator.start());
    const steadyGenerators = generators.slice(0, steadyCount);
    const rampGenerators = generators.slice(0, options.rampGenerators);

    /* 1. steady, ours */
    const pids = servers.map((s) => s.child.pid ?? 0);
    const generatorPids = steadyGenerators.map((g) => g.child.pid ?? 0);
    let window: ReturnType<typeof measureProcesses> | undefined;
    let usage: ReturnType<ReturnType<typeof measureProcesses>['stop']> | undefined;
    const steady = await runSteady(steadyGenerators, 'bot', servers.map((s) => s.wsUrl), options, options.durationS, (phase) => {
      if (phase === 'start') window = measureProcesses([...pids, ...generatorPids, ...(redis?.process.pid ? [redis.process.pid] : [])]);
      else usage = window?.stop();
    });
    const agentStats = agents?.stats() ?? { agents: 0, assigned: 0, replied: 0, closed: 0, errors: 0 };

    /* 2. ramp, ours; 3. steady and ramp, echo */
    let ours: RampOutcome | null = null;
    let echo: RampOutcome | null = null;
    let echoSteady: SteadyOutcome | null = null;
    const crashed = () => servers.filter((s) => s.child.exitCode !== null || s.child.signalCode !== null).length;
    let serverCrashes = crashed();
    if (options.ramp) {
      ours = await runRamp(rampGenerators, 'bot', servers.map((s) => s.wsUrl), options);
      agents?.close();
      agents = undefined;
      serverCrashes = crashed();
      for (const server of servers.splice(0)) await server.stop();
      const echoServer = await startEchoServer();
      try {
        echoSteady = await runSteady(steadyGenerators, 'echo', [echoServer.wsUrl], options, options.echoSteadyS);
        echo = await runRamp(rampGenerators, 'echo', [echoServer.wsUrl], options);
      } finally {
        await echoServer.stop();
      }
    }

    /* the figures */
    const a = steady.accounting;
    const errorKinds = { ...a.errors, ...(a.unacked ? { unacknowledged: a.unacked } : {}), ...(a.ackMismatches ? { ack_mismatch: a.ackMismatches } : {}), ...(a.replyTimeouts ? { reply_timeout: a.replyTimeouts } : {}), ...(agentStats.errors ? { agent: agentStats.errors } : {}) };
    const replyP99 = percentileOrNull(steady.replyMs, 99);
    const echoP99 = echoSteady ? percentileOrNull(echoSteady.replyMs, 99, 3) : null;
    const cpu = (usage?.cpuPct ?? []).slice(0, pids.length);
    const rss = (usage?.peakRssMb ?? []).slice(0, pids.length);
    const generatorCpu = (usage?.cpuPct ?? []).slice(pids.length, pids.length + generatorPids.length);
    const redisCpu = redis ? (usage?.cpuPct ?? [])[pids.length + generatorPids.length] : undefined;
    const result = {
      benchmark: 'load',
      configuration: configurationName(options),
      listeners: options.listeners,
      nodes: options.nodes,
      store: options.redis ? 'redis' : 'embedded',
      durationS: options.durationS,
      generators: steadyGenerators.length,
      // The most listener connections open at once (sampled every second); a few are between
      // conversations at any moment (a closed handoff chat is followed by a new socket).
      connections: steady.peakOpen,
      connectionsAtEnd: steady.openAtEnd,
      messages: a.acked,
      messagesPerSecond: round(a.acked / options.durationS, 1),
      replies: steady.replyMs.length,
      replyP50Ms: percentileOrNull(steady.replyMs, 50),
      replyP95Ms: percentileOrNull(steady.replyMs, 95),
      replyP99Ms: replyP99,
      replyMaxMs: steady.replyMs.length > 0 ? round(Math.max(...steady.replyMs), 2) : null,
      handoffsRequested: a.handoffsRequested,
      handoffsAssigned: a.handoffsAssigned,
      unplannedHandoffs: a.unplannedHandoffs,
      handoffP50Ms: percentileOrNull(steady.handoffMs, 50),
      handoffP99Ms: percentileOrNull(steady.handoffMs, 99),
      agents: agentStats,
      conversationsStarted: a.conversationsStarted,
      // A node that died during the window has no CPU figure (null); the total adds the others.
      serverCpuPct: round(sum(cpu.filter(Number.isFinite)), 1),
      serverCpuPctPerNode: cpu.map((c) => (Number.isFinite(c) ? round(c, 1) : null)),
      // Server processes that exited by themselves (crashed) before the bench stopped them.
      serverCrashes,
      serverRssMb: round(sum(rss), 1),
      serverRssMbPerNode: rss.map((r) => round(r, 1)),
      // The generators' own CPU: near 100 % would mean the generator, not the server, set the pace.
      generatorCpuPct: generatorCpu.map((c) => round(c, 1)),
      redisCpuPct: redisCpu === undefined || !Number.isFinite(redisCpu) ? null : round(redisCpu, 1),
      errors: sum(Object.values(errorKinds)),
      errorKinds,
      // Lost: acknowledged messages that never came back as their event, and skipped event seqs.
      // A message never acknowledged (the node died, the store timed out) is an error, not a loss:
      // the widget keeps it and sends it again; this generator does not, and counts it.
      lost: a.lostMessages - a.unacked + a.seqGaps,
      duplicated: a.duplicatedMessages + a.seqDuplicates,
      lostDetail: { ackedNeverDelivered: a.lostMessages - a.unacked, seqGaps: a.seqGaps, neverAcknowledged: a.unacked },
      duplicatedDetail: { messages: a.duplicatedMessages, seqRepeats: a.seqDuplicates },
      maxMessagesPerSecondAtP99Under50Ms: ours?.maxRate ?? null,
      echoMaxMessagesPerSecondAtP99Under50Ms: echo?.maxRate ?? null,
      echoP99Ms: echoP99,
      throughputRatio: ours?.maxRate && echo?.maxRate ? round(ours.maxRate / echo.maxRate, 3) : null,
      p99Ratio: replyP99 !== null && echoP99 ? round(replyP99 / echoP99, 2) : null,
      echoSteady: echoSteady ? { seconds: echoSteady.seconds, messages: echoSteady.accounting.acked, lost: echoSteady.accounting.lostMessages, duplicated: echoSteady.accounting.duplicatedMessages, p50Ms: percentileOrNull(echoSteady.replyMs, 50, 3) } : null,
      ramp: options.ramp
        ? {
            openLoop: true,
            connections: ours?.connections ?? 0,
            generators: rampGenerators.length,
            stepMs: options.rampStepMs,
            factor: options.rampFactor,
            rateLimit: `raised for the bench server: WIDGET_MESSAGES_PER_SECOND=${RATE_LIMIT.messagesPerSecond}, WIDGET_MESSAGE_BURST=${RATE_LIMIT.burst} (default 5/s, burst 10); the steady run stays far below either. WIDGET_CONNECTIONS_PER_ADDRESS and WIDGET_NEW_CONVERSATIONS_PER_MINUTE=${PER_ADDRESS_LIMIT}: every generated listener shares 127.0.0.1`,
            ours: ours?.steps ?? [],
            oursStoppedBy: ours?.stoppedBy ?? null,
            echo: echo?.steps ?? [],
            echoStoppedBy: echo?.stoppedBy ?? null,
          }
        : null,
      runSeconds: round((Date.now() - runStarted) / 1000, 1),
      // The machine's 1-minute load average (2 cores, shared): above ~2, other work competed with the run.
      loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0] ?? 0, 2) },
    };
    return result;
  } finally {
    agents?.close();
    for (const generator of generators) generator.stop();
    for (const server of servers) await server.stop();
    await redis?.stop();
    if (accountsDir) await rm(accountsDir, { recursive: true, force: true });
  }
}

export type LoadResult = Awaited<ReturnType<typeof runLoad>>;

/* ---------- docs/benchmarks.md ---------- */

const TABLE_HEADER = [
  '| configuration | connections | msg/s | reply p50 | reply p95 | reply p99 | handoff p99 | server CPU | server RSS | errors | lost | duplicated | max msg/s at p99 ≤ 50 ms | echo max msg/s | throughput ratio | echo p99 (steady) | p99 ratio | reproduce |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

const ms = (value: number | null) => (value === null ? '–' : `${value} ms`);

function tableRow(result: LoadResult, command: string): string {
  return `| ${[
    result.configuration,
    result.connections,
    result.messagesPerSecond,
    ms(result.replyP50Ms),
    ms(result.replyP95Ms),
    ms(result.replyP99Ms),
    ms(result.handoffP99Ms),
    `${result.serverCpuPct} %`,
    `${result.serverRssMb} MB`,
    result.serverCrashes ? `${result.errors} (${result.serverCrashes} node crashed)` : result.errors,
    result.lost,
    result.duplicated,
    result.maxMessagesPerSecondAtP99Under50Ms ?? '–',
    result.echoMaxMessagesPerSecondAtP99Under50Ms ?? '–',
    result.throughputRatio ?? '–',
    ms(result.echoP99Ms),
    result.p99Ratio ?? '–',
    `\`${command}\``,
  ].join(' | ')} |`;
}

/** Keeps the rows other configurations wrote; replaces this configuration's row. */
async function recordRow(result: LoadResult, command: string, options: LoadOptions): Promise<void> {
  let existing = '';
  try {
    existing = await readFile(path.resolve(process.cwd(), 'docs/benchmarks.md'), 'utf8');
  } catch {
    // no file yet
  }
  const begin = existing.indexOf('<!-- bench:load:begin -->');
  const end = existing.indexOf('<!-- bench:load:end -->');
  const section = begin >= 0 && end > begin ? existing.slice(begin, end) : '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| configuration') || line.startsWith('| ---')) continue;
    rows.set(line.split(' | ')[0]?.slice(2) ?? '', line);
  }
  rows.set(result.configuration, tableRow(result, command));
  const order = (name: string) => (name.includes('nodes') ? 1e9 : 0) + (name.includes('Redis') ? 1e8 : 0) + Number(/(\d+) listeners/.exec(name)?.[1] ?? 0);
  const sorted = [...rows.entries()].sort((x, y) => order(x[0]) - order(y[0])).map(([, line]) => line);
  const body = [
    'Listeners on loopback against separate server processes (`dist/server/main.js`, `NODE_ENV=production`, log level error); the generators, the agents and the echo server run in processes of their own, on the same 2 shared cores. **Steady**: every listener holds a widget WebSocket and sends a catalogue phrase (answer-only intents, 70 % English, 30 % Spanish) every 5-15 s; 3 % ask for a person once and 10 simulated agents (socket.io `/agents`) answer and close those chats. Reply latency runs from each message\'s intended send time to the bot\'s first reply event; handoff latency from the request to `conversation.state → assigned`. CPU (one core = 100 %) and peak RSS are the server processes\', read from /proc over the chatting window. Lost and duplicated are counted end to end by clientId and event seq.',
    '',
    `**Ramp** (open loop, after the steady run): ${options.rampConnections} connections over ${options.rampGenerators} generators, the rate ×${options.rampFactor} per ${options.rampStepMs / 1000} s step from ${options.rampStartRate} msg/s (a failing rate is tried once more, since one stall on the shared cores fails a step), then one step between the last pass and the first fail; the best rate whose p99 (unanswered = infinitely late) is ≤ 50 ms with no errors. The per-connection rate limit is raised for the bench server (WIDGET_MESSAGES_PER_SECOND=1000, burst 1000), and so are the per-address limits (all listeners share 127.0.0.1). The same generators then run the same steady pace (${options.echoSteadyS} s) and the same ramp against a bare Fastify + @fastify/websocket echo server.`,
    '',
    ...TABLE_HEADER,
    ...sorted,
    '',
    'Goals: 10,000 listeners on one node under 1 GB RSS; bot reply p99 < 50 ms at 1,000 msg/s; throughput ≥ half the echo\'s (ratio ≥ 0.5); zero lost and duplicated. The runs\' JSON lines, and what limits a node, are in docs/scaling.md.',
  ].join('\n');
  await recordBenchmark('load', 'npm run bench:load -- --listeners N --duration S --json', body);
}

/* ---------- CLI ---------- */

async function main(): Promise<void> {
  let options: LoadOptions;
  try {
    options = parseLoadArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(64);
  }
  const budgetS = options.durationS + (options.ramp ? FIXED_BUDGET_S.withRamp : FIXED_BUDGET_S.withoutRamp);
  const deadline = setTimeout(() => {
    console.error(`bench:load did not finish within ${budgetS} s (duration + fixed budget); stopping every child process`);
    killChildren();
    process.exit(2);
  }, budgetS * 1000);
  deadline.unref();
  const stop = () => {
    killChildren();
    process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const result = await runLoad(options);
    console.log(JSON.stringify(result));
    if (options.record) await recordRow(result, commandLine(options), options);
    killChildren();
    process.exit(0);
  } catch (error) {
    console.error(error);
    killChildren();
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
