/**
 * CSAT analytics: pure functions over SurveyRecord[] (one record per ended conversation).
 * No transport, no store: the caller picks the records (and the time range) and gets back
 * plain figures and flat rows, the same rows the JSON API returns and the CSV files hold.
 *
 * Every figure is defined in docs/analytics.md.
 */
import { isSatisfied, type HandledBy, type SurveyRecord } from './csat.js';

/** The three cohorts, in display order: bot-resolved (no person), handed off (bot, then a person), agent-only. */
export const COHORTS = ['bot', 'bot_then_agent', 'agent'] as const satisfies readonly HandledBy[];
export type Cohort = (typeof COHORTS)[number];
/** A cohort, or every conversation together. */
export type CohortOrAll = Cohort | 'all';

/** The normal quantile for a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

export const CONTAINMENT_DEFINITION =
  'Conversations that ended without a person taking part (handledBy = bot), divided by all conversations that ended in the period.';
export const RESPONSE_RATE_DEFINITION = 'Surveys answered with a rating, divided by conversations that ended (each ended conversation is offered one survey).';
export const HANDOFF_RATE_DEFINITION =
  'Conversations that were handed to a person for a reason (handoffReason set), divided by all conversations that ended in the period.';
export const CSAT_DEFINITION = 'Answered surveys rated 4 or 5, divided by answered surveys; 95% Wilson score interval.';
export const DIFFERENCE_RULE =
  'Two CSAT figures are flagged as different only when their 95% Wilson intervals do not overlap (conservative: a real difference can go unflagged, a flagged one is unlikely to be chance).';

// ---------------------------------------------------------------------------------------------
// Proportions and intervals

export interface Interval {
  low: number;
  high: number;
}

/**
 * The Wilson score interval for `successes` out of `n` (null when n is 0):
 * centre (p + z²/2n) / (1 + z²/n), half-width z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
 */
