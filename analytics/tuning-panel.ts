/**
 * The tuning section of the dashboard: Tune (policy proposals from CSAT evidence and a fresh
 * review list), the proposals with their evidence to approve or reject, the training phrases to
 * accept, reject or relabel, candidate models compared with the one in use, promotion, rollback,
 * the model versions and the tuning log. Every text from the server is shown as text.
 *
 * It loads nothing until the analyst opens it, so the CSAT figures never wait on it (and a
 * server without the tuning loop is only asked when someone looks).
 */
import { el, button } from '../console/dom.js';
import { tuningApi, type ApiResult, type Candidate, type ModelPointer, type ModelVersion, type Proposal, type TuningApi, type TuningLogEntry, type TuningPolicy } from './api.js';
import { interval, pct } from './format.js';
import { L } from './labels.js';
import { dataTable } from './tables.js';

const T = L.tuning;
/** The shape the server accepts for an intent id (topic.name). */
const INTENT_ID = /^[a-z]+\.[a-z_]+$/;
const OTHER = '__other__';
const SHOWN_CANDIDATES = 50;
const SHOWN_DECIDED_PROPOSALS = 10;
const SHOWN_LOG = 50;
/** Below this (a twentieth of a point) a difference between two rates is shown as no change. */
const SAME = 0.0005;

type Failure = Extract<ApiResult<unknown>, { ok: false }>;

export interface TuningPanelOptions {
  fetchImpl?: typeof fetch;
}

interface TuningState {
  policy: TuningPolicy;
  proposals: Proposal[];
  candidates: Candidate[];
  models: ModelVersion[];
  pointer: ModelPointer;
  log: TuningLogEntry[];
}

/** "2026-11-01T10:00:00.000Z" as "2026-11-01 10:00 UTC" (the same for every analyst). */
function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—';
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** A per-intent override ({minConfidence?, handoff?}) as words. */
export function describeOverride(value: unknown): string {
  const o = value !== null && typeof value === 'object' ? (value as { minConfidence?: unknown; handoff?: unknown }) : {};
  const parts: string[] = [];
  if (o.handoff === true) parts.push(T.handoff);
  if (typeof o.minConfidence === 'number') parts.push(T.minConfidence(o.minConfidence));
  return parts.length ? parts.join('; ') : T.modelDefault;
}

function modelName(version: string | null): string {
  return version === null || version === 'shipped' ? T.shipped : version;
}

/** What a log entry did, in a line (its detail is the server's record of the change). */
export function describeLogEntry(entry: TuningLogEntry): string {
  const d = entry.detail !== null && typeof entry.detail === 'object' ? (entry.detail as Record<string, unknown>) : {};
  const label = T.actionsLog[entry.action] ?? entry.action;
  switch (entry.action) {
    case 'policy.proposed': {
      const list = Array.isArray(d.proposals) ? (d.proposals as unknown[]) : [];
      const items = list.map((p) => {
        const q = (p ?? {}) as Record<string, unknown>;
        return `${text(q.intent)} (${T.kinds[text(q.kind)] ?? text(q.kind)})`;
      });
      return `${label}: ${items.length ? items.join(', ') : 'none'}`;
    }
    case 'policy.applied':
    case 'policy.rejected':
      return `${label}: ${text(d.intent)}, ${describeOverride(d.from)} → ${describeOverride(d.to)}`;
    case 'candidates.refreshed':
      return `${label}: ${text(d.count)} phrases`;
    case 'candidate.accept':
    case 'candidate.reject':
    case 'candidate.relabel':
      return `${label}: “${text(d.text)}”${entry.action !== 'candidate.reject' && text(d.intent) ? ` as ${text(d.intent)}` : ''}`;
    case 'model.trained': {
      const evaluation = (d.evaluation ?? {}) as Record<string, unknown>;
      const baseline = (d.baseline ?? {}) as Record<string, unknown>;
      const accuracy = (x: unknown) => (typeof x === 'number' ? pct(x) : '—');
      return `${label}: ${text(d.version)}, ${T.inScopeAccuracy.toLowerCase()} ${accuracy(evaluation.inScopeAccuracy)} vs ${accuracy(baseline.inScopeAccuracy)} (${modelName(text(baseline.version) || null)})`;
    }
    case 'model.promoted':
      return `${label}: ${text(d.version)} (was ${modelName(text(d.from) || null)})`;
    case 'model.rolled_back':
      return `${label}: ${modelName(text(d.from) || null)} → ${modelName(text(d.to) || null)}`;
    default:
      return label;
  }
}

