/**
 * The page's states: loading, sign-in (when the API answers 401), "your role cannot open
 * analytics" (403, or a signed-in account of another role), and the dashboard itself.
 */
import { el, button } from '../console/dom.js';
import type { SessionApi } from '../console/session-api.js';
import { getReport, type ApiResult, type ReportName } from './api.js';
import { Dashboard, type DashboardData } from './dashboard.js';
import { L } from './labels.js';
import { signInView } from './signin-view.js';

const REPORTS: ReportName[] = ['summary', 'by-day', 'by-intent', 'by-agent', 'by-language', 'handoffs', 'response-rates', 'comments'];
const ALLOWED_ROLES = new Set(['analyst', 'admin']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface AnalyticsAppDeps {
  root: HTMLElement;
  brand: string;
  session: SessionApi;
  fetchImpl?: typeof fetch;
}

type Failure = Extract<ApiResult<unknown>, { ok: false }>;

export class AnalyticsApp {
  private dashboard: Dashboard | undefined;
  private range: { from: string; to: string };
  private who: string | null = null;

  constructor(private readonly deps: AnalyticsAppDeps) {
    const search = new URLSearchParams(location.search);
    const pick = (key: string) => {
      const value = search.get(key) ?? '';
      return DATE.test(value) ? value : '';
    };
    this.range = { from: pick('from'), to: pick('to') };
  }

  async start(): Promise<void> {
    this.deps.root.replaceChildren(el('p', { class: 'status' }, L.loading));
    await this.load();
  }

  private async load(): Promise<void> {
    this.dashboard?.showLoading();
    const params = { from: this.range.from, to: this.range.to };
    // The summary first: when it answers 401 or 403 the other reports would too.
    const first = await getReport(REPORTS[0]!, params, this.deps.fetchImpl);
    if (!first.ok) return this.fail(first);
    const results = [first, ...(await Promise.all(REPORTS.slice(1).map((name) => getReport(name, params, this.deps.fetchImpl))))];
    const failure = results.find((r): r is Failure => !r.ok);
    if (failure) return this.fail(failure);
    const data = Object.fromEntries(REPORTS.map((name, i) => [name, (results[i] as { data: unknown }).data])) as unknown as DashboardData;
    if (!this.dashboard) {
      const current = await this.deps.session.current();
      this.who = current.ok ? current.agent.displayName : null;
      this.dashboard = new Dashboard({
        brand: this.deps.brand,
        who: this.who,
        range: this.range,
        onRange: (range) => void this.setRange(range),
        onSignOut: () => void this.signOut(),
        ...(this.deps.fetchImpl ? { fetchImpl: this.deps.fetchImpl } : {}),
      });
      this.deps.root.replaceChildren(this.dashboard.element);
    }
    this.dashboard.render(data);
  }

  private async setRange(range: { from: string; to: string }): Promise<void> {
    this.range = range;
    const search = new URLSearchParams();
    if (range.from) search.set('from', range.from);
    if (range.to) search.set('to', range.to);
    history.replaceState(null, '', `${location.pathname}${search.size ? `?${search}` : ''}`);
    // The date inputs live in the top bar: rebuild it so "All time" clears them too.
    this.dashboard?.destroyCharts();
    this.dashboard = undefined;
    await this.load();
  }

  private async fail(failure: Failure): Promise<void> {
    if (failure.status === 401) return this.showSignIn(this.dashboard ? L.sessionEnded : undefined);
    if (failure.status === 403) {
      const current = await this.deps.session.current();
      return this.showForbidden(current.ok ? current.agent.role : 'current');
    }
    const message = failure.code === 'NETWORK' ? L.cannotReach : failure.message;
    if (this.dashboard) this.dashboard.showError(message);
    else this.deps.root.replaceChildren(el('p', { class: 'error', role: 'alert', 'data-testid': 'load-error' }, `${L.loadFailed} ${message}`));
  }

  private showSignIn(message?: string): void {
    this.dashboard?.destroyCharts();
    this.dashboard = undefined;
    this.deps.root.replaceChildren(
      signInView(
        this.deps.brand,
        async (email, password) => {
          const result = await this.deps.session.signIn(email, password);
          if (!result.ok) return result.code === 'NETWORK' ? L.cannotReach : result.message;
          if (!ALLOWED_ROLES.has(result.agent.role)) {
            this.showForbidden(result.agent.role);
            return null;
          }
          await this.start();
          return null;
        },
        message,
      ),
    );
  }

  private showForbidden(role: string): void {
    this.dashboard?.destroyCharts();
    this.dashboard = undefined;
    this.deps.root.replaceChildren(
      el(
        'main',
        { class: 'signin-page' },
        el(
          'section',
          { class: 'signin', 'data-testid': 'forbidden', 'aria-labelledby': 'forbidden-title' },
          el('h1', { id: 'forbidden-title' }, L.forbiddenTitle),
          el('p', { role: 'alert' }, L.forbidden(role)),
          button(L.signOut, { class: 'primary', 'data-testid': 'sign-out' }, () => void this.signOut()),
        ),
      ),
    );
  }

  private async signOut(): Promise<void> {
    await this.deps.session.signOut();
    this.showSignIn();
  }
}