export function wilsonInterval(successes: number, n: number, z = Z_95): Interval | null {
  if (!Number.isInteger(n) || n <= 0) return null;
  if (successes < 0 || successes > n) throw new RangeError(`successes (${successes}) must be between 0 and n (${n})`);
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Output figures carry four decimals (0.8333); comparisons use the unrounded values. */
function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** A share with its interval: `count` of `total`. Rates are fractions (0..1), null when total is 0. */
export interface Share {
  count: number;
  total: number;
  rate: number | null;
  low: number | null;
  high: number | null;
}

export function share(count: number, total: number): Share {
  const interval = wilsonInterval(count, total);
  return {
    count,
    total,
    rate: total > 0 ? round4(count / total) : null,
    low: interval ? round4(interval.low) : null,
    high: interval ? round4(interval.high) : null,
  };
}

/** CSAT of a group: `satisfied` of `n` answered surveys (n = surveys with a rating). */
export type CsatFigure = {
  n: number;
  satisfied: number;
  csat: number | null;
  low: number | null;
  high: number | null;
};

export function csatFigure(records: readonly SurveyRecord[]): CsatFigure {
  let n = 0;
  let satisfied = 0;
  for (const record of records) {
    if (record.rating === null) continue;
    n += 1;
    if (isSatisfied(record.rating)) satisfied += 1;
  }
  const s = share(satisfied, n);
  return { n, satisfied, csat: s.rate, low: s.low, high: s.high };
}

export type Higher<A extends string, B extends string> = A | B | null;

export interface Difference<A extends string = 'a', B extends string = 'b'> {
  /** True only when both intervals exist and do not overlap (touching counts as overlapping). */
  differs: boolean;
  /** Which side is higher, when `differs`; null otherwise. */
  higher: Higher<A, B>;
}

/** The conservative rule: a difference only when the two 95% intervals do not overlap. */
export function compareCsat<A extends string = 'a', B extends string = 'b'>(
  a: { satisfied: number; n: number },
  b: { satisfied: number; n: number },
  names: { a: A; b: B } = { a: 'a', b: 'b' } as { a: A; b: B },
): Difference<A, B> {
  const ia = wilsonInterval(a.satisfied, a.n);
  const ib = wilsonInterval(b.satisfied, b.n);
  if (!ia || !ib) return { differs: false, higher: null };
  if (ia.low > ib.high) return { differs: true, higher: names.a };
  if (ib.low > ia.high) return { differs: true, higher: names.b };
  return { differs: false, higher: null };
}

// ---------------------------------------------------------------------------------------------
// Selection

/** A half-open range on endedAt: from <= endedAt < to (either end may be open). */
export interface TimeRange {
  from?: Date | undefined;
  to?: Date | undefined;
}

export function inRange(records: readonly SurveyRecord[], range: TimeRange = {}): SurveyRecord[] {
  const from = range.from?.getTime() ?? -Infinity;
  const to = range.to?.getTime() ?? Infinity;
  return records.filter((record) => {
    const ended = Date.parse(record.endedAt);
    return ended >= from && ended < to;
  });
}

/** The intent a conversation is counted under: the agent's (confirmed or corrected) if set, else the bot's last. */
export function intentOf(record: SurveyRecord): string | null {
  return record.agentIntent ?? record.botIntents.at(-1) ?? null;
}

/** The agent a conversation is credited to: the last who held it. */
export function agentOf(record: SurveyRecord): string | null {
  return record.agentIds.at(-1) ?? null;
}

/** The UTC calendar date (YYYY-MM-DD) of endedAt. */
export function dayOf(record: SurveyRecord): string {
  return new Date(record.endedAt).toISOString().slice(0, 10);
}

function groupBy<K>(records: readonly SurveyRecord[], key: (record: SurveyRecord) => K): Map<K, SurveyRecord[]> {
  const groups = new Map<K, SurveyRecord[]>();
  for (const record of records) {
    const k = key(record);
    const list = groups.get(k);
    if (list) list.push(record);
    else groups.set(k, [record]);
  }
  return groups;
}

const byCohort = (cohort: CohortOrAll) => (record: SurveyRecord) => cohort === 'all' || record.handledBy === cohort;

/** Looks up an agent's display name; analytics show the id when it answers undefined. */
export type AgentNames = (agentId: string) => string | undefined;

// ---------------------------------------------------------------------------------------------
// Tables: every report has `columns` (the CSV header, in order) and flat `rows`.

export type Cell = string | number | boolean | null;
export interface Table<Row extends Record<string, Cell>> {
  columns: readonly (keyof Row & string)[];
  rows: Row[];
}

/** Builds a table whose columns are checked against the row type. */
function table<Row extends Record<string, Cell>>(columns: readonly (keyof Row & string)[], rows: Row[]): Table<Row> {
  return { columns, rows };
}

// Summary ---------------------------------------------------------------------------------------

export type CohortCsatRow = { cohort: CohortOrAll; ended: number } & CsatFigure;

export type SummaryRow = {
  metric: 'csat' | 'containment' | 'response_rate' | 'handoff_rate';
  cohort: CohortOrAll;
  count: number;
  total: number;
  rate: number | null;
  low: number | null;
  high: number | null;
};

export interface CohortComparison extends Difference<Cohort, Cohort> {
  a: Cohort;
  b: Cohort;
}

export interface Summary extends Table<SummaryRow> {
  ended: number;
  answered: number;
  overall: CsatFigure;
  /** One row per cohort, then `all`. */
  cohorts: CohortCsatRow[];
  containment: Share & { definition: string };
  responseRates: ResponseRateRow[];
  handoffRate: Share & { definition: string };
  comparisons: CohortComparison[];
  definitions: { csat: string; differenceRule: string };
}

function cohortCsatRows(records: readonly SurveyRecord[]): CohortCsatRow[] {
  return [...COHORTS, 'all' as const].map((cohort) => {
    const members = records.filter(byCohort(cohort));
    return { cohort, ended: members.length, ...csatFigure(members) };
  });
}

export function summarize(records: readonly SurveyRecord[]): Summary {
  const cohorts = cohortCsatRows(records);
  const overall = csatFigure(records);
  const containment = share(records.filter((r) => r.handledBy === 'bot').length, records.length);
  const handoff = share(records.filter((r) => r.handoffReason !== null).length, records.length);
  const responses = responseRates(records).rows;
  const comparisons: CohortComparison[] = [];
  for (const [a, b] of [['bot', 'bot_then_agent'], ['bot', 'agent'], ['bot_then_agent', 'agent']] as const) {
    const fa = cohorts.find((row) => row.cohort === a)!;
    const fb = cohorts.find((row) => row.cohort === b)!;
    comparisons.push({ a, b, ...compareCsat(fa, fb, { a, b }) });
  }
  const rows: SummaryRow[] = [
    ...cohorts.map((row): SummaryRow => ({ metric: 'csat', cohort: row.cohort, count: row.satisfied, total: row.n, rate: row.csat, low: row.low, high: row.high })),
    { metric: 'containment', cohort: 'all', ...shareCells(containment) },
    ...responses.map((row): SummaryRow => ({ metric: 'response_rate', cohort: row.cohort, count: row.answered, total: row.ended, rate: row.rate, low: row.low, high: row.high })),
    { metric: 'handoff_rate', cohort: 'all', ...shareCells(handoff) },
  ];
  return {
    ...table<SummaryRow>(['metric', 'cohort', 'count', 'total', 'rate', 'low', 'high'], rows),
    ended: records.length,
    answered: overall.n,
    overall,
    cohorts,
    containment: { ...containment, definition: CONTAINMENT_DEFINITION },
    responseRates: responses,
    handoffRate: { ...handoff, definition: HANDOFF_RATE_DEFINITION },
    comparisons,
    definitions: { csat: CSAT_DEFINITION, differenceRule: DIFFERENCE_RULE },
  };
}

function shareCells(s: Share): Pick<SummaryRow, 'count' | 'total' | 'rate' | 'low' | 'high'> {
  return { count: s.count, total: s.total, rate: s.rate, low: s.low, high: s.high };
}

// By day ----------------------------------------------------------------------------------------

export type DayRow = { date: string; cohort: CohortOrAll; ended: number } & CsatFigure;

const DAY_MS = 24 * 60 * 60 * 1000;
/** More days than this are not filled in one by one (only days with conversations are listed). */
const MAX_FILLED_DAYS = 3660;

/**
 * CSAT per UTC day of endedAt and cohort (and `all`). Every day from the first to the last
 * conversation is listed, empty ones with n = 0, so a chart's time axis has no jumps.
 */
export function csatByDay(records: readonly SurveyRecord[]): Table<DayRow> {
  const groups = groupBy(records, dayOf);
  let days = [...groups.keys()].sort();
  const first = days[0];
  const last = days.at(-1);
  if (first && last) {
    const span = (Date.parse(last) - Date.parse(first)) / DAY_MS;
    if (span <= MAX_FILLED_DAYS) {
      days = [];
      for (let t = Date.parse(first); t <= Date.parse(last); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
    }
  }
  const rows: DayRow[] = [];
  for (const date of days) {
    const members = groups.get(date) ?? [];
    for (const cohort of [...COHORTS, 'all' as const]) {
      const inCohort = members.filter(byCohort(cohort));
      rows.push({ date, cohort, ended: inCohort.length, ...csatFigure(inCohort) });
    }
  }
  return table<DayRow>(['date', 'cohort', 'ended', 'n', 'satisfied', 'csat', 'low', 'high'], rows);
}

// By intent -------------------------------------------------------------------------------------

/**
 * One row per intent: every conversation, the bot-resolved ones (`bot_`), and the ones a
 * person served (`agent_`: handed off or agent-only), with the bot-vs-agent difference flag.
 */
export type IntentRow = {
  intent: string | null;
  ended: number;
  n: number;
  csat: number | null;
  low: number | null;
  high: number | null;
  bot_n: number;
  bot_csat: number | null;
  bot_low: number | null;
  bot_high: number | null;
  agent_n: number;
  agent_csat: number | null;
  agent_low: number | null;
  agent_high: number | null;
  differs: boolean;
  higher: 'bot' | 'agent' | null;
};

export function csatByIntent(records: readonly SurveyRecord[]): Table<IntentRow> {
  const rows: IntentRow[] = [];
  for (const [intent, members] of groupBy(records, intentOf)) {
    const all = csatFigure(members);
    const bot = csatFigure(members.filter((r) => r.handledBy === 'bot'));
    const agent = csatFigure(members.filter((r) => r.handledBy !== 'bot'));
    rows.push({
      intent,
      ended: members.length,
      n: all.n,
      csat: all.csat,
      low: all.low,
      high: all.high,
      bot_n: bot.n,
      bot_csat: bot.csat,
      bot_low: bot.low,
      bot_high: bot.high,
      agent_n: agent.n,
      agent_csat: agent.csat,
      agent_low: agent.low,
      agent_high: agent.high,
      ...compareCsat(bot, agent, { a: 'bot', b: 'agent' }),
    });
  }
  rows.sort((x, y) => y.n - x.n || y.ended - x.ended || String(x.intent ?? '~').localeCompare(String(y.intent ?? '~')));
  return table<IntentRow>(
    ['intent', 'ended', 'n', 'csat', 'low', 'high', 'bot_n', 'bot_csat', 'bot_low', 'bot_high', 'agent_n', 'agent_csat', 'agent_low', 'agent_high', 'differs', 'higher'],
    rows,
  );
}

// By agent --------------------------------------------------------------------------------------

export type AgentRow = { agentId: string; agentName: string; ended: number } & CsatFigure;

/** CSAT per agent (the last agent who held the conversation); bot-only conversations are left out. */
export function csatByAgent(records: readonly SurveyRecord[], names: AgentNames = () => undefined): Table<AgentRow> {
  const rows: AgentRow[] = [];
  for (const [agentId, members] of groupBy(records, agentOf)) {
    if (agentId === null) continue;
    rows.push({ agentId, agentName: names(agentId) ?? agentId, ended: members.length, ...csatFigure(members) });
  }
  rows.sort((x, y) => y.n - x.n || y.ended - x.ended || x.agentName.localeCompare(y.agentName));
  return table<AgentRow>(['agentId', 'agentName', 'ended', 'n', 'satisfied', 'csat', 'low', 'high'], rows);
}

// By language -----------------------------------------------------------------------------------

export type LanguageRow = { language: string; ended: number } & CsatFigure;

export function csatByLanguage(records: readonly SurveyRecord[]): Table<LanguageRow> {
  const rows: LanguageRow[] = [];
  for (const [language, members] of groupBy(records, (r) => r.language)) rows.push({ language, ended: members.length, ...csatFigure(members) });
  rows.sort((x, y) => y.ended - x.ended || x.language.localeCompare(y.language));
  return table<LanguageRow>(['language', 'ended', 'n', 'satisfied', 'csat', 'low', 'high'], rows);
}

// Handoffs --------------------------------------------------------------------------------------

export type HandoffRow = { reason: string; count: number; total: number; rate: number | null; low: number | null; high: number | null };

/** Handoff rate per reason over all ended conversations; the last row (`all`) is any reason. */
export function handoffRates(records: readonly SurveyRecord[]): Table<HandoffRow> & { definition: string } {
  const handedOff = records.filter((r) => r.handoffReason !== null);
  const rows: HandoffRow[] = [];
  for (const [reason, members] of groupBy(handedOff, (r) => r.handoffReason as string)) rows.push({ reason, ...share(members.length, records.length) });
  rows.sort((x, y) => y.count - x.count || x.reason.localeCompare(y.reason));
  rows.push({ reason: 'all', ...share(handedOff.length, records.length) });
  return { ...table<HandoffRow>(['reason', 'count', 'total', 'rate', 'low', 'high'], rows), definition: HANDOFF_RATE_DEFINITION };
}

// Response rates --------------------------------------------------------------------------------

export type ResponseRateRow = { cohort: CohortOrAll; ended: number; answered: number; rate: number | null; low: number | null; high: number | null };

export function responseRates(records: readonly SurveyRecord[]): Table<ResponseRateRow> & { definition: string } {
  const rows = [...COHORTS, 'all' as const].map((cohort): ResponseRateRow => {
    const members = records.filter(byCohort(cohort));
    const s = share(members.filter((r) => r.rating !== null).length, members.length);
    return { cohort, ended: s.total, answered: s.count, rate: s.rate, low: s.low, high: s.high };
  });
  return { ...table<ResponseRateRow>(['cohort', 'ended', 'answered', 'rate', 'low', 'high'], rows), definition: RESPONSE_RATE_DEFINITION };
}

// Comments --------------------------------------------------------------------------------------

export interface CommentFilter {
  cohort?: Cohort | undefined;
  intent?: string | undefined;
  /** An agent id (the last agent who held the conversation). */
  agent?: string | undefined;
  language?: string | undefined;
  minRating?: number | undefined;
  maxRating?: number | undefined;
  /** Case-insensitive text the comment contains. */
  q?: string | undefined;
}

export type CommentRow = {
  date: string;
  answeredAt: string | null;
  conversationId: string;
  rating: number;
  comment: string;
  cohort: Cohort;
  intent: string | null;
  agentId: string | null;
  agentName: string | null;
  language: string;
};

/** Answered surveys with a comment, newest first, filtered. */
export function listComments(records: readonly SurveyRecord[], filter: CommentFilter = {}, names: AgentNames = () => undefined): Table<CommentRow> {
  const needle = filter.q?.trim().toLocaleLowerCase();
  const rows: CommentRow[] = [];
  for (const record of records) {
    const comment = record.comment?.trim();
    if (record.rating === null || !comment) continue;
    if (filter.cohort !== undefined && record.handledBy !== filter.cohort) continue;
    if (filter.intent !== undefined && intentOf(record) !== filter.intent) continue;
    if (filter.agent !== undefined && agentOf(record) !== filter.agent) continue;
    if (filter.language !== undefined && record.language !== filter.language) continue;
    if (filter.minRating !== undefined && record.rating < filter.minRating) continue;
    if (filter.maxRating !== undefined && record.rating > filter.maxRating) continue;
    if (needle && !comment.toLocaleLowerCase().includes(needle)) continue;
    const agentId = agentOf(record);
    rows.push({
      date: dayOf(record),
      answeredAt: record.answeredAt,
      conversationId: record.conversationId,
      rating: record.rating,
      comment,
      cohort: record.handledBy,
      intent: intentOf(record),
      agentId,
      agentName: agentId === null ? null : (names(agentId) ?? agentId),
      language: record.language,
    });
  }
  rows.sort((x, y) => (y.answeredAt ?? y.date).localeCompare(x.answeredAt ?? x.date) || x.conversationId.localeCompare(y.conversationId));
  return table<CommentRow>(['date', 'answeredAt', 'conversationId', 'rating', 'comment', 'cohort', 'intent', 'agentId', 'agentName', 'language'], rows);
}

// CSV -------------------------------------------------------------------------------------------

/** Characters that make a spreadsheet read a cell as a formula (tab and CR are listed too). */
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value: Cell | undefined): string {
  if (value === null || value === undefined) return '';
  // Numbers and booleans are written as they are: they cannot carry a formula.
  let text = typeof value === 'string' ? value : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * RFC 4180 CSV: a header line of the column names, then one line per row, CRLF line ends;
 * cells with a comma, a quote or a line break are quoted (quotes doubled). Text cells that
 * start with = + - @ (or tab, CR) get a leading single quote so spreadsheets never run them.
 */
export function toCsv<Row extends Record<string, Cell>>(rows: readonly Row[], columns: readonly (keyof Row & string)[]): string {
  const lines = [columns.map((column) => csvCell(column)).join(',')];
  for (const row of rows) lines.push(columns.map((column) => csvCell(row[column])).join(','));
  return lines.join('\r\n') + '\r\n';
}
