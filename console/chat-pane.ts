import type { HandoffSummary } from '../server/transport/agent-protocol.js';
import type { CannedReply } from './agent-client.js';
import { button, el } from './dom.js';
import { formatConfidence, formatWait, markdownToPlain, reasonLabel, shortId, sinceMs } from './format.js';
import { L } from './labels.js';
import type { TranscriptView } from './transcript-view.js';

export interface ChatPaneActions {
  send(text: string): void;
  input(): void;
  close(): void;
  transfer(): void;
  returnToBot(): void;
}

/** What the pane needs to show one chat. */
export interface OpenChat {
  summary: HandoffSummary;
  title: string;
  transcript: TranscriptView;
  draft: string;
  listenerTyping: boolean;
  ended: boolean;
}

/**
 * The open chat: handoff context, transcript, listener typing, composer with canned replies,
 * and the actions (close, transfer, return to bot). One pane for all chats: the transcript
 * of the chosen chat is swapped in, the draft of the one left behind is kept by the caller.
 */
export class ChatPane {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly context: HTMLElement;
  private readonly transcriptSlot: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly ended: HTMLElement;
  private readonly composer: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly form: HTMLFormElement;
  private readonly cannedList: HTMLUListElement;
  private readonly cannedFilter: HTMLInputElement;
  private readonly actionsBar: HTMLElement;
  private readonly placeholder: HTMLElement;
  private readonly body: HTMLElement;
  private readonly transferButton: HTMLButtonElement;
  private readonly returnButton: HTMLButtonElement;
  private replies: CannedReply[] = [];
  private current: OpenChat | null = null;

  constructor(private readonly actions: ChatPaneActions) {
    this.title = el('h2', { id: 'chat-title', 'data-testid': 'chat-title' });
    this.context = el('section', { class: 'context', 'aria-labelledby': 'context-title', 'data-testid': 'handoff-context' });
    this.transcriptSlot = el('div', { class: 'transcript-slot' });
    this.typing = el('p', { class: 'typing', 'data-testid': 'listener-typing', 'aria-live': 'polite', hidden: '' }, L.listenerTyping);
    this.ended = el('p', { class: 'ended', 'data-testid': 'chat-ended', hidden: '' }, L.chatEnded);

    this.composer = el('textarea', {
      id: 'composer',
      rows: '3',
      maxlength: '2000',
      placeholder: L.composerPlaceholder,
      'data-testid': 'composer',
      'aria-label': L.composer,
    });
    this.sendButton = el('button', { type: 'submit', class: 'primary', 'data-testid': 'send' }, L.send);
    this.form = el('form', { class: 'composer' }, this.composer, this.sendButton);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.composer.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.composer.addEventListener('input', () => {
      if (this.current) this.current.draft = this.composer.value;
      if (this.composer.value.trim()) this.actions.input();
    });

    this.cannedFilter = el('input', { type: 'search', class: 'canned-filter', 'aria-label': L.cannedFilter, placeholder: L.cannedFilter, 'data-testid': 'canned-filter' });
    this.cannedFilter.addEventListener('input', () => this.renderCanned());
    this.cannedList = el('ul', { class: 'canned-list', 'data-testid': 'canned-replies' });
    const canned = el('details', { class: 'canned' }, el('summary', {}, L.cannedReplies), this.cannedFilter, this.cannedList);

    this.transferButton = button(L.transfer, { 'data-testid': 'transfer' }, () => this.actions.transfer());
    this.returnButton = button(L.returnToBot, { 'data-testid': 'return-to-bot' }, () => this.actions.returnToBot());
    this.actionsBar = el(
      'div',
      { class: 'chat-actions', role: 'group', 'aria-label': 'Chat actions' },
      button(L.closeChat, { class: 'danger', 'data-testid': 'close-chat' }, () => this.actions.close()),
      this.transferButton,
      this.returnButton,
    );

    this.placeholder = el('p', { class: 'muted placeholder', 'data-testid': 'no-chat' }, L.noChatSelected);
    this.body = el(
      'div',
      { class: 'chat-body', hidden: '' },
      el('div', { class: 'chat-head' }, this.title, this.actionsBar),
      el('div', { class: 'chat-columns' }, el('div', { class: 'chat-main' }, this.transcriptSlot, this.typing, this.ended, this.form, canned), this.context),
    );
    this.element = el('section', { id: 'chat-pane', class: 'chat-pane', role: 'tabpanel', 'aria-labelledby': 'chat-title' }, this.placeholder, this.body);
  }

