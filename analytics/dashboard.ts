/**
 * The analyst dashboard: summary cards, CSAT by cohort, over time, by intent (bot vs agent),
 * by agent, by language, handoff and response rates, and the comments with filters.
 * All data is rendered as text (createElement + textContent).
 */
import { el, button } from '../console/dom.js';
import type { AgentRow, CohortCsatRow, CohortOrAll, CommentRow, DayRow, HandoffRow, IntentRow, LanguageRow, ResponseRateRow } from '../server/domain/csat-analytics.js';
import { getReport, type Params, type Reports } from './api.js';
import { barChart, COLORS, lineChart, type AnyChart, type BarSeries } from './charts.js';
import { chartValue, intentLabel, interval, pct } from './format.js';
import { L } from './labels.js';
import { csvLink, dataTable, type Column } from './tables.js';
import { TuningPanel } from './tuning-panel.js';
import { createAlertsBanner } from './alerts-banner.js';

const COHORT_ORDER: CohortOrAll[] = ['bot', 'bot_then_agent', 'agent', 'all'];
/** The intent chart shows the intents with the most answers; the table lists them all. */
const CHART_INTENTS = 12;

export type DashboardData = Reports;

interface Section {
  element: HTMLElement;
  /** Makes the section's charts, once it is in the document. */
  draw?: () => AnyChart[];
}

export interface DashboardOptions {
  brand: string;
  who: string | null;
  range: { from: string; to: string };
  onRange(range: { from: string; to: string }): void;
  onSignOut(): void;
  fetchImpl?: typeof fetch;
}

function interval100(row: { low: number | null; high: number | null }) {
  return row.low === null || row.high === null ? null : { low: row.low * 100, high: row.high * 100 };
}

function canvas(testId: string, label: string): { wrap: HTMLElement; canvas: HTMLCanvasElement } {
  const node = el('canvas', { 'data-testid': testId, role: 'img', 'aria-label': label });
  return { wrap: el('div', { class: 'chart' }, node), canvas: node };
}

function panel(title: string, id: string, ...children: (Node | null)[]): HTMLElement {
  return el('section', { class: 'panel', 'aria-labelledby': `${id}-title`, id }, el('h2', { id: `${id}-title` }, title), ...children);
}

const csatColumns = <Row extends { n: number; csat: number | null; low: number | null; high: number | null }>(): Column<Row>[] => [
  { label: L.columns.n, value: (r) => String(r.n), numeric: true },
  { label: L.columns.csat, value: (r) => pct(r.csat), numeric: true },
  { label: L.columns.interval, value: (r) => interval(r.low, r.high) },
];

export class Dashboard {
  readonly element: HTMLElement;
  private charts: AnyChart[] = [];
  private readonly main: HTMLElement;
  private readonly status: HTMLElement;
  /** Kept across renders: its state lives on the server and it loads when opened. */
  private readonly tuning: TuningPanel;

  constructor(private readonly options: DashboardOptions) {
    this.tuning = new TuningPanel(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {});
    this.main = el('main', { class: 'dashboard', id: 'main' });
    this.status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.element = el('div', { class: 'shell' }, this.topbar(), this.status, this.main);
  }

  private get params(): Params {
    return { from: this.options.range.from, to: this.options.range.to };
  }

