/**
 * An agent's own CSAT against the team's: pure figures over SurveyRecord[] for one time range.
 * "Mine" are the conversations the agent was the last person to hold (`agentOf`); "the team"
 * is every conversation a person took part in (handledBy is not `bot`), the agent's included.
 */
import {
  compareCsat,
  csatFigure,
  CSAT_DEFINITION,
  dayOf,
  DIFFERENCE_RULE,
  inRange,
  agentOf,
  listComments,
  type CsatFigure,
  type Difference,
} from './csat-analytics.js';
import type { SurveyRecord } from './csat.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** Without a range, the page covers the last 30 UTC days (today included). */
export const DEFAULT_DAYS = 30;
/** A range may span at most this many days (every day gets a trend row). */
export const MAX_RANGE_DAYS = 366;
/** The most comments one answer carries (newest first). */
export const MAX_MY_COMMENTS = 100;

export const TEAM_DEFINITION = 'Every conversation a person took part in (handed off or agent-only), yours included.';
export const MINE_DEFINITION = 'Conversations you were the last person to hold.';

/** A half-open range on endedAt: from <= endedAt < to; both ends are set. */
export interface ClosedRange {
  from: Date;
  to: Date;
}

export type DayCsat = { date: string } & CsatFigure;

export type MyComment = {
  date: string;
  answeredAt: string | null;
  rating: number;
  comment: string;
  intent: string | null;
};

export interface AgentCsatReport {
  agentId: string;
  range: { from: string; to: string };
  me: CsatFigure;
  team: CsatFigure;
  /** Only when the two 95% intervals do not overlap (`compareCsat`). */
  difference: Difference<'me', 'team'>;
  /** One row per UTC day of the range, oldest first; days without ratings have n = 0. */
  trend: { me: DayCsat[]; team: DayCsat[] };
  /** The agent's own comments, newest first, at most MAX_MY_COMMENTS. */
  comments: MyComment[];
  /** How many comments the range holds (may exceed `comments.length`). */
  commentsTotal: number;
  definitions: { csat: string; differenceRule: string; me: string; team: string };
}

/** Midnight UTC of the day `date` falls in. */
export function startOfUtcDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
}

/**
 * The range a request covers: missing ends are filled so that the span is DEFAULT_DAYS days,
 * ending with today (UTC) when `to` is missing.
 */
export function resolveRange(range: { from?: Date | undefined; to?: Date | undefined }, now: Date): ClosedRange {
  const to = range.to ?? new Date(startOfUtcDay(now).getTime() + DAY_MS);
  const from = range.from ?? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
  return { from, to };
}

/** Every UTC date (YYYY-MM-DD) the range touches, oldest first. */
export function daysOf(range: ClosedRange): string[] {
  const days: string[] = [];
  const last = range.to.getTime() - 1;
  for (let t = startOfUtcDay(range.from).getTime(); t <= last; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

function trendOf(records: readonly SurveyRecord[], days: readonly string[]): DayCsat[] {
  const byDay = new Map<string, SurveyRecord[]>();
  for (const record of records) {
    const day = dayOf(record);
    const list = byDay.get(day);
    if (list) list.push(record);
    else byDay.set(day, [record]);
  }
  return days.map((date) => ({ date, ...csatFigure(byDay.get(date) ?? []) }));
}

/** The agent's CSAT, the team's, the difference flag, both trends by day and the agent's comments. */
export function agentCsat(records: readonly SurveyRecord[], agentId: string, range: ClosedRange): AgentCsatReport {
  const team = inRange(records, range).filter((record) => record.handledBy !== 'bot');
  const mine = team.filter((record) => agentOf(record) === agentId);
  const me = csatFigure(mine);
  const teamFigure = csatFigure(team);
  const days = daysOf(range);
  const comments = listComments(mine).rows;
  return {
    agentId,
    range: { from: range.from.toISOString(), to: range.to.toISOString() },
    me,
    team: teamFigure,
    difference: compareCsat(me, teamFigure, { a: 'me', b: 'team' }),
    trend: { me: trendOf(mine, days), team: trendOf(team, days) },
    comments: comments.slice(0, MAX_MY_COMMENTS).map((row) => ({ date: row.date, answeredAt: row.answeredAt, rating: row.rating, comment: row.comment, intent: row.intent })),
    commentsTotal: comments.length,
    definitions: { csat: CSAT_DEFINITION, differenceRule: DIFFERENCE_RULE, me: MINE_DEFINITION, team: TEAM_DEFINITION },
  };
}
