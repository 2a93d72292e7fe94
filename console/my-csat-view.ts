/**
 * The agent's own CSAT page: my CSAT against the team's (with n and 95% intervals), whether
 * they differ, both by day, and the comments listeners left on my chats. Everything is text.
 */
import * as z from 'zod/mini';
import { button, el } from './dom.js';
import { L } from './labels.js';

const figureShape = { n: z.number(), satisfied: z.number(), csat: z.nullable(z.number()), low: z.nullable(z.number()), high: z.nullable(z.number()) };
const figureSchema = z.object(figureShape);
const daySchema = z.object({ date: z.string(), ...figureShape });

/** The answer of GET /api/agent/me/csat, as far as the page uses it. */
const reportSchema = z.object({
  range: z.object({ from: z.string(), to: z.string() }),
  me: figureSchema,
  team: figureSchema,
  difference: z.object({ differs: z.boolean(), higher: z.nullable(z.enum(['me', 'team'])) }),
  trend: z.object({ me: z.array(daySchema), team: z.array(daySchema) }),
  comments: z.array(z.object({ date: z.string(), rating: z.number(), comment: z.string(), intent: z.nullable(z.string()) })),
  commentsTotal: z.number(),
});
export type MyCsatReport = z.infer<typeof reportSchema>;
type Figure = z.infer<typeof figureSchema>;

export type MyCsatResult = { ok: true; report: MyCsatReport } | { ok: false; code: string; message: string };

export interface MyCsatApi {
  load(): Promise<MyCsatResult>;
}

const errorBodySchema = z.object({ code: z.string(), message: z.optional(z.string()) });

