import { csatFigure, intentOf } from './csat-analytics.js';
import type { SurveyRecord } from './csat.js';
import type { ChatStore } from '../store/chat-store.js';

export interface AlertRules {
  /** An alert is raised when CSAT over the window falls below this (0..1)... */
  below: number;
  /** ...with at least this many answered surveys in the window. */
  minResponses: number;
  windowMs: number;
}

export type AlertScope = { kind: 'service' } | { kind: 'bot' } | { kind: 'intent'; intent: string };

export interface CsatAlert {
  id: string;
  scope: AlertScope;
  csat: number;
  n: number;
  below: number;
  windowStart: string;
  windowEnd: string;
  raisedAt: string;
  status: 'active' | 'resolved';
  resolvedAt: string | null;
}

function scopeId(scope: AlertScope): string {
  return scope.kind === 'intent' ? `intent:${scope.intent}` : scope.kind;
}

/** Which scopes are below the level over the rolling window (pure). */
export function lowCsatScopes(surveys: readonly SurveyRecord[], rules: AlertRules, now: Date): { scope: AlertScope; csat: number; n: number }[] {
  const start = now.getTime() - rules.windowMs;
  const recent = surveys.filter((s) => s.rating !== null && Date.parse(s.answeredAt ?? s.endedAt) >= start && Date.parse(s.answeredAt ?? s.endedAt) <= now.getTime());
  const groups: { scope: AlertScope; records: SurveyRecord[] }[] = [
    { scope: { kind: 'service' }, records: recent },
    { scope: { kind: 'bot' }, records: recent.filter((s) => s.handledBy === 'bot') },
  ];
  const intents = new Map<string, SurveyRecord[]>();
  for (const record of recent) {
    const intent = intentOf(record);
    if (intent) intents.set(intent, [...(intents.get(intent) ?? []), record]);
  }
  for (const [intent, records] of [...intents.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) groups.push({ scope: { kind: 'intent', intent }, records });
  return groups.flatMap(({ scope, records }) => {
    const figure = csatFigure(records);
    return figure.n >= rules.minResponses && figure.csat !== null && figure.satisfied / figure.n < rules.below ? [{ scope, csat: figure.satisfied / figure.n, n: figure.n }] : [];
  });
}

/**
 * Raises an alert when CSAT of the whole service, of the bot or of an intent falls below the
 * configured level over a rolling window (with enough responses), POSTs it to the webhook once,
 * and resolves it when the figure recovers.
 */
export function createCsatAlerts(deps: { store: ChatStore; rules: AlertRules; webhookUrl?: string; now?: () => Date; log?: (message: string, error?: unknown) => void }) {
  const { store, rules } = deps;
  const now = deps.now ?? (() => new Date());

  async function post(alert: CsatAlert): Promise<void> {
    if (!deps.webhookUrl) return;
    try {
      const response = await fetch(deps.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: alert.status === 'active' ? 'csat.alert' : 'csat.recovered', alert }),
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) deps.log?.(`alert webhook answered ${response.status}`);
    } catch (error) {
      deps.log?.('alert webhook failed', error);
    }
  }

  async function list(): Promise<CsatAlert[]> {
    return (await store.listRecords('alert')).map((r) => r.data as unknown as CsatAlert).sort((a, b) => (a.raisedAt < b.raisedAt ? 1 : -1));
  }

  async function runCheck(): Promise<CsatAlert[]> {
    const at = now();
    const low = lowCsatScopes(await store.listSurveys(), rules, at);
    const active = (await list()).filter((a) => a.status === 'active');
    const raised: CsatAlert[] = [];
    for (const { scope, csat, n } of low) {
      const id = scopeId(scope);
      const existing = active.find((a) => scopeId(a.scope) === id);
      const alert: CsatAlert = existing
        ? { ...existing, csat, n, windowStart: new Date(at.getTime() - rules.windowMs).toISOString(), windowEnd: at.toISOString() }
        : { id: `${id}@${at.toISOString()}`, scope, csat, n, below: rules.below, windowStart: new Date(at.getTime() - rules.windowMs).toISOString(), windowEnd: at.toISOString(), raisedAt: at.toISOString(), status: 'active', resolvedAt: null };
      await store.putRecord('alert', alert.id, alert as unknown as Record<string, unknown>);
      if (!existing) {
        raised.push(alert);
        await post(alert);
      }
    }
    for (const alert of active) {
      if (low.some((l) => scopeId(l.scope) === scopeId(alert.scope))) continue;
      const resolved: CsatAlert = { ...alert, status: 'resolved', resolvedAt: at.toISOString() };
      await store.putRecord('alert', alert.id, resolved as unknown as Record<string, unknown>);
      await post(resolved);
    }
    return raised;
  }

  let running: Promise<CsatAlert[]> | null = null;
  return {
    list,
    /**
     * One check: new alerts are stored and posted; recovered ones are resolved (and posted). A call
     * while a check is still running (a slow webhook) joins it: two checks reading the active alerts
     * before either had stored its own would raise the same scope twice.
     */
    check(): Promise<CsatAlert[]> {
      running ??= runCheck().finally(() => (running = null));
      return running;
    },
  };
}

export type CsatAlerts = ReturnType<typeof createCsatAlerts>;
