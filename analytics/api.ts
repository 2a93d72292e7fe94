/**
 * The analytics API over HTTP (same origin, session cookie). Reports come back as our own
 * server's JSON; error bodies are parsed so the page can tell "sign in" from "not allowed".
 */
import * as z from 'zod/mini';
import type { AgentRow, CommentRow, DayRow, HandoffRow, IntentRow, LanguageRow, ResponseRateRow, Summary } from '../server/domain/csat-analytics.js';

interface Envelope {
  report: string;
  range: { from: string | null; to: string | null };
  columns: string[];
}

export interface Reports {
  summary: Envelope & Summary;
  'by-day': Envelope & { rows: DayRow[] };
  'by-intent': Envelope & { rows: IntentRow[] };
  'by-agent': Envelope & { rows: AgentRow[] };
  'by-language': Envelope & { rows: LanguageRow[] };
  handoffs: Envelope & { rows: HandoffRow[]; definition: string };
  'response-rates': Envelope & { rows: ResponseRateRow[]; definition: string };
  comments: Envelope & { rows: CommentRow[]; total: number; limit: number };
}
export type ReportName = keyof Reports;

export type ApiResult<T> = { ok: true; data: T } | { ok: false; status: number; code: string; message: string };

const errorBodySchema = z.object({ code: z.string(), message: z.optional(z.string()) });
const envelopeSchema = z.object({ report: z.string(), columns: z.array(z.string()), rows: z.array(z.record(z.string(), z.unknown())) });

export type Params = Record<string, string | undefined>;

/** The URL of a report (JSON, or CSV with `.csv`), empty parameters left out. */
export function reportUrl(name: ReportName, params: Params, csv = false): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const query = search.toString();
  return `/api/analytics/${name}${csv ? '.csv' : ''}${query ? `?${query}` : ''}`;
}

export async function getReport<N extends ReportName>(name: N, params: Params, fetchImpl: typeof fetch = (...args) => fetch(...args)): Promise<ApiResult<Reports[N]>> {
  let response: Response;
  try {
    response = await fetchImpl(reportUrl(name, params), { credentials: 'same-origin', headers: { accept: 'application/json' } });
  } catch {
    return { ok: false, status: 0, code: 'NETWORK', message: 'The server cannot be reached.' };
  }
  let json: unknown = null;
  try {
    json = await response.json();
  } catch {
    // judged by the status below
  }
  if (response.ok) {
    const envelope = z.safeParse(envelopeSchema, json);
    if (envelope.success && envelope.data.report === name) return { ok: true, data: json as Reports[N] };
    return { ok: false, status: response.status, code: 'BAD_RESPONSE', message: 'The server answered in an unexpected way.' };
  }
  const error = z.safeParse(errorBodySchema, json);
  return {
    ok: false,
    status: response.status,
    code: error.success ? error.data.code : `HTTP_${response.status}`,
    message: (error.success && error.data.message) || `The server answered ${response.status}.`,
  };
}
