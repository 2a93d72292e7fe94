/**
 * The analytics API over HTTP (same origin, session cookie). Reports come back as our own
 * server's JSON; error bodies are parsed so the page can tell "sign in" from "not allowed".
 */
import * as z from 'zod/mini';
import type { AgentRow, CommentRow, DayRow, HandoffRow, IntentRow, LanguageRow, ResponseRateRow, Summary } from '../server/domain/csat-analytics.js';
import type { Candidate, ModelVersion, Proposal, TuningPolicy } from '../server/domain/tuning-service.js';

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
  const answer = await fetchJson(fetchImpl, reportUrl(name, params), { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if ('network' in answer) return answer.network;
  const { response, json } = answer;
  if (response.ok) {
    const envelope = z.safeParse(envelopeSchema, json);
    if (envelope.success && envelope.data.report === name) return { ok: true, data: json as Reports[N] };
    return { ok: false, status: response.status, code: 'BAD_RESPONSE', message: 'The server answered in an unexpected way.' };
  }
  return failureOf(response.status, json);
}

/** One request and its JSON body (null when the body is not JSON: the status decides then). */
async function fetchJson(fetchImpl: typeof fetch, url: string, init: RequestInit): Promise<{ response: Response; json: unknown } | { network: Extract<ApiResult<never>, { ok: false }> }> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch {
    return { network: { ok: false, status: 0, code: 'NETWORK', message: 'The server cannot be reached.' } };
  }
  let json: unknown = null;
  try {
    json = await response.json();
  } catch {
    // judged by the status
  }
  return { response, json };
}

/** An error answer as the page shows it: the server's code and sentence when it sent them. */
function failureOf(status: number, json: unknown): Extract<ApiResult<never>, { ok: false }> {
  const error = z.safeParse(errorBodySchema, json);
  return {
    ok: false,
    status,
    code: error.success ? error.data.code : `HTTP_${status}`,
    message: (error.success && error.data.message) || `The server answered ${status}.`,
  };
}

// ---------------------------------------------------------------------------------------------
// The tuning API (/api/tuning/*, analysts and admins).

export type { Candidate, ModelVersion, Proposal, TuningPolicy };
export interface TuningLogEntry {
  at: string;
  by: string;
  action: string;
  detail: unknown;
}
export interface ModelPointer {
  current: string | null;
  history: string[];
}

/** A JSON request to our own API; `key` is the field a successful answer must carry. */
async function requestJson<T>(method: 'GET' | 'POST', path: string, key: string, body: unknown, fetchImpl: typeof fetch): Promise<ApiResult<T>> {
  const answer = await fetchJson(fetchImpl, path, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if ('network' in answer) return answer.network;
  const { response, json } = answer;
  if (!response.ok) return failureOf(response.status, json);
  if (json !== null && typeof json === 'object' && key in json) return { ok: true, data: json as T };
  return { ok: false, status: response.status, code: 'BAD_RESPONSE', message: 'The server answered in an unexpected way.' };
}

/** The calls the tuning panel makes; every POST is logged by the server with who and when. */
export function tuningApi(fetchImpl: typeof fetch = (...args) => fetch(...args)) {
  const get = <T>(path: string, key: string) => requestJson<T>('GET', path, key, undefined, fetchImpl);
  const post = <T>(path: string, key: string, body: unknown = {}) => requestJson<T>('POST', path, key, body, fetchImpl);
  const id = encodeURIComponent;
  return {
    policy: () => get<TuningPolicy>('/api/tuning/policy', 'intents'),
    proposals: () => get<{ proposals: Proposal[] }>('/api/tuning/proposals', 'proposals'),
    decide: (proposalId: string, approve: boolean) => post<{ proposal: Proposal }>(`/api/tuning/proposals/${id(proposalId)}`, 'proposal', { approve }),
    candidates: () => get<{ candidates: Candidate[] }>('/api/tuning/candidates', 'candidates'),
    review: (candidateId: string, action: 'accept' | 'reject' | 'relabel', intent?: string) =>
      post<{ candidate: Candidate }>(`/api/tuning/candidates/${id(candidateId)}`, 'candidate', intent === undefined ? { action } : { action, intent }),
    models: () => get<{ models: ModelVersion[]; pointer: ModelPointer }>('/api/tuning/models', 'models'),
    train: () => post<{ model: ModelVersion }>('/api/tuning/models', 'model'),
    promote: (version: string) => post<{ model: ModelVersion }>(`/api/tuning/models/${id(version)}/promote`, 'model'),
    rollback: () => post<{ current: string }>('/api/tuning/rollback', 'current'),
    log: () => get<{ log: TuningLogEntry[] }>('/api/tuning/log', 'log'),
    run: () => post<{ proposals: Proposal[]; candidates: Candidate[] }>('/api/tuning/run', 'proposals'),
  };
}
export type TuningApi = ReturnType<typeof tuningApi>;