/** A metric of the candidate against the baseline; `lowerIsBetter` for the wrong-answer rate. */
function difference(candidate: number | null, baseline: number | null, lowerIsBetter = false): string {
  if (candidate === null || baseline === null) return '—';
  const d = candidate - baseline;
  const points = `${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(1)} pts`;
  if (Math.abs(d) < SAME) return `${points} (${T.same})`;
  return `${points} (${d < 0 === lowerIsBetter ? T.better : T.worse})`;
}

export class TuningPanel {
  readonly element: HTMLDetailsElement;
  private readonly api: TuningApi;
  private readonly body: HTMLFieldSetElement;
  private readonly status: HTMLElement;
  private readonly error: HTMLElement;
  private readonly policySlot: HTMLElement;
  private readonly proposalsSlot: HTMLElement;
  private readonly candidatesSlot: HTMLElement;
  private readonly currentModel: HTMLElement;
  private readonly report: HTMLElement;
  private readonly versionsSlot: HTMLElement;
  private readonly logSlot: HTMLElement;
  private readonly rollbackButton: HTMLButtonElement;
  private state: TuningState | null = null;
  private reportIntents: string[] = [];
  private selectedVersion: string | null = null;
  private busy = false;
  private unavailable = false;

  constructor(options: TuningPanelOptions = {}) {
    this.api = tuningApi(options.fetchImpl);
    this.status = el('p', { class: 'muted', role: 'status', 'aria-live': 'polite', 'data-testid': 'tuning-status' });
    this.error = el('p', { class: 'error', role: 'alert', 'data-testid': 'tuning-error', hidden: '' });
    this.policySlot = el('p', { class: 'muted', 'data-testid': 'tuning-policy' });
    this.proposalsSlot = el('div', { class: 'proposals', 'data-testid': 'proposals' });
    this.candidatesSlot = el('div', { 'data-testid': 'candidates' });
    this.currentModel = el('p', { 'data-testid': 'model-current' });
    this.report = el('div', { class: 'model-report', 'data-testid': 'model-report', 'aria-live': 'polite' }, el('p', { class: 'muted' }, T.noReport));
    this.versionsSlot = el('div', { 'data-testid': 'model-versions' });
    this.logSlot = el('div', { 'data-testid': 'tuning-log' });
    this.rollbackButton = button(T.rollback, { 'data-testid': 'rollback' }, () => void this.act(() => this.rollback()));

    this.body = el(
      'fieldset',
      { class: 'tuning-body' },
      el('legend', { class: 'sr-only' }, T.title),
      el('p', { class: 'muted' }, T.hint),
      el(
        'div',
        { class: 'toolbar' },
        button(T.tune, { class: 'primary', 'data-testid': 'tune' }, () => void this.act(() => this.tune())),
        button(T.refresh, { 'data-testid': 'tuning-refresh' }, () => void this.act(() => this.reload())),
      ),
      this.status,
      this.error,
      this.policySlot,
      el('h3', {}, T.proposals),
      this.proposalsSlot,
      el('h3', {}, T.candidates),
      el('p', { class: 'muted small' }, T.candidatesHint),
      this.candidatesSlot,
      el('h3', {}, T.models),
      this.currentModel,
      el('div', { class: 'toolbar' }, button(T.train, { class: 'primary', 'data-testid': 'train-model' }, () => void this.act(() => this.train())), this.rollbackButton),
      this.report,
      el('h4', {}, T.versions),
      this.versionsSlot,
      el('h3', {}, T.log),
      this.logSlot,
    );
    this.element = el(
      'details',
      { class: 'panel tuning', id: 'tuning', 'data-testid': 'tuning' },
      el('summary', { 'data-testid': 'tuning-open' }, el('h2', { id: 'tuning-title' }, T.summary)),
      this.body,
    );
    this.element.addEventListener('toggle', () => {
      if (this.element.open && this.state === null && !this.unavailable) void this.act(() => this.reload());
    });
  }

