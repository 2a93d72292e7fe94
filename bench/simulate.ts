/**
 * npm run simulate -- --json [--seed N] [--conversations N] [--no-record]
 *
 * The CSAT simulation (docs/simulation.md): synthetic listeners (widget WebSocket) and simulated
 * agents (socket.io /agents) against the real server in a separate process (embedded store,
 * loopback); round 1 on one slice of the held-out messages, one tuning round through the real
 * tuning API as an analyst, round 2 on another slice. Prints one JSON line with the figures
 * before and after, read from the server's analytics and cross-checked with the simulation's
 * own books, and records it in docs/benchmarks.md. Bounded: a hard deadline kills the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { IntentPolicy } from '../bot/intent-schema.js';
import { loadIntents } from '../bot/load-intents.js';
import { hashPassword } from '../server/domain/agent-accounts.js';
import { readHeldOut } from '../server/domain/held-out.js';
import { projectRoot } from '../server/paths.js';
import { writeAccountsFile } from '../server/store/accounts-file.js';
import type { AgentAccount } from '../server/store/chat-store.js';
import { parseServerFrame } from '../server/transport/protocol.js';
import { createSimRng, seedOf } from './simulate-rng.js';
import { recordBenchmark } from './record.js';
import { startAgents, signIn, type ChatKnowledge } from './simulate-agents.js';
import { runListener } from './simulate-listener.js';
import {
  drawsFor,
  OOS,
  ownFigures,
  PROTOCOL,
  RATING_MODEL,
  ratio,
  round4,
  splitPool,
  type ConversationOutcome,
  type OwnFigures,
  type PoolItem,
} from './simulate-model.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

const USAGE = 'usage: npm run simulate -- --json [--seed N] [--conversations N] [--no-record]';

let server: ServerProcess | undefined;
let workDir: string | undefined;

function cleanUp(): void {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

const deadline = setTimeout(() => {
  console.error(`simulate did not finish within ${PROTOCOL.deadlineMs / 1000} s; stopping the server`);
  cleanUp();
  process.exit(2);
}, PROTOCOL.deadlineMs);
deadline.unref();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const normalise = (text: string) => text.replace(/\s+/g, ' ').trim().toLowerCase();

interface Options {
  seed: number;
  conversations: number | null;
  record: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, seed: { type: 'string' }, conversations: { type: 'string' }, 'no-record': { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  });
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  const conversations = values.conversations === undefined ? null : Number(values.conversations);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number ≥ 0\n${USAGE}`);
  if (conversations !== null && (!Number.isInteger(conversations) || conversations < 1)) throw new Error(`--conversations must be a whole number ≥ 1\n${USAGE}`);
  return { seed, conversations, record: !values['no-record'] };
}

class Analyst {
  constructor(
    private readonly url: string,
    private readonly cookie: string,
  ) {}

  async call<T = Record<string, unknown>>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: { cookie: this.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async ok<T = Record<string, unknown>>(method: string, route: string, body?: unknown): Promise<T> {
    const answer = await this.call<T>(method, route, body);
    if (answer.status !== 200) throw new Error(`${method} ${route}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return answer.body;
  }
}

interface ServerSummary {
  ended: number;
  overall: { n: number; satisfied: number; csat: number | null };
  cohorts: { cohort: string; ended: number; n: number; satisfied: number; csat: number | null }[];
  containment: { count: number; total: number; rate: number | null };
}

interface Round {
  outcomes: ConversationOutcome[];
  from: string;
  to: string;
  durationMs: number;
}

/** Open-loop arrivals (seeded exponential gaps), at most PROTOCOL.maxOpen conversations at once. */
async function runRound(items: readonly PoolItem[], round: number, seed: number, wsUrl: string, known: Map<string, ChatKnowledge>, policyOf: (intent: string) => IntentPolicy | undefined): Promise<Round> {
  const arrivals = createSimRng(seedOf(seed, round, 0xa77));
  const started = Date.now();
  const from = new Date(started).toISOString();
  const running = new Set<Promise<ConversationOutcome>>();
  const outcomes: Promise<ConversationOutcome>[] = [];
  for (const [index, item] of items.entries()) {
    await sleep(-Math.log(1 - arrivals.next()) * PROTOCOL.meanInterArrivalMs);
    while (running.size >= PROTOCOL.maxOpen) await Promise.race(running);
    const draws = drawsFor(seed, round, index);
    const conversation = runListener(item, index, draws, { wsUrl, policyOf, register: (id) => known.set(id, { item, draws }) });
    running.add(conversation);
    void conversation.finally(() => running.delete(conversation));
    outcomes.push(conversation);
  }
  const done = await Promise.all(outcomes);
  // Every survey of the round carries an endedAt before this instant.
  await sleep(5);
  return { outcomes: done, from, to: new Date().toISOString(), durationMs: Date.now() - started };
}