/** Same origin; the session cookie says who "me" is. */
export function createMyCsatApi(base = '', fetchImpl: typeof fetch = (...args) => fetch(...args)): MyCsatApi {
  return {
    async load() {
      let response: Response;
      try {
        response = await fetchImpl(`${base}/api/agent/me/csat`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      } catch {
        return { ok: false, code: 'NETWORK', message: 'The server cannot be reached.' };
      }
      let json: unknown = null;
      try {
        json = await response.json();
      } catch {
        // judged by the status below
      }
      if (response.ok) {
        const parsed = z.safeParse(reportSchema, json);
        return parsed.success ? { ok: true, report: parsed.data } : { ok: false, code: 'BAD_RESPONSE', message: 'The server answered in an unexpected way.' };
      }
      const error = z.safeParse(errorBodySchema, json);
      return {
        ok: false,
        code: error.success ? error.data.code : response.status === 401 ? 'UNAUTHORIZED' : `HTTP_${response.status}`,
        message: (error.success && error.data.message) || `The server answered ${response.status}.`,
      };
    },
  };
}

function percent(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 100)}%`;
}

/** The last UTC day a half-open range [from, to) covers. */
function lastDay(to: string): string {
  const end = Date.parse(to) - 1;
  return Number.isNaN(end) ? to : new Date(end).toISOString().slice(0, 10);
}

export class MyCsatView {
  readonly element: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly status: HTMLElement;
  private readonly period: HTMLElement;
  private readonly meFigure: HTMLElement;
  private readonly teamFigure: HTMLElement;
  private readonly difference: HTMLElement;
  private readonly trendBody: HTMLTableSectionElement;
  private readonly trendTable: HTMLTableElement;
  private readonly trendEmpty: HTMLElement;
  private readonly commentsNote: HTMLElement;
  private readonly comments: HTMLUListElement;
  private readonly content: HTMLElement;

  constructor(actions: { refresh(): void; back(): void }) {
    this.heading = el('h2', { id: 'my-csat-title', tabindex: '-1' }, L.myCsat.title);
    this.status = el('p', { class: 'muted', role: 'status', 'data-testid': 'my-csat-status' });
    this.period = el('p', { class: 'muted', 'data-testid': 'my-csat-period' });
    this.meFigure = el('div', { class: 'csat-figure mine', 'data-testid': 'my-csat-figure' });
    this.teamFigure = el('div', { class: 'csat-figure', 'data-testid': 'team-csat-figure' });
    this.difference = el('p', { class: 'csat-difference', 'data-testid': 'my-csat-difference' });
    this.trendBody = el('tbody', {});
    this.trendTable = el(
      'table',
      { class: 'csat-trend', 'data-testid': 'my-csat-trend' },
      el('caption', { class: 'sr-only' }, L.myCsat.trendCaption),
      el(
        'thead',
        {},
        el('tr', {}, el('th', { scope: 'col' }, L.myCsat.date), el('th', { scope: 'col' }, L.myCsat.me), el('th', { scope: 'col' }, 'n'), el('th', { scope: 'col' }, L.myCsat.team), el('th', { scope: 'col' }, 'n')),
      ),
      this.trendBody,
    );
    this.trendEmpty = el('p', { class: 'muted', 'data-testid': 'my-csat-trend-empty' }, L.myCsat.trendEmpty);
    this.commentsNote = el('p', { class: 'muted' });
    this.comments = el('ul', { class: 'csat-comments', 'aria-labelledby': 'my-csat-comments-title', 'data-testid': 'my-csat-comments' });
    this.content = el(
      'div',
      { class: 'csat-content', hidden: '' },
      this.period,
      el('div', { class: 'csat-figures' }, this.meFigure, this.teamFigure),
      this.difference,
      el('h3', {}, L.myCsat.trend),
      this.trendEmpty,
      this.trendTable,
      el('h3', { id: 'my-csat-comments-title' }, L.myCsat.comments),
      this.commentsNote,
      this.comments,
    );
    this.element = el(
      'section',
      { class: 'my-csat', 'aria-labelledby': 'my-csat-title', 'data-testid': 'my-csat-view', hidden: '' },
      el('div', { class: 'section-head' }, this.heading, el('span', { class: 'spacer' }), button(L.refresh, { 'data-testid': 'my-csat-refresh' }, () => actions.refresh()), button(L.backToChats, {}, () => actions.back())),
      this.status,
      this.content,
    );
  }

  focus(): void {
    this.heading.focus();
  }

  loading(): void {
    this.status.textContent = L.myCsat.loading;
    this.element.setAttribute('aria-busy', 'true');
  }

  failed(text: string): void {
    this.element.removeAttribute('aria-busy');
    this.status.textContent = `${L.myCsat.failed} ${text}`;
  }

  /** Forgets what was shown (on sign-out). */
  clear(): void {
    this.status.textContent = '';
    this.content.hidden = true;
    this.element.removeAttribute('aria-busy');
  }

  render(report: MyCsatReport, intentLabel: (intent: string) => string): void {
    this.element.removeAttribute('aria-busy');
    this.status.textContent = '';
    this.content.hidden = false;
    this.period.textContent = L.myCsat.period(report.range.from.slice(0, 10), lastDay(report.range.to));
    this.renderFigure(this.meFigure, L.myCsat.me, L.myCsat.meHint, report.me);
    this.renderFigure(this.teamFigure, L.myCsat.team, L.myCsat.teamHint, report.team);
    const { differs, higher } = report.difference;
    this.difference.dataset.differs = String(differs);
    this.difference.textContent =
      report.me.n === 0 || report.team.n === 0 ? L.myCsat.tooFew : differs ? (higher === 'me' ? L.myCsat.higher : L.myCsat.lower) : L.myCsat.same;
    this.renderTrend(report);
    this.renderComments(report, intentLabel);
  }

  private renderFigure(target: HTMLElement, title: string, hint: string, figure: Figure): void {
    target.dataset.n = String(figure.n);
    const parts: Node[] = [
      el('h3', {}, title),
      el('p', { class: 'csat-value', 'data-testid': 'csat-value' }, figure.n === 0 ? L.myCsat.noRatings : percent(figure.csat)),
      el('p', { class: 'csat-n', 'data-testid': 'csat-n' }, L.myCsat.rated(figure.n, figure.satisfied)),
    ];
    if (figure.low !== null && figure.high !== null) parts.push(el('p', { class: 'csat-interval', 'data-testid': 'csat-interval' }, L.myCsat.interval(percent(figure.low), percent(figure.high))));
    parts.push(el('p', { class: 'hint' }, hint));
    target.replaceChildren(...parts);
  }

  private renderTrend(report: MyCsatReport): void {
    const mine = new Map(report.trend.me.map((day) => [day.date, day]));
    const rows = report.trend.team.filter((day) => day.n > 0 || (mine.get(day.date)?.n ?? 0) > 0);
    this.trendEmpty.hidden = rows.length > 0;
    this.trendTable.hidden = rows.length === 0;
    this.trendBody.replaceChildren(
      ...rows.map((team) => {
        const me = mine.get(team.date);
        return el(
          'tr',
          { 'data-testid': 'my-csat-day', 'data-date': team.date },
          el('th', { scope: 'row' }, team.date),
          this.barCell(me?.n ? me.csat : null, 'mine'),
          el('td', { class: 'num' }, String(me?.n ?? 0)),
          this.barCell(team.n ? team.csat : null, 'team'),
          el('td', { class: 'num' }, String(team.n)),
        );
      }),
    );
  }

  /** The percentage as text, with a bar beside it for the eye (the text carries the value). */
  private barCell(csat: number | null, kind: 'mine' | 'team'): HTMLTableCellElement {
    const bar = el('span', { class: `bar ${kind}`, 'aria-hidden': 'true' });
    bar.style.width = `${Math.round((csat ?? 0) * 100)}%`;
    return el('td', { class: 'bar-cell' }, el('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar), el('span', { class: 'num' }, percent(csat)));
  }

  private renderComments(report: MyCsatReport, intentLabel: (intent: string) => string): void {
    const shown = report.comments.length;
    this.commentsNote.textContent = shown === 0 ? L.myCsat.commentsEmpty : L.myCsat.commentsShown(shown, report.commentsTotal);
    this.comments.replaceChildren(
      ...report.comments.map((item) =>
        el(
          'li',
          { class: 'csat-comment', 'data-testid': 'my-csat-comment', 'data-rating': String(item.rating) },
          el(
            'div',
            { class: 'left-head' },
            el('span', { class: `badge rating${item.rating >= 4 ? ' good' : item.rating <= 2 ? ' poor' : ''}`, 'data-testid': 'my-csat-comment-rating' }, L.myCsat.rating(item.rating)),
            el('time', { datetime: item.date }, item.date),
            item.intent ? el('span', { class: 'muted' }, intentLabel(item.intent)) : null,
          ),
          el('p', { class: 'left-text', 'data-testid': 'my-csat-comment-text' }, item.comment),
        ),
      ),
    );
  }
}