  /** The intents of the by-intent report: offered when relabelling, with those tuning knows. */
  setIntents(intents: string[]): void {
    this.reportIntents = intents;
    if (this.state) this.renderCandidates(this.state);
  }

  // -------------------------------------------------------------------------------------------

  /** Runs one action at a time; the controls are disabled meanwhile. */
  private async act(work: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.body.disabled = true;
    this.element.setAttribute('aria-busy', 'true');
    this.showError(null);
    try {
      await work();
    } finally {
      this.busy = false;
      this.body.disabled = this.unavailable;
      this.element.removeAttribute('aria-busy');
    }
  }

  private showError(message: string | null): void {
    this.error.textContent = message ?? '';
    this.error.hidden = message === null;
  }

  private fail(failure: Failure): void {
    if (failure.status === 401) this.showError(L.sessionEnded);
    else if (failure.code === 'NETWORK') this.showError(L.cannotReach);
    else this.showError(failure.message);
  }

  private say(message: string): void {
    this.status.textContent = message;
  }

  private async reload(): Promise<void> {
    // The policy first: a server without the tuning loop answers 404 once, not five times.
    const policy = await this.api.policy();
    if (!policy.ok) {
      if (policy.status === 404) {
        this.unavailable = true;
        this.say('');
        this.showError(T.unavailable);
      } else this.fail(policy);
      return;
    }
    const [proposals, candidates, models, log] = await Promise.all([this.api.proposals(), this.api.candidates(), this.api.models(), this.api.log()]);
    for (const result of [proposals, candidates, models, log]) if (!result.ok) return this.fail(result);
    if (!proposals.ok || !candidates.ok || !models.ok || !log.ok) return;
    this.state = { policy: policy.data, proposals: proposals.data.proposals, candidates: candidates.data.candidates, models: models.data.models, pointer: models.data.pointer, log: log.data.log };
    this.render(this.state);
  }

  private async tune(): Promise<void> {
    this.say(T.tuning);
    const result = await this.api.run();
    if (!result.ok) {
      this.say('');
      return this.fail(result);
    }
    this.say(`${T.proposed(result.data.proposals.length)} ${T.candidatesFound(result.data.candidates.length)}`);
    await this.reload();
  }

  private async decide(proposal: Proposal, approve: boolean): Promise<void> {
    const result = await this.api.decide(proposal.id, approve);
    if (!result.ok) return this.fail(result);
    this.say(approve ? T.approved(proposal.intent) : T.rejected(proposal.intent));
    await this.reload();
  }

  private async review(candidate: Candidate, action: 'accept' | 'reject' | 'relabel', intent?: string): Promise<void> {
    const result = await this.api.review(candidate.id, action, intent);
    if (!result.ok) return this.fail(result);
    this.say(T.reviewed(action, result.data.candidate.text, result.data.candidate.intent));
    await this.reload();
  }

  private async train(): Promise<void> {
    this.say(T.training);
    const result = await this.api.train();
    if (!result.ok) {
      this.say('');
      return this.fail(result);
    }
    this.selectedVersion = result.data.model.version;
    this.say(T.trained(result.data.model.version));
    await this.reload();
  }

  private async promote(version: string): Promise<void> {
    const result = await this.api.promote(version);
    // A candidate worse than the model in use is refused with the server's own sentence.
    if (!result.ok) return this.fail(result);
    this.say(T.promoted(result.data.model.version));
    await this.reload();
  }

  private async rollback(): Promise<void> {
    const result = await this.api.rollback();
    if (!result.ok) return this.fail(result);
    this.say(T.rolledBack(modelName(result.data.current)));
    await this.reload();
  }

  // -------------------------------------------------------------------------------------------

  private render(state: TuningState): void {
    this.renderPolicy(state.policy);
    this.renderProposals(state.proposals);
    this.renderCandidates(state);
    this.renderModels(state);
    this.renderLog(state.log);
  }