/** Sends "hello" on a chat that is never ended (so it is in no figure) until the bot answers with another model. */
async function waitForModelChange(wsUrl: string, previous: readonly string[]): Promise<string | null> {
  const socket = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let latest: string | null = null;
  let waiting: (() => void) | null = null;
  socket.on('message', (data) => {
    const frame = parseServerFrame(data.toString());
    if (frame?.type === 'message.new' && frame.understanding) {
      latest = frame.understanding.modelVersion;
      waiting?.();
    }
    if (frame?.type === 'conversation.ready') waiting?.();
  });
  const next = () => new Promise<void>((resolve) => (waiting = resolve));
  let ready = next();
  socket.send(JSON.stringify({ type: 'conversation.start', language: 'en' }));
  await ready;
  try {
    for (let attempt = 0; attempt < 25; attempt++) {
      ready = next();
      socket.send(JSON.stringify({ type: 'message.send', clientId: `probe${attempt}`, text: 'hello' }));
      await Promise.race([ready, sleep(2000)]);
      if (latest !== null && !previous.includes(latest)) return latest;
      await sleep(200);
    }
    return null;
  } finally {
    socket.close();
  }
}

interface Candidate {
  id: string;
  text: string;
  intent: string | null;
  status: string;
  source: string;
}

async function tune(analyst: Analyst, round1: readonly PoolItem[]) {
  // 1. Policy: propose, approve every proposal.
  const proposed = await analyst.ok<{ proposals: { id: string; intent: string; kind: string; status: string; to: unknown }[] }>('POST', '/api/tuning/proposals');
  const applied: { intent: string; kind: string; to: unknown }[] = [];
  for (const proposal of proposed.proposals.filter((p) => p.status === 'proposed')) {
    const decided = await analyst.ok<{ proposal: { status: string } }>('POST', `/api/tuning/proposals/${encodeURIComponent(proposal.id)}`, { approve: true });
    if (decided.proposal.status === 'applied') applied.push({ intent: proposal.intent, kind: proposal.kind, to: proposal.to });
  }
  const policy = await analyst.ok<{ version: number; intents: Record<string, unknown> }>('GET', '/api/tuning/policy');

  // 2. Candidates: accept the listeners' own labelled messages, label the unlabelled ones, reject the rest.
  const truthOf = new Map<string, string>();
  for (const item of round1) truthOf.set(normalise(item.text), item.intent);
  const refreshed = await analyst.ok<{ candidates: Candidate[] }>('POST', '/api/tuning/candidates/refresh');
  const decisions = { total: refreshed.candidates.length, accepted: 0, relabelled: 0, rejectedOos: 0, rejectedNotAQuestion: 0, left: 0, fromAgents: 0, notUnderstood: 0, refused: 0 };
  for (const candidate of refreshed.candidates) {
    if (candidate.source === 'agent_close') decisions.fromAgents++;
    else decisions.notUnderstood++;
    if (candidate.status !== 'pending' && candidate.status !== 'needs_label') {
      decisions.left++;
      continue;
    }
    const truth = truthOf.get(normalise(candidate.text));
    let decision: { action: 'accept' | 'reject' | 'relabel'; intent?: string };
    if (truth === undefined) decision = { action: 'reject' };
    else if (truth === OOS) decision = { action: 'reject' };
    else if (candidate.intent === truth) decision = { action: 'accept' };
    else decision = { action: 'relabel', intent: truth };
    const answer = await analyst.call('POST', `/api/tuning/candidates/${encodeURIComponent(candidate.id)}`, decision);
    if (answer.status !== 200) {
      decisions.refused++;
      continue;
    }
    if (decision.action === 'accept') decisions.accepted++;
    else if (decision.action === 'relabel') decisions.relabelled++;
    else if (truth === OOS) decisions.rejectedOos++;
    else decisions.rejectedNotAQuestion++;
  }

  // 3. Train a candidate model, try to promote it.
  const trainedAt = Date.now();
  const { model } = await analyst.ok<{ model: { version: string; acceptedCandidates: number; phrases: number; evaluation: Record<string, number | null>; baseline: Record<string, number | string | null> | null } }>('POST', '/api/tuning/models');
  const trainMs = Date.now() - trainedAt;
  const promotion = await analyst.call<{ model?: { status: string }; code?: string; message?: string }>('POST', `/api/tuning/models/${encodeURIComponent(model.version)}/promote`);
  const promoted = promotion.status === 200 && promotion.body.model?.status === 'promoted';
  const r = (value: number | string | null | undefined) => (typeof value === 'number' ? round4(value) : (value ?? null));
  return {
    proposals: proposed.proposals.length,
    proposalsApplied: applied.length,
    applied,
    policyVersion: policy.version,
    candidates: decisions,
    model: {
      version: model.version,
      trainMs,
      acceptedCandidates: model.acceptedCandidates,
      phrases: model.phrases,
      evaluation: Object.fromEntries(Object.entries(model.evaluation).map(([k, v]) => [k, r(v)])),
      baseline: model.baseline ? Object.fromEntries(Object.entries(model.baseline).map(([k, v]) => [k, r(v)])) : null,
      promoted,
      refusedReason: promoted ? null : (promotion.body.message ?? `HTTP ${promotion.status}`),
    },
  };
}

