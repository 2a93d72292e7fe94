/**
 * The CSAT simulation's fixed parts (docs/simulation.md): the rating model, the protocol
 * constants, the seeded split of the labelled pool, the classification of what the bot did,
 * and the figures. Pure functions: no sockets, no server.
 */
import type { LabelledPhrase } from '../bot/classifier.js';
import type { IntentPolicy } from '../bot/intent-schema.js';
import { createSimRng, seedOf, type SimRng } from './simulate-rng.js';

/** The rating model, fixed before any tuning (docs/simulation.md, "The rating model"). */
export const RATING_MODEL = {
  /** Right answer, bot only: 5 with this probability, else 4. */
  pFiveRight: 0.7,
  /** Right after the clarifying question: 5 with this probability, else 4. */
  pFiveAfterClarify: 0.4,
  /** After a wrong answer, the listener asks for a person with this probability (else leaves). */
  pAskAfterWrong: 0.6,
  /** After "not understood", the listener asks for a person with this probability. */
  pAskAfterNotUnderstood: 0.75,
  /** After an honest decline of an out-of-scope message. */
  pAskOos: 0.5,
  /** A wrong answer and the listener left: 1 with this probability, else 2. */
  pOneAfterWrong: 0.5,
  notUnderstoodLeft: 2,
  oosDeclinedLeft: 3,
  couldNotReachPerson: 1,
  /** A person: in scope, resolved, wait at most shortWaitMs: 5 with this probability, else 4. */
  pFivePerson: 0.6,
  shortWaitMs: 200,
  personLongWait: 3,
  personUnresolved: 2,
  /** A person, oos message: 4 with this probability, else 3. */
  pFourOosPerson: 0.5,
  /** Subtracted from the person's rating when the bot showed a wrong answer first. */
  wrongFirstPenalty: 1,
  /** Tries to reach a person before giving up. */
  personTries: 3,
} as const;

/** The protocol's constants (docs/simulation.md). */
export const PROTOCOL = {
  sliceShares: { round1: 0.35, round2: 0.35 },
  agents: 2,
  agentCapacity: 1,
  handlingMinMs: 300,
  handlingSpanMs: 600,
  pAgentResolves: 0.9,
  meanInterArrivalMs: 250,
  maxOpen: 16,
  conversationTimeoutMs: 20_000,
  deadlineMs: 300_000,
  goal: { botCsatLiftMin: 0.14, containmentDropMaxPoints: 5 },
} as const;

export const OOS = 'oos';
export const HUMAN_AGENT = 'meta.human_agent';

export const PERSON_REQUEST = {
  en: "I'd like to talk to a person, please",
  es: 'quiero hablar con una persona, por favor',
} as const;

export const AGENT_REPLY = {
  en: "Thanks for waiting, I've looked at your account and sorted this out for you.",
  es: 'Gracias por esperar, he revisado tu cuenta y ya está solucionado.',
} as const;

/** One labelled message the simulation sends, with where it came from. */
export type PoolItem = LabelledPhrase;

export interface Slices {
  round1: PoolItem[];
  round2: PoolItem[];
  gate: PoolItem[];
}