  private renderPolicy(policy: TuningPolicy): void {
    const entries = Object.entries(policy.intents);
    this.policySlot.textContent = `${T.policy(policy.version)}: ${entries.length ? entries.map(([intent, o]) => `${intent}, ${describeOverride(o)}`).join(' · ') : T.noOverrides}`;
  }

  private renderProposals(all: Proposal[]): void {
    const open = all.filter((p) => p.status === 'proposed');
    const decided = all.filter((p) => p.status === 'applied' || p.status === 'rejected').slice(0, SHOWN_DECIDED_PROPOSALS);
    const shown = [...open, ...decided];
    if (shown.length === 0) {
      this.proposalsSlot.replaceChildren(el('p', { class: 'muted' }, T.noProposals));
      return;
    }
    this.proposalsSlot.replaceChildren(...shown.map((p) => this.proposalCard(p)));
  }

  private proposalCard(p: Proposal): HTMLElement {
    const e = p.evidence;
    const evidence = dataTable<{ side: string; n: number; csat: number | null; low: number | null; high: number | null }>(
      `${p.intent}: evidence`,
      [
        { label: L.columns.cohort, value: (r) => r.side },
        { label: L.columns.csat, value: (r) => pct(r.csat), numeric: true },
        { label: L.columns.n, value: (r) => String(r.n), numeric: true },
        { label: L.columns.interval, value: (r) => interval(r.low, r.high) },
      ],
      [
        { side: L.columns.bot, n: e.botN, csat: e.botCsat, low: e.botLow, high: e.botHigh },
        { side: L.columns.agent, n: e.agentN, csat: e.agentCsat, low: e.agentLow, high: e.agentHigh },
      ],
      { 'data-testid': 'proposal-evidence', class: 'compact' },
    );
    const decision =
      p.status === 'proposed'
        ? el(
            'div',
            { class: 'toolbar' },
            button(T.approve, { class: 'primary', 'data-testid': 'proposal-approve' }, () => void this.act(() => this.decide(p, true))),
            button(T.reject, { 'data-testid': 'proposal-reject' }, () => void this.act(() => this.decide(p, false))),
          )
        : el('p', { class: 'muted small' }, T.decided(T.statuses[p.status] ?? p.status, p.decidedBy, p.decidedAt ? when(p.decidedAt) : null));
    return el(
      'article',
      { class: `proposal ${p.status}`, 'data-testid': 'proposal', 'data-proposal-id': p.id, 'data-intent': p.intent, 'data-status': p.status },
      el('h4', {}, el('span', { class: 'intent' }, p.intent), ' · ', T.kinds[p.kind] ?? p.kind, ' ', el('span', { class: 'badge' }, T.statuses[p.status] ?? p.status)),
      el('p', { 'data-testid': 'proposal-change' }, el('strong', {}, `${T.change}: `), describeOverride(p.from), ' → ', describeOverride(p.to)),
      evidence,
      el('p', { 'data-testid': 'proposal-handoffs' }, el('strong', {}, `${T.handoffRate}: `), `${pct(e.handoffRate)} ${T.ofConversations(e.conversations)}`),
      el('p', { class: 'reason', 'data-testid': 'proposal-reason' }, p.reason),
      decision,
    );
  }

  private intentChoices(state: TuningState): string[] {
    const all = new Set<string>(this.reportIntents);
    for (const c of state.candidates) if (c.intent) all.add(c.intent);
    for (const p of state.proposals) all.add(p.intent);
    return [...all].filter((i) => INTENT_ID.test(i)).sort();
  }

