import type { LeftMessage } from './agent-client.js';
import { button, el } from './dom.js';
import { formatDateTime, shortId } from './format.js';
import { L } from './labels.js';

/** Messages listeners left (with an e-mail address) when no person was available. */
export class LeftMessagesView {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLElement;
  private readonly heading: HTMLElement;

  constructor(actions: { refresh(): void; back(): void }) {
    this.heading = el('h2', { id: 'left-title', tabindex: '-1' }, L.leftMessagesTitle);
    this.status = el('p', { class: 'muted', role: 'status' });
    this.list = el('ul', { class: 'left-list', 'aria-labelledby': 'left-title' });
    this.element = el(
      'section',
      { class: 'left-messages', 'aria-labelledby': 'left-title', 'data-testid': 'left-messages-view', hidden: '' },
      el('div', { class: 'section-head' }, this.heading, button(L.refresh, { 'data-testid': 'left-messages-refresh' }, () => actions.refresh()), button(L.backToChats, {}, () => actions.back())),
      this.status,
      this.list,
    );
  }

  focus(): void {
    this.heading.focus();
  }

  loading(): void {
    this.status.textContent = 'Loading…';
  }

  failed(text: string): void {
    this.status.textContent = text;
  }

  render(items: LeftMessage[]): void {
    this.status.textContent = items.length === 0 ? L.leftMessagesEmpty : `${items.length} message${items.length === 1 ? '' : 's'}`;
    const sorted = [...items].sort((a, b) => b.at.localeCompare(a.at));
    this.list.replaceChildren(
      ...sorted.map((item) =>
        el(
          'li',
          { class: 'left-message', 'data-testid': 'left-message', 'data-id': item.id },
          el(
            'div',
            { class: 'left-head' },
            el('a', { href: `mailto:${encodeURIComponent(item.data.email).replace(/%40/g, '@')}` }, item.data.email),
            el('span', { class: 'badge lang' }, item.data.language.toUpperCase()),
            el('time', { datetime: item.at }, formatDateTime(item.at)),
            el('span', { class: 'muted' }, `chat ${shortId(item.data.conversationId)}`),
          ),
          el('p', { class: 'left-text' }, item.data.text),
        ),
      ),
    );
  }
}