  get openId(): string | null {
    return this.current?.summary.conversationId ?? null;
  }

  show(chat: OpenChat | null): void {
    this.current = chat;
    this.placeholder.hidden = chat !== null;
    this.body.hidden = chat === null;
    if (!chat) {
      this.transcriptSlot.replaceChildren();
      this.element.removeAttribute('data-conversation-id');
      return;
    }
    this.element.dataset.conversationId = chat.summary.conversationId;
    this.element.setAttribute('aria-labelledby', `tab-${chat.summary.conversationId}`);
    this.title.textContent = chat.title;
    this.transcriptSlot.replaceChildren(chat.transcript.element);
    chat.transcript.element.scrollTop = chat.transcript.element.scrollHeight;
    this.composer.value = chat.draft;
    this.renderContext(chat.summary);
    this.update(chat);
  }

  /** Refreshes the parts that change while the chat is open. */
  update(chat: OpenChat): void {
    if (chat !== this.current) return;
    this.title.textContent = chat.title;
    this.typing.hidden = !chat.listenerTyping || chat.ended;
    this.ended.hidden = !chat.ended;
    this.composer.disabled = chat.ended;
    this.sendButton.disabled = chat.ended;
    this.transferButton.disabled = chat.ended;
    this.returnButton.disabled = chat.ended;
    this.renderContext(chat.summary);
  }

  setCannedReplies(replies: CannedReply[]): void {
    this.replies = replies;
    this.renderCanned();
  }

  focusComposer(): void {
    if (!this.composer.disabled) this.composer.focus();
  }

  tick(now: number): void {
    for (const node of this.context.querySelectorAll<HTMLElement>('[data-since]')) node.textContent = formatWait(sinceMs(node.dataset.since ?? '', now));
  }

  private submit(): void {
    const text = this.composer.value.trim();
    if (!text || !this.current || this.current.ended) return;
    this.composer.value = '';
    this.current.draft = '';
    this.actions.send(text);
    this.composer.focus();
  }

  private renderContext(summary: HandoffSummary): void {
    const row = (term: string, value: Node | string, testid?: string) => [el('dt', {}, term), el('dd', { 'data-testid': testid }, value)];
    this.context.replaceChildren(
      el('h3', { id: 'context-title' }, L.context),
      el(
        'dl',
        {},
        ...row(L.reason, reasonLabel(summary.reason), 'context-reason'),
        ...row(L.intent, summary.intent ?? L.noIntent, 'context-intent'),
        ...row(L.confidence, formatConfidence(summary.confidence), 'context-confidence'),
        ...row(L.language, summary.language.toUpperCase()),
        ...row(L.priority, summary.priority),
        ...row(L.queueName, summary.queue),
        ...row('Since', el('span', { 'data-since': summary.enqueuedAt }, formatWait(sinceMs(summary.enqueuedAt, Date.now())))),
        ...row('Chat', shortId(summary.conversationId)),
      ),
      el('h3', {}, L.summary),
      summary.summary.length ? el('ol', { class: 'summary', 'data-testid': 'context-summary' }, ...summary.summary.map((line) => el('li', {}, line))) : el('p', { class: 'muted' }, '—'),
    );
  }

  private renderCanned(): void {
    const filter = this.cannedFilter.value.trim().toLowerCase();
    const shown = this.replies.filter((reply) => !filter || `${reply.label} ${reply.intent} ${reply.text}`.toLowerCase().includes(filter));
    if (shown.length === 0) {
      this.cannedList.replaceChildren(el('li', { class: 'muted' }, L.cannedNone));
      return;
    }
    this.cannedList.replaceChildren(
      ...shown.map((reply) =>
        el(
          'li',
          {},
          button(reply.label, { class: 'canned-reply', 'data-testid': 'canned-reply', 'data-intent': reply.intent, title: reply.text }, () => {
            const text = markdownToPlain(reply.text);
            this.composer.value = text;
            if (this.current) this.current.draft = text;
            this.composer.focus();
            this.composer.setSelectionRange(text.length, text.length);
            this.actions.input();
          }),
        ),
      ),
    );
  }
}
