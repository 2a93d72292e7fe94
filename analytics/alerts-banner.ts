import { el } from '../console/dom.js';

interface AlertView {
  id: string;
  scope: { kind: 'service' | 'bot' | 'intent'; intent?: string };
  csat: number;
  n: number;
  below: number;
  raisedAt: string;
  status: 'active' | 'resolved';
}

function scopeLabel(alert: AlertView): string {
  if (alert.scope.kind === 'service') return 'The whole service';
  if (alert.scope.kind === 'bot') return 'The bot';
  return `Intent ${alert.scope.intent ?? ''}`;
}

/** Active CSAT alerts above the dashboard (GET /api/analytics/alerts). */
export function createAlertsBanner() {
  const element = el('section', { class: 'alerts', 'data-testid': 'alerts', 'aria-live': 'polite', hidden: '' });
  return {
    element,
    async load(): Promise<void> {
      let alerts: AlertView[] = [];
      try {
        const response = await fetch('/api/analytics/alerts', { credentials: 'same-origin', headers: { accept: 'application/json' } });
        if (!response.ok) return;
        const body = (await response.json()) as { alerts?: AlertView[] };
        alerts = Array.isArray(body.alerts) ? body.alerts.filter((a) => a.status === 'active') : [];
      } catch {
        return;
      }
      element.hidden = alerts.length === 0;
      element.replaceChildren(
        ...alerts.map((alert) =>
          el(
            'p',
            { class: 'alert', role: 'alert', 'data-testid': 'alert', 'data-scope': alert.scope.kind },
            el('strong', {}, `${scopeLabel(alert)}: CSAT ${(alert.csat * 100).toFixed(0)}%`),
            ` over ${alert.n} answers, below the alert level of ${(alert.below * 100).toFixed(0)}% (since ${alert.raisedAt.slice(0, 16).replace('T', ' ')} UTC).`,
          ),
        ),
      );
    },
  };
}
