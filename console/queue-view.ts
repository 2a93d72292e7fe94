import type { HandoffSummary } from '../server/transport/agent-protocol.js';
import { button, el } from './dom.js';
import { formatConfidence, formatWait, reasonLabel, shortId, sinceMs } from './format.js';
import { L } from './labels.js';

export interface QueueViewActions {
  take(conversationId: string): void;
  takeNext(): void;
}

/** The live queue of the agent's languages, oldest and high priority first as the server orders it. */
export class QueueView {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly count: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly takeNextButton: HTMLButtonElement;

  constructor(private readonly actions: QueueViewActions) {
    this.count = el('span', { class: 'count', 'data-testid': 'queue-count' }, '0');
    this.takeNextButton = button(L.takeNext, { class: 'primary', 'data-testid': 'take-next' }, () => this.actions.takeNext());
    this.list = el('ul', { class: 'queue-list', 'aria-labelledby': 'queue-title' });
    this.empty = el('p', { class: 'muted', 'data-testid': 'queue-empty' }, L.queueEmpty);
    this.element = el(
      'section',
      { class: 'queue', 'aria-labelledby': 'queue-title' },
      el('div', { class: 'section-head' }, el('h2', { id: 'queue-title' }, L.queue, ' ', this.count), this.takeNextButton),
      this.empty,
      this.list,
    );
  }

  render(items: HandoffSummary[], intentLabel: (intent: string, language: string) => string): void {
    const focusedId = (document.activeElement?.closest('[data-testid="queue-item"]') as HTMLElement | null)?.dataset.conversationId;
    this.count.textContent = String(items.length);
    this.empty.hidden = items.length > 0;
    this.list.replaceChildren(...items.map((item) => this.item(item, intentLabel)));
    if (focusedId) {
      const again = this.list.querySelector<HTMLElement>(`[data-conversation-id="${CSS.escape(focusedId)}"] [data-testid="take"]`);
      (again ?? this.takeNextButton).focus();
    }
    this.tick(Date.now());
  }

  private item(item: HandoffSummary, intentLabel: (intent: string, language: string) => string): HTMLLIElement {
    const intent = item.intent ? `${intentLabel(item.intent, item.language)} · ${formatConfidence(item.confidence)}` : `${L.noIntent}`;
    const wait = el('span', { class: 'wait', 'data-since': item.enqueuedAt, 'data-testid': 'queue-wait' }, '');
    const take = button(L.take, { 'data-testid': 'take', 'aria-label': `${L.take} ${shortId(item.conversationId)}` }, () => this.actions.take(item.conversationId));
    return el(
      'li',
      { class: `queue-item priority-${item.priority}`, 'data-testid': 'queue-item', 'data-conversation-id': item.conversationId, 'data-priority': item.priority },
      el(
        'div',
        { class: 'queue-main' },
        el('strong', { class: 'reason' }, reasonLabel(item.reason)),
        item.priority === 'high' ? el('span', { class: 'badge high' }, 'high priority') : null,
        el('span', { class: 'badge lang', title: L.language }, item.language.toUpperCase()),
      ),
      el('div', { class: 'queue-meta' }, el('span', { class: 'intent', title: L.intent }, intent), ' · ', wait, ` ${L.waiting}`),
      item.summary.length ? el('p', { class: 'queue-summary' }, item.summary[item.summary.length - 1] ?? '') : null,
      take,
    );
  }

  /** Refreshes the wait times (called every second). */
  tick(now: number): void {
    for (const node of this.list.querySelectorAll<HTMLElement>('[data-since]')) node.textContent = formatWait(sinceMs(node.dataset.since ?? '', now));
  }
}