  private topbar(): HTMLElement {
    const from = el('input', { type: 'date', id: 'range-from', name: 'from', value: this.options.range.from, 'data-testid': 'range-from' });
    const to = el('input', { type: 'date', id: 'range-to', name: 'to', value: this.options.range.to, 'data-testid': 'range-to' });
    const form = el(
      'form',
      { class: 'range', 'aria-label': 'Period' },
      el('label', { for: 'range-from' }, L.from),
      from,
      el('label', { for: 'range-to' }, L.to),
      to,
      el('button', { type: 'submit', class: 'primary' }, L.apply),
      button(L.allTime, {}, () => this.options.onRange({ from: '', to: '' })),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.options.onRange({ from: from.value, to: to.value });
    });
    return el(
      'header',
      { class: 'topbar' },
      el('h1', {}, `${this.options.brand} · ${L.title}`),
      form,
      el('span', { class: 'spacer' }),
      this.options.who ? el('span', { class: 'who', 'data-testid': 'analyst-name' }, `${L.signedInAs} ${this.options.who}`) : null,
      button(L.signOut, { 'data-testid': 'sign-out' }, () => this.options.onSignOut()),
    );
  }

  showLoading(): void {
    this.status.textContent = L.loading;
  }

  showError(message: string): void {
    this.status.textContent = '';
    this.destroyCharts();
    this.main.replaceChildren(el('p', { class: 'error', role: 'alert', 'data-testid': 'load-error' }, `${L.loadFailed} ${message}`));
  }

  destroyCharts(): void {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }

  render(data: DashboardData): void {
    this.destroyCharts();
    this.status.textContent = data.summary.ended === 0 ? L.noData : '';
    const alerts = createAlertsBanner();
    void alerts.load();
    const sections: Section[] = [
      { element: alerts.element },
      this.summaryCards(data),
      this.cohortSection(data),
      this.daySection(data['by-day'].rows),
      this.intentSection(data['by-intent'].rows),
      this.agentSection(data['by-agent'].rows),
      this.languageSection(data['by-language'].rows),
      this.handoffSection(data.handoffs.rows, data.handoffs.definition),
      this.responseSection(data['response-rates'].rows, data['response-rates'].definition),
      this.commentsSection(data),
      { element: this.tuning.element },
      { element: el('p', { class: 'muted rule' }, el('strong', {}, L.differenceRule), ' ', data.summary.definitions.differenceRule) },
    ];
    this.tuning.setIntents(data['by-intent'].rows.flatMap((r) => (r.intent === null ? [] : [r.intent])));
    this.main.replaceChildren(...sections.map((s) => s.element));
    // Charts are made once their canvases are in the document (Chart.js measures the parent).
    for (const section of sections) if (section.draw) this.charts.push(...section.draw());
    this.main.dataset.ready = 'true';
  }

  // -------------------------------------------------------------------------------------------

  private summaryCards(data: DashboardData) {
    const s = data.summary;
    const card = (title: string, value: string, testId: string, ...lines: (string | Node)[]) =>
      el('article', { class: 'card', 'data-testid': testId }, el('h2', {}, title), el('p', { class: 'figure' }, value), ...lines.map((line) => el('p', { class: 'muted' }, line)));
    const responses = s.responseRates.find((r) => r.cohort === 'all');
    return {
      element: el(
        'section',
        { class: 'cards', 'data-testid': 'summary', 'aria-label': 'Summary' },
        card(L.overallCsat, pct(s.overall.csat), 'card-csat', L.answered(s.overall.n), interval(s.overall.low, s.overall.high)),
        card(
          L.containment,
          pct(s.containment.rate),
          'card-containment',
          L.ofEnded(s.containment.count, s.containment.total),
          interval(s.containment.low, s.containment.high),
          el('span', { class: 'definition', 'data-testid': 'containment-definition' }, `${L.definition} ${s.containment.definition}`),
        ),
        card(
          L.responseRate,
          pct(responses?.rate ?? null),
          'card-response',
          responses ? `${responses.answered} of ${responses.ended} surveys answered` : '',
          s.responseRates.filter((r) => r.cohort !== 'all').map((r) => `${L.cohorts[r.cohort]} ${pct(r.rate)}`).join(' · '),
        ),
        card(L.handoffRate, pct(s.handoffRate.rate), 'card-handoff', L.ofEnded(s.handoffRate.count, s.handoffRate.total), interval(s.handoffRate.low, s.handoffRate.high)),
      ),
    };
  }

  private cohortSection(data: DashboardData) {
    const rows = COHORT_ORDER.map((c) => data.summary.cohorts.find((r) => r.cohort === c)).filter((r): r is CohortCsatRow => r !== undefined);
    const chart = canvas('chart-cohorts', `${L.byCohort}: ${rows.map((r) => `${L.cohorts[r.cohort]} ${pct(r.csat)}`).join(', ')}`);
    const table = dataTable<CohortCsatRow>(L.byCohort, [{ label: L.columns.cohort, value: (r) => L.cohorts[r.cohort] }, { label: L.columns.ended, value: (r) => String(r.ended), numeric: true }, ...csatColumns<CohortCsatRow>()], rows, { 'data-testid': 'table-cohorts' });
    const comparisons = el(
      'ul',
      { class: 'comparisons', 'data-testid': 'comparisons' },
      ...data.summary.comparisons.map((c) =>
        el(
          'li',
          { class: c.differs ? 'flagged' : undefined },
          `${L.cohorts[c.a]} vs ${L.cohorts[c.b]}: `,
          c.differs && c.higher ? el('strong', {}, `${L.differs} — ${L.higherThan(L.cohorts[c.higher], L.cohorts[c.higher === c.a ? c.b : c.a])}`) : L.noDifference,
        ),
      ),
    );
    return {
      element: panel(L.byCohort, 'cohorts', el('p', { class: 'muted' }, L.byCohortHint), chart.wrap, table, el('h3', {}, L.comparisons), comparisons, csvLink('summary', this.params)),
      draw: () => [
        barChart(chart.canvas, rows.map((r) => L.cohorts[r.cohort]), [
          { label: L.columns.csat, color: COLORS.bot, values: rows.map((r) => chartValue(r.csat)), intervals: rows.map(interval100), notes: rows.map((r) => `n = ${r.n}`), colors: rows.map((r) => COLORS[r.cohort]) },
        ]),
      ],
    };
  }

  private daySection(rows: DayRow[]) {
    const days = [...new Set(rows.map((r) => r.date))];
    const series: BarSeries[] = COHORT_ORDER.map((cohort) => {
      const byDate = new Map(rows.filter((r) => r.cohort === cohort).map((r) => [r.date, r]));
      return {
        label: L.cohorts[cohort],
        color: COLORS[cohort],
        emphasis: cohort === 'all',
        values: days.map((d) => chartValue(byDate.get(d)?.csat ?? null)),
        notes: days.map((d) => `n = ${byDate.get(d)?.n ?? 0}`),
      };
    });
    const chart = canvas('chart-by-day', L.overTime);
    const details = el(
      'details',
      {},
      el('summary', {}, 'Show the figures'),
      dataTable<DayRow>(L.overTime, [{ label: L.columns.date, value: (r) => r.date }, { label: L.columns.cohort, value: (r) => L.cohorts[r.cohort] }, { label: L.columns.ended, value: (r) => String(r.ended), numeric: true }, ...csatColumns<DayRow>()], rows, { 'data-testid': 'table-by-day' }),
    );
    return { element: panel(L.overTime, 'by-day', chart.wrap, details, csvLink('by-day', this.params)), draw: () => [lineChart(chart.canvas, days, series)] };
  }

  private intentSection(rows: IntentRow[]) {
    const top = rows.slice(0, CHART_INTENTS);
    const chart = canvas('chart-by-intent', L.byIntent);
    const side = (prefix: 'bot' | 'agent') => (r: IntentRow) => {
      const csat = r[`${prefix}_csat`];
      return el('span', {}, pct(csat), el('span', { class: 'muted small' }, ` n = ${r[`${prefix}_n`]}`), el('br'), el('span', { class: 'muted small' }, interval(r[`${prefix}_low`], r[`${prefix}_high`])));
    };
    const table = dataTable<IntentRow>(
      L.byIntent,
      [
        { label: L.columns.intent, value: (r) => intentLabel(r.intent) },
        { label: L.columns.ended, value: (r) => String(r.ended), numeric: true },
        { label: `${L.columns.all} CSAT`, value: (r) => `${pct(r.csat)} (n = ${r.n})`, numeric: true },
        { label: `${L.columns.bot} CSAT`, value: side('bot'), numeric: true },
        { label: `${L.columns.agent} CSAT`, value: side('agent'), numeric: true },
        { label: L.columns.difference, value: (r) => (r.differs && r.higher ? el('span', { class: 'badge high' }, `${L.differs}: ${r.higher === 'bot' ? L.columns.bot : L.columns.agent} higher`) : el('span', { class: 'muted' }, '—')) },
      ],
      rows,
      { 'data-testid': 'table-by-intent' },
      (r) => ({ class: r.differs ? 'flagged' : undefined, 'data-differs': String(r.differs), 'data-intent': r.intent ?? '' }),
    );
    return {
      element: panel(L.byIntent, 'by-intent', el('p', { class: 'muted' }, L.byIntentHint), chart.wrap, table, csvLink('by-intent', this.params)),
      draw: () => [
        barChart(
          chart.canvas,
          top.map((r) => (r.differs ? `${intentLabel(r.intent)} ◆` : intentLabel(r.intent))),
          [
            { label: L.columns.bot, color: COLORS.bot, values: top.map((r) => chartValue(r.bot_csat)), intervals: top.map((r) => interval100({ low: r.bot_low, high: r.bot_high })), notes: top.map((r) => `n = ${r.bot_n}`) },
            { label: L.columns.agent, color: COLORS.agent, values: top.map((r) => chartValue(r.agent_csat)), intervals: top.map((r) => interval100({ low: r.agent_low, high: r.agent_high })), notes: top.map((r) => `n = ${r.agent_n}`) },
          ],
        ),
      ],
    };
  }

  private agentSection(rows: AgentRow[]) {
    const chart = canvas('chart-by-agent', L.byAgent);
    const table = dataTable<AgentRow>(L.byAgent, [{ label: L.columns.agentName, value: (r) => r.agentName }, { label: L.columns.ended, value: (r) => String(r.ended), numeric: true }, ...csatColumns<AgentRow>()], rows, { 'data-testid': 'table-by-agent' });
    return {
      element: panel(L.byAgent, 'by-agent', chart.wrap, table, csvLink('by-agent', this.params)),
      draw: () => [barChart(chart.canvas, rows.map((r) => r.agentName), [{ label: L.columns.csat, color: COLORS.agent, values: rows.map((r) => chartValue(r.csat)), intervals: rows.map(interval100), notes: rows.map((r) => `n = ${r.n}`) }])],
    };
  }

  private languageSection(rows: LanguageRow[]) {
    const table = dataTable<LanguageRow>(L.byLanguage, [{ label: L.columns.language, value: (r) => r.language }, { label: L.columns.ended, value: (r) => String(r.ended), numeric: true }, ...csatColumns<LanguageRow>()], rows, { 'data-testid': 'table-by-language' });
    return { element: panel(L.byLanguage, 'by-language', table, csvLink('by-language', this.params)) };
  }

  private handoffSection(rows: HandoffRow[], definition: string) {
    const reasons = rows.filter((r) => r.reason !== 'all');
    const chart = canvas('chart-handoffs', L.handoffs);
    const table = dataTable<HandoffRow>(
      L.handoffs,
      [
        { label: L.columns.reason, value: (r) => (r.reason === 'all' ? L.allReasons : r.reason) },
        { label: L.columns.count, value: (r) => String(r.count), numeric: true },
        { label: L.columns.ended, value: (r) => String(r.total), numeric: true },
        { label: L.columns.rate, value: (r) => pct(r.rate), numeric: true },
        { label: L.columns.interval, value: (r) => interval(r.low, r.high) },
      ],
      rows,
      { 'data-testid': 'table-handoffs' },
    );
    const max = Math.min(100, Math.max(10, ...reasons.map((r) => Math.ceil(((r.high ?? 0) * 100) / 10) * 10)));
    return {
      element: panel(L.handoffs, 'handoffs', el('p', { class: 'muted' }, `${L.definition} ${definition}`), chart.wrap, table, csvLink('handoffs', this.params)),
      draw: () => [
        barChart(chart.canvas, reasons.map((r) => r.reason), [{ label: L.columns.rate, color: COLORS.bot_then_agent, values: reasons.map((r) => chartValue(r.rate)), intervals: reasons.map(interval100), notes: reasons.map((r) => `${r.count} of ${r.total}`) }], { yTitle: 'Share of ended conversations', max }),
      ],
    };
  }

  private responseSection(rows: ResponseRateRow[], definition: string) {
    const table = dataTable<ResponseRateRow>(
      L.responseRates,
      [
        { label: L.columns.cohort, value: (r) => L.cohorts[r.cohort] },
        { label: L.columns.ended, value: (r) => String(r.ended), numeric: true },
        { label: L.columns.answered, value: (r) => String(r.answered), numeric: true },
        { label: L.columns.rate, value: (r) => pct(r.rate), numeric: true },
        { label: L.columns.interval, value: (r) => interval(r.low, r.high) },
      ],
      rows,
      { 'data-testid': 'table-response-rates' },
    );
    return { element: panel(L.responseRates, 'response-rates', el('p', { class: 'muted' }, `${L.definition} ${definition}`), table, csvLink('response-rates', this.params)) };
  }

  private commentsSection(data: DashboardData) {
    const select = (id: string, label: string, choices: [string, string][]) => {
      const node = el('select', { id, name: id.replace('comments-', ''), 'data-testid': id }, el('option', { value: '' }, L.any), ...choices.map(([value, text]) => el('option', { value }, text)));
      return { node, field: el('div', { class: 'field' }, el('label', { for: id }, label), node) };
    };
    const ratings: [string, string][] = ['1', '2', '3', '4', '5'].map((r) => [r, r]);
    const cohort = select('comments-cohort', L.columns.cohort, (['bot', 'bot_then_agent', 'agent'] as const).map((c) => [c, L.cohorts[c]]));
    const intent = select('comments-intent', L.columns.intent, data['by-intent'].rows.filter((r) => r.intent !== null).map((r) => [r.intent as string, r.intent as string]));
    const agent = select('comments-agent', L.columns.agentName, data['by-agent'].rows.map((r) => [r.agentId, r.agentName]));
    const language = select('comments-language', L.columns.language, data['by-language'].rows.map((r) => [r.language, r.language]));
    const minRating = select('comments-minRating', L.minRating, ratings);
    const maxRating = select('comments-maxRating', L.maxRating, ratings);
    const q = el('input', { id: 'comments-q', name: 'q', type: 'search', maxlength: '200', 'data-testid': 'comments-q' });
    const form = el(
      'form',
      { class: 'filters', 'aria-label': 'Filter comments' },
      cohort.field,
      intent.field,
      agent.field,
      language.field,
      minRating.field,
      maxRating.field,
      el('div', { class: 'field' }, el('label', { for: 'comments-q' }, L.contains), q),
      el('button', { type: 'submit', class: 'primary', 'data-testid': 'comments-apply' }, L.filter),
      el('button', { type: 'reset' }, L.clear),
    );
    const count = el('p', { class: 'muted', 'data-testid': 'comments-count', 'aria-live': 'polite' });
    const slot = el('div', {});
    const link = el('p', {});
    const filterParams = (): Params => ({
      ...this.params,
      cohort: cohort.node.value,
      intent: intent.node.value,
      agent: agent.node.value,
      language: language.node.value,
      minRating: minRating.node.value,
      maxRating: maxRating.node.value,
      q: q.value.trim(),
    });
    const show = (report: Reports['comments'], params: Params) => {
      count.textContent = report.rows.length === 0 ? L.noComments : L.commentsShown(report.rows.length, report.total);
      slot.replaceChildren(
        dataTable<CommentRow>(
          L.comments,
          [
            { label: L.columns.date, value: (r) => r.date },
            { label: L.columns.rating, value: (r) => `${r.rating} / 5`, numeric: true },
            { label: L.columns.comment, value: (r) => el('span', { class: 'comment' }, r.comment) },
            { label: L.columns.cohort, value: (r) => L.cohorts[r.cohort] },
            { label: L.columns.intent, value: (r) => intentLabel(r.intent) },
            { label: L.columns.agentName, value: (r) => r.agentName ?? '—' },
            { label: L.columns.language, value: (r) => r.language },
          ],
          report.rows,
          { 'data-testid': 'comments' },
        ),
      );
      link.replaceChildren(csvLink('comments', params));
    };
    const refresh = async () => {
      const params = filterParams();
      count.textContent = L.loading;
      const result = await getReport('comments', params, this.options.fetchImpl);
      if (result.ok) show(result.data, params);
      else count.textContent = `${L.loadFailed} ${result.message}`;
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void refresh();
    });
    form.addEventListener('reset', () => setTimeout(() => void refresh(), 0));
    show(data.comments, this.params);
    return { element: panel(L.comments, 'comments-panel', form, count, slot, link) };
  }
}