/** Seeded Fisher-Yates. */
export function shuffle<T>(items: readonly T[], rng: SimRng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Stratified by (intent, language): 35 % / 35 % / the rest, then rounds 1 and 2 shuffled. */
export function splitPool(pool: readonly PoolItem[], seed: number): Slices {
  const rng = createSimRng(seedOf(seed, 0x51ce));
  const groups = new Map<string, PoolItem[]>();
  for (const item of pool) {
    const key = `${item.intent}\u0000${item.language}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const slices: Slices = { round1: [], round2: [], gate: [] };
  for (const key of [...groups.keys()].sort()) {
    const group = shuffle(groups.get(key) ?? [], rng);
    const a = Math.round(group.length * PROTOCOL.sliceShares.round1);
    const b = Math.round(group.length * PROTOCOL.sliceShares.round2);
    slices.round1.push(...group.slice(0, a));
    slices.round2.push(...group.slice(a, a + b));
    slices.gate.push(...group.slice(a + b));
  }
  return { round1: shuffle(slices.round1, rng), round2: shuffle(slices.round2, rng), gate: slices.gate };
}

/** The conversation's random draws, taken up front so the path taken cannot shift them. */
export interface Draws {
  five: number;
  low: number;
  ask: number;
  oos: number;
  resolve: number;
  handling: number;
}

export function drawsFor(seed: number, round: number, index: number): Draws {
  const rng = createSimRng(seedOf(seed, round, index));
  return { five: rng.next(), low: rng.next(), ask: rng.next(), oos: rng.next(), resolve: rng.next(), handling: rng.next() };
}

export function handlingMs(draws: Draws): number {
  return Math.round(PROTOCOL.handlingMinMs + PROTOCOL.handlingSpanMs * draws.handling);
}

/** How the agent closes the chat: the true label, resolved by the draw (never for oos). */
export function agentResolution(item: PoolItem, draws: Draws): { resolved: boolean; intent: string | null } {
  if (item.intent === OOS) return { resolved: false, intent: null };
  return { resolved: draws.resolve < PROTOCOL.pAgentResolves, intent: item.intent };
}

/** What the bot did with the listener's message (docs/simulation.md, the class table). */
export type BotClass = 'right' | 'right_after_clarify' | 'wrong' | 'oos_answered' | 'not_understood' | 'oos_declined' | 'to_person';
export const BOT_CLASSES: readonly BotClass[] = ['right', 'right_after_clarify', 'wrong', 'oos_answered', 'not_understood', 'oos_declined', 'to_person'];

/** Policies that show the intent's answer (or act on it) before anything else. */
export function showsAnswer(policy: IntentPolicy | undefined): boolean {
  return policy !== undefined && policy.action !== 'handoff';
}

/**
 * Classifies the bot's first turn. `intent`/`outcome` are its understanding; `handoffReason`
 * the reason of a handoff in that turn (if any).
 */
export function classifyTurn(
  truth: string,
  turn: { intent: string | null; outcome: string; handoffReason: string | null },
  policyOf: (intent: string) => IntentPolicy | undefined,
): Exclude<BotClass, 'right_after_clarify'> | 'clarify' {
  const oos = truth === OOS;
  if (turn.outcome === 'clarify') return 'clarify';
  if (turn.outcome === 'not_understood' || turn.intent === null) return oos ? 'oos_declined' : 'not_understood';
  if (turn.handoffReason === 'frustrated') return 'to_person';
  if (turn.intent === truth) return 'right';
  if (turn.intent === HUMAN_AGENT) return 'to_person';
  if (!showsAnswer(policyOf(turn.intent))) return 'to_person';
  return oos ? 'oos_answered' : 'wrong';
}

/** How a conversation ended, as the rating model needs it. */
export type Ending =
  | { kind: 'bot_right'; afterClarify: boolean }
  | { kind: 'wrong_left' }
  | { kind: 'not_understood_left' }
  | { kind: 'oos_declined_left' }
  | { kind: 'no_person' }
  | { kind: 'person'; waitMs: number; resolved: boolean; oos: boolean; wrongFirst: boolean };

/** The rating model (docs/simulation.md): the listener's survey answer. */
export function rate(ending: Ending, draws: Draws): { rating: number; resolved: boolean } {
  const m = RATING_MODEL;
  switch (ending.kind) {
    case 'bot_right':
      return { rating: draws.five < (ending.afterClarify ? m.pFiveAfterClarify : m.pFiveRight) ? 5 : 4, resolved: true };
    case 'wrong_left':
      return { rating: draws.low < m.pOneAfterWrong ? 1 : 2, resolved: false };
    case 'not_understood_left':
      return { rating: m.notUnderstoodLeft, resolved: false };
    case 'oos_declined_left':
      return { rating: m.oosDeclinedLeft, resolved: false };
    case 'no_person':
      return { rating: m.couldNotReachPerson, resolved: false };
    case 'person': {
      let rating: number;
      if (ending.oos) rating = draws.oos < m.pFourOosPerson ? 4 : 3;
      else if (!ending.resolved) rating = m.personUnresolved;
      else if (ending.waitMs <= m.shortWaitMs) rating = draws.five < m.pFivePerson ? 5 : 4;
      else rating = m.personLongWait;
      if (ending.wrongFirst) rating = Math.max(1, rating - m.wrongFirstPenalty);
      return { rating, resolved: ending.resolved };
    }
  }
}

/** One simulated conversation, as the simulation's own books keep it. */
export interface ConversationOutcome {
  index: number;
  conversationId: string | null;
  truth: string;
  language: 'en' | 'es';
  klass: BotClass | null;
  ending: Ending | null;
  rating: number | null;
  /** A person joined the chat (the server's handledBy is then not `bot`). */
  personJoined: boolean;
  modelVersion: string | null;
  /** survey.answer frames refused with SURVEY_NOT_OPEN (the answer raced the survey's recording) and sent again. */
  surveyRetries: number;
  failed: string | null;
}

export interface OwnFigures {
  conversations: number;
  failed: number;
  botN: number;
  botSatisfied: number;
  answered: number;
  satisfied: number;
  contained: number;
  wrongAnswers: number;
  surveyRetries: number;
  classes: Record<BotClass, number>;
  modelVersions: string[];
}

export function ownFigures(outcomes: readonly ConversationOutcome[]): OwnFigures {
  const classes = Object.fromEntries(BOT_CLASSES.map((c) => [c, 0])) as Record<BotClass, number>;
  const figures: OwnFigures = { conversations: 0, failed: 0, botN: 0, botSatisfied: 0, answered: 0, satisfied: 0, contained: 0, wrongAnswers: 0, surveyRetries: 0, classes, modelVersions: [] };
  const versions = new Set<string>();
  for (const o of outcomes) {
    if (o.failed) {
      figures.failed++;
      continue;
    }
    figures.conversations++;
    figures.surveyRetries += o.surveyRetries;
    if (o.klass) classes[o.klass]++;
    if (o.klass === 'wrong' || o.klass === 'oos_answered') figures.wrongAnswers++;
    if (!o.personJoined) figures.contained++;
    if (o.modelVersion) versions.add(o.modelVersion);
    if (o.rating === null) continue;
    figures.answered++;
    const satisfied = o.rating >= 4;
    if (satisfied) figures.satisfied++;
    if (!o.personJoined) {
      figures.botN++;
      if (satisfied) figures.botSatisfied++;
    }
  }
  figures.modelVersions = [...versions].sort();
  return figures;
}

export function ratio(count: number, total: number): number | null {
  return total > 0 ? count / total : null;
}

export function round4(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10_000) / 10_000;
}