function figures(summary: ServerSummary, own: OwnFigures) {
  const bot = summary.cohorts.find((c) => c.cohort === 'bot');
  const botCsat = bot && bot.n > 0 ? bot.satisfied / bot.n : null;
  const overallCsat = summary.overall.n > 0 ? summary.overall.satisfied / summary.overall.n : null;
  const containment = summary.ended > 0 ? summary.containment.count / summary.ended : null;
  const wrongAnswerRate = ratio(own.wrongAnswers, own.conversations);
  const mismatches: string[] = [];
  const same = (name: string, server: number | undefined, mine: number) => {
    if (server !== mine) mismatches.push(`${name}: server ${server}, simulation ${mine}`);
  };
  same('ended', summary.ended, own.conversations);
  same('answered', summary.overall.n, own.answered);
  same('satisfied', summary.overall.satisfied, own.satisfied);
  same('bot n', bot?.n, own.botN);
  same('bot satisfied', bot?.satisfied, own.botSatisfied);
  same('contained', summary.containment.count, own.contained);
  return {
    unrounded: { botCsat, overallCsat, containment },
    shown: {
      botCsat: round4(botCsat),
      overallCsat: round4(overallCsat),
      containment: round4(containment),
      wrongAnswerRate: round4(wrongAnswerRate),
      conversations: summary.ended,
      botN: bot?.n ?? 0,
      failed: own.failed,
      classes: own.classes,
      modelVersions: own.modelVersions,
      surveyRetries: own.surveyRetries,
    },
    mismatches,
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const root = projectRoot();
  const started = Date.now();

  const pool = await readHeldOut(path.join(root, 'test/fixtures'));
  const slices = splitPool(pool, options.seed);
  const perRound = Math.min(options.conversations ?? Infinity, slices.round1.length, slices.round2.length);
  const round1Items = slices.round1.slice(0, perRound);
  const round2Items = slices.round2.slice(0, perRound);
  const intents = await loadIntents(path.join(root, 'intents'));
  const policies = new Map(intents.map((intent) => [intent.id, intent.policy]));
  const policyOf = (intent: string) => policies.get(intent);

  // The gate's held-out slice and the accounts, in a private folder.
  workDir = mkdtempSync(path.join(tmpdir(), 'simulate-'));
  const heldOutDir = path.join(workDir, 'heldout');
  await mkdir(heldOutDir);
  for (const language of ['en', 'es'] as const) {
    const lines = slices.gate.filter((p) => p.language === language).map((p) => JSON.stringify({ text: p.text, intent: p.intent }));
    await writeFile(path.join(heldOutDir, `heldout-sim.${language}.jsonl`), `${lines.join('\n')}\n`);
  }
  const password = 'simulation password';
  const createdAt = new Date().toISOString();
  const agents = Array.from({ length: PROTOCOL.agents }, (_, i) => ({ email: `agent${i + 1}@sim.example.com`, password }));
  const accounts: AgentAccount[] = [];
  for (const [i, agent] of agents.entries()) {
    accounts.push({ id: `agt_sim${i + 1}`, email: agent.email, displayName: `Agent ${i + 1}`, role: 'agent', languages: ['en', 'es'], capacity: PROTOCOL.agentCapacity, passwordHash: await hashPassword(password), createdAt });
  }
  const analystAccount = { email: 'analyst@sim.example.com', password };
  accounts.push({ id: 'agt_simanalyst', email: analystAccount.email, displayName: 'Analyst', role: 'analyst', languages: ['en', 'es'], capacity: 1, passwordHash: await hashPassword(password), createdAt });
  const accountsFile = path.join(workDir, 'accounts.json');
  await writeAccountsFile(accountsFile, accounts);

  server = await startServerProcess({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    ACCOUNTS_FILE: accountsFile,
    HELDOUT_DIR: heldOutDir,
    WIDGET_MESSAGES_PER_SECOND: '100',
    WIDGET_MESSAGE_BURST: '100',
    HANDOFF_SWEEP_MS: '250',
    // Every listener comes from 127.0.0.1: the per-address limits are raised for the bench.
    WIDGET_NEW_CONVERSATIONS_PER_MINUTE: '100000',
    WIDGET_CONNECTIONS_PER_ADDRESS: '10000',
    HTTP_RATE_LIMIT_PER_MINUTE: '100000',
  });
  const known = new Map<string, ChatKnowledge>();
  const simAgents = await startAgents(server.url, agents, (id) => known.get(id));
  const analyst = new Analyst(server.url, await signIn(server.url, analystAccount.email, analystAccount.password));
  const summaryOf = (round: Round) => analyst.ok<ServerSummary>('GET', `/api/analytics/summary?from=${encodeURIComponent(round.from)}&to=${encodeURIComponent(round.to)}`);

  let result: Record<string, unknown>;
  let failed = 0;
  try {
    const round1 = await runRound(round1Items, 1, options.seed, server.wsUrl, known, policyOf);
    const before = figures(await summaryOf(round1), ownFigures(round1.outcomes));
    const tuning = await tune(analyst, round1Items);
    const modelInUse = tuning.model.promoted ? await waitForModelChange(server.wsUrl, before.shown.modelVersions) : null;
    const round2 = await runRound(round2Items, 2, options.seed, server.wsUrl, known, policyOf);
    const after = figures(await summaryOf(round2), ownFigures(round2.outcomes));
    if (process.env.SIMULATE_DEBUG) for (const o of [...round1.outcomes, ...round2.outcomes]) console.error(JSON.stringify(o));
    failed = before.shown.failed + after.shown.failed;

    const lift = before.unrounded.botCsat && after.unrounded.botCsat !== null ? after.unrounded.botCsat / before.unrounded.botCsat - 1 : null;
    const containmentChangePoints = before.unrounded.containment !== null && after.unrounded.containment !== null ? (after.unrounded.containment - before.unrounded.containment) * 100 : null;
    const goalMet = lift !== null && containmentChangePoints !== null && lift >= PROTOCOL.goal.botCsatLiftMin && containmentChangePoints >= -PROTOCOL.goal.containmentDropMaxPoints;
    const failures = [...round1.outcomes, ...round2.outcomes].filter((o) => o.failed).map((o) => `${o.index}: ${o.failed}`);
    result = {
      benchmark: 'simulate',
      seed: options.seed,
      conversationsPerRound: perRound,
      pool: { total: pool.length, round1: slices.round1.length, round2: slices.round2.length, gate: slices.gate.length },
      before: before.shown,
      after: after.shown,
      botCsatLift: round4(lift),
      containmentChangePoints: containmentChangePoints === null ? null : Math.round(containmentChangePoints * 100) / 100,
      tuning: { ...tuning, modelInUseRound2: tuning.model.promoted ? (modelInUse ?? 'not observed') : null },
      goal: { botCsatLiftMin: PROTOCOL.goal.botCsatLiftMin, containmentDropMaxPoints: PROTOCOL.goal.containmentDropMaxPoints, met: goalMet },
      crossCheck: { ok: before.mismatches.length === 0 && after.mismatches.length === 0, before: before.mismatches, after: after.mismatches },
      agents: { closed: simAgents.closed, errors: simAgents.errors.slice(0, 10) },
      failures: failures.slice(0, 10),
      roundMs: [round1.durationMs, round2.durationMs],
      durationMs: Date.now() - started,
      ratingModel: RATING_MODEL,
      protocol: PROTOCOL,
    };
  } finally {
    simAgents.stop();
    await server.stop();
    server = undefined;
  }

  console.log(JSON.stringify(result));
  if (options.record) await record(result);
  const crossCheck = result.crossCheck as { ok: boolean };
  return failed === 0 && crossCheck.ok && (result.agents as { errors: string[] }).errors.length === 0 ? 0 : 1;
}

/** The goal needs after.botCsat ≥ before.botCsat × (1 + lift); above 1 no tuning can reach it. */
function ceiling(before: number | null): string {
  if (before === null) return '';
  const needed = before * (1 + PROTOCOL.goal.botCsatLiftMin);
  return needed > 1
    ? ` With bot CSAT at ${(before * 100).toFixed(1)} % before tuning, the goal would need ${(needed * 100).toFixed(1)} % after: more than 100 %, so no tuning round can meet it from this starting point.`
    : ` The goal needs bot CSAT ≥ ${(needed * 100).toFixed(1)} % after tuning.`;
}

async function record(result: Record<string, unknown>): Promise<void> {
  type Shown = ReturnType<typeof figures>['shown'];
  const before = result.before as Shown;
  const after = result.after as Shown;
  const tuning = result.tuning as Awaited<ReturnType<typeof tune>>;
  const goal = result.goal as { met: boolean };
  const pct = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)} %`);
  const row = (name: string, f: Shown) =>
    `| ${name} | ${f.conversations} | ${pct(f.botCsat)} (n ${f.botN}) | ${pct(f.overallCsat)} | ${pct(f.containment)} | ${pct(f.wrongAnswerRate)} | ${f.classes.right + f.classes.right_after_clarify} / ${f.classes.wrong + f.classes.oos_answered} / ${f.classes.not_understood} / ${f.classes.oos_declined} / ${f.classes.to_person} |`;
  const m = tuning.model;
  await recordBenchmark(
    'simulate',
    'npm run simulate -- --json',
    [
      `Synthetic listeners (widget WebSocket) and ${PROTOCOL.agents} simulated agents (socket.io \`/agents\`) against a separate server process (embedded store, loopback), seed ${String(result.seed)}; the rating model, the slices and every definition are in [docs/simulation.md](simulation.md) (fixed before tuning). Round 1 uses slice A of the held-out messages, then one tuning round through the tuning API as an analyst, then round 2 on slice B (never trained on); the promotion gate evaluates on slice C. Figures are the server's analytics for each round's window (cross-check with the simulation's own books: ${(result.crossCheck as { ok: boolean }).ok ? 'equal' : 'MISMATCH'}).`,
      '',
      '| round | conversations | bot CSAT | overall CSAT | containment | wrong answers | right / wrong / not understood / oos declined / to a person |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      row('before tuning', before),
      row('after tuning', after),
      '',
      `Tuning: ${tuning.proposals} policy proposal(s), ${tuning.proposalsApplied} applied${tuning.applied.length ? ` (${tuning.applied.map((a) => `${a.intent}: ${a.kind}`).join(', ')})` : ''}; ${tuning.candidates.total} candidates: ${tuning.candidates.accepted} accepted, ${tuning.candidates.relabelled} labelled by the analyst, ${tuning.candidates.rejectedOos} rejected as out of scope, ${tuning.candidates.rejectedNotAQuestion} rejected as not a listener's question (quick-reply taps, typed requests for a person). Candidate model ${m.version} (${m.phrases} phrases): in-scope accuracy ${String(m.evaluation.inScopeAccuracy)} vs ${String(m.baseline?.inScopeAccuracy ?? '–')}, wrong answers ${String(m.evaluation.wrongAnswerRate)} vs ${String(m.baseline?.wrongAnswerRate ?? '–')} on slice C: ${m.promoted ? 'promoted' : `not promoted (${m.refusedReason ?? ''})`}.`,
      '',
      `Goal: bot CSAT +${Math.round(PROTOCOL.goal.botCsatLiftMin * 100)} % relative with containment down at most ${PROTOCOL.goal.containmentDropMaxPoints} points. Result: bot CSAT lift ${result.botCsatLift === null ? '–' : `${((result.botCsatLift as number) * 100).toFixed(1)} %`}, containment ${String(result.containmentChangePoints)} points: **${goal.met ? 'met' : 'not met'}**.${ceiling(before.botCsat)}`,
    ].join('\n'),
  );
}

main().then(
  (code) => {
    cleanUp();
    process.exit(code);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    cleanUp();
    process.exit(2);
  },
);
