import { el, rovingFocus } from './dom.js';
import { L } from './labels.js';

export interface TabInfo {
  conversationId: string;
  label: string;
  unread: number;
  ended: boolean;
}

/** The agent's own chats as tabs (arrow keys move between them), each with an unread marker. */
export class ChatTabs {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;

  constructor(private readonly select: (conversationId: string) => void) {
    this.list = el('div', { class: 'tabs', role: 'tablist', 'aria-label': L.myChats, 'data-testid': 'chat-tabs' });
    this.empty = el('p', { class: 'muted' }, L.noChats);
    rovingFocus(this.list, '[role="tab"]', 'horizontal');
    this.element = el('nav', { class: 'my-chats', 'aria-label': L.myChats }, this.list, this.empty);
  }

  render(tabs: TabInfo[], activeId: string | null): void {
    const hadFocus = this.list.contains(document.activeElement);
    this.empty.hidden = tabs.length > 0;
    this.list.replaceChildren(
      ...tabs.map((tab) => {
        const selected = tab.conversationId === activeId;
        const node = el(
          'button',
          {
            type: 'button',
            role: 'tab',
            id: `tab-${tab.conversationId}`,
            class: 'tab',
            'aria-selected': String(selected),
            'aria-controls': 'chat-pane',
            tabindex: selected || (activeId === null && tab === tabs[0]) ? '0' : '-1',
            'data-testid': 'chat-tab',
            'data-conversation-id': tab.conversationId,
            'data-unread': String(tab.unread),
            'data-ended': tab.ended ? 'true' : undefined,
          },
          el('span', { class: 'tab-label' }, tab.label),
          tab.unread > 0 ? el('span', { class: 'unread', 'data-testid': 'unread', 'aria-label': L.unread(tab.unread) }, String(tab.unread)) : null,
        );
        node.addEventListener('click', () => this.select(tab.conversationId));
        return node;
      }),
    );
    if (hadFocus) this.list.querySelector<HTMLElement>('[aria-selected="true"]')?.focus();
  }
}