  private renderCandidates(state: TuningState): void {
    const shown = state.candidates.slice(0, SHOWN_CANDIDATES);
    if (shown.length === 0) {
      this.candidatesSlot.replaceChildren(el('p', { class: 'muted' }, T.noCandidates));
      return;
    }
    const intents = this.intentChoices(state);
    const table = dataTable<Candidate>(
      T.candidates,
      [
        { label: T.text, value: (c) => el('span', { class: 'comment', 'data-testid': 'candidate-text' }, c.text) },
        { label: L.columns.language, value: (c) => c.language },
        { label: T.suggested, value: (c) => (c.intent ? el('span', { 'data-testid': 'candidate-intent-shown' }, c.intent) : el('span', { class: 'muted' }, T.needsLabel)) },
        { label: T.source, value: (c) => T.sources[c.source] ?? c.source },
        { label: T.weight, value: (c) => String(c.weight), numeric: true },
        { label: T.status, value: (c) => el('span', { class: 'badge' }, T.statuses[c.status] ?? c.status) },
        { label: T.actions, value: (c) => this.candidateActions(c, intents) },
      ],
      shown,
      { 'data-testid': 'candidate-list' },
      (c) => ({ 'data-testid': 'candidate', 'data-candidate-id': c.id, 'data-status': c.status }),
    );
    const more = state.candidates.length > shown.length ? el('p', { class: 'muted small' }, T.moreCandidates(shown.length, state.candidates.length)) : null;
    this.candidatesSlot.replaceChildren(table, ...(more ? [more] : []));
  }

  private candidateActions(c: Candidate, intents: string[]): HTMLElement {
    if (c.status === 'accepted' || c.status === 'rejected') return el('span', { class: 'muted small' }, T.decided(T.statuses[c.status] ?? c.status, c.decidedBy, c.decidedAt ? when(c.decidedAt) : null));
    const selectId = `relabel-${c.id}`;
    const select = el(
      'select',
      { id: selectId, 'data-testid': 'candidate-intent' },
      el('option', { value: '' }, T.chooseIntent),
      ...intents.map((i) => el('option', { value: i }, i)),
      el('option', { value: OTHER }, T.otherIntent),
    );
    const typed = el('input', { type: 'text', maxlength: '100', spellcheck: 'false', autocomplete: 'off', placeholder: T.typedIntent, 'aria-label': T.typedIntent, 'data-testid': 'candidate-intent-other', hidden: '' });
    select.addEventListener('change', () => {
      typed.hidden = select.value !== OTHER;
      if (!typed.hidden) typed.focus();
    });
    const relabel = () => {
      const intent = (select.value === OTHER ? typed.value : select.value).trim();
      if (!intent) return this.showError(T.labelFirst);
      if (!INTENT_ID.test(intent)) return this.showError(T.badIntent);
      void this.act(() => this.review(c, 'relabel', intent));
    };
    typed.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') relabel();
    });
    const accept = button(T.accept, { class: 'primary', 'data-testid': 'candidate-accept', title: c.intent ? undefined : T.labelFirst }, () => void this.act(() => this.review(c, 'accept')));
    // A phrase without an intent can only be relabelled (or rejected).
    accept.disabled = !c.intent;
    return el(
      'div',
      { class: 'review' },
      accept,
      button(T.reject, { 'data-testid': 'candidate-reject' }, () => void this.act(() => this.review(c, 'reject'))),
      el('label', { for: selectId, class: 'sr-only' }, T.intentFor(c.text)),
      select,
      typed,
      button(T.relabel, { 'data-testid': 'candidate-relabel' }, relabel),
    );
  }

  private renderModels(state: TuningState): void {
    this.currentModel.replaceChildren(el('strong', {}, T.inUse(modelName(state.pointer.current))));
    this.rollbackButton.disabled = state.pointer.current === null;
    this.rollbackButton.title = state.pointer.current === null ? T.nothingToRollBack : '';
    const selected = state.models.find((m) => m.version === this.selectedVersion);
    this.renderReport(selected ?? null);
    if (state.models.length === 0) {
      this.versionsSlot.replaceChildren(el('p', { class: 'muted' }, T.noVersions));
      return;
    }
    const rate = (x: number | null) => pct(x);
    this.versionsSlot.replaceChildren(
      dataTable<ModelVersion>(
        T.versions,
        [
          { label: T.version, value: (m) => el('code', {}, m.version) },
          { label: T.status, value: (m) => el('span', { class: m.status === 'promoted' ? 'badge current' : 'badge' }, T.statuses[m.status] ?? m.status) },
          { label: T.created, value: (m) => `${when(m.createdAt)} · ${m.createdBy}` },
          { label: T.accepted, value: (m) => String(m.acceptedCandidates), numeric: true },
          { label: T.inScopeAccuracy, value: (m) => rate(m.evaluation.inScopeAccuracy), numeric: true },
          { label: T.wrongAnswerRate, value: (m) => rate(m.evaluation.wrongAnswerRate), numeric: true },
          { label: T.oosRecall, value: (m) => rate(m.evaluation.oosRecall), numeric: true },
          {
            label: T.baseline,
            value: (m) =>
              el(
                'span',
                {},
                m.baseline ? modelName(m.baseline.version) : '—',
                ' ',
                button(T.show, { class: 'link', 'data-testid': 'model-show', 'data-version': m.version, 'aria-label': `${T.show} ${m.version}` }, () => {
                  this.selectedVersion = m.version;
                  this.renderReport(m);
                  this.report.scrollIntoView({ block: 'nearest' });
                }),
              ),
          },
        ],
        state.models,
        { 'data-testid': 'model-list' },
        (m) => ({ 'data-testid': 'model-version', 'data-version': m.version, 'data-status': m.status, class: m.status === 'promoted' ? 'current' : undefined }),
      ),
    );
  }

  private renderReport(model: ModelVersion | null): void {
    if (!model) {
      this.report.replaceChildren(el('p', { class: 'muted' }, T.noReport));
      delete this.report.dataset.version;
      return;
    }
    this.report.dataset.version = model.version;
    this.report.dataset.status = model.status;
    const base = model.baseline;
    const rows: { metric: string; candidate: number | null; baseline: number | null; lowerIsBetter?: boolean; key: string }[] = [
      { key: 'in-scope-accuracy', metric: T.inScopeAccuracy, candidate: model.evaluation.inScopeAccuracy, baseline: base?.inScopeAccuracy ?? null },
      { key: 'wrong-answer-rate', metric: T.wrongAnswerRate, candidate: model.evaluation.wrongAnswerRate, baseline: base?.wrongAnswerRate ?? null, lowerIsBetter: true },
      { key: 'oos-recall', metric: T.oosRecall, candidate: model.evaluation.oosRecall, baseline: base?.oosRecall ?? null },
    ];
    const table = dataTable<(typeof rows)[number]>(
      T.report(model.version, modelName(base?.version ?? null)),
      [
        { label: T.metric, value: (r) => r.metric },
        { label: T.candidate, value: (r) => pct(r.candidate), numeric: true },
        { label: `${T.baseline} (${modelName(base?.version ?? null)})`, value: (r) => pct(r.baseline), numeric: true },
        { label: T.difference, value: (r) => difference(r.candidate, r.baseline, r.lowerIsBetter), numeric: true },
      ],
      rows,
      { class: 'compact' },
      (r) => ({ 'data-metric': r.key }),
    );
    const promote =
      model.status === 'candidate'
        ? el('div', { class: 'toolbar' }, button(T.promote, { class: 'primary', 'data-testid': 'promote' }, () => void this.act(() => this.promote(model.version))))
        : el('p', { class: 'muted small' }, `${T.status}: ${T.statuses[model.status] ?? model.status}`);
    this.report.replaceChildren(
      el('h4', {}, T.report(model.version, modelName(base?.version ?? null))),
      el('p', { class: 'muted small' }, T.heldOut(model.evaluation.n, model.phrases, model.acceptedCandidates)),
      table,
      promote,
    );
  }

  private renderLog(log: TuningLogEntry[]): void {
    if (log.length === 0) {
      this.logSlot.replaceChildren(el('p', { class: 'muted' }, T.noLog));
      return;
    }
    this.logSlot.replaceChildren(
      dataTable<TuningLogEntry>(
        T.log,
        [
          { label: T.when, value: (e) => el('span', { class: 'nowrap' }, when(e.at)) },
          { label: T.who, value: (e) => e.by },
          { label: T.what, value: (e) => describeLogEntry(e) },
        ],
        log.slice(0, SHOWN_LOG),
        { 'data-testid': 'tuning-log-table' },
        (e) => ({ 'data-action': e.action }),
      ),
    );
  }
}
