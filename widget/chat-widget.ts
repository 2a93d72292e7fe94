import type { ConversationEvent, MessageEvent, ReadyFrame } from '../server/transport/protocol.js';
import { ChatConnection, type ConnectionStatus, type KeyValueStorage } from './chat-connection.js';
import { LABELS, pickLanguage, type Labels, type WidgetLanguage } from './labels.js';
import { renderMarkdown } from './markdown.js';
import { WIDGET_CSS } from './styles.js';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function memoryStorage(): KeyValueStorage {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

function safeStorage(): KeyValueStorage {
  try {
    localStorage.setItem('support-chat:probe', '1');
    localStorage.removeItem('support-chat:probe');
    return localStorage;
  } catch {
    return memoryStorage();
  }
}

/**
 * <support-chat>: the listener's chat widget. Everything a message carries is put on the
 * page as text (bot answers through the safe Markdown renderer, which builds DOM nodes).
 */
export class SupportChatElement extends HTMLElement {
  private connection: ChatConnection | null = null;
  private labels: Labels = LABELS.en;
  private language: WidgetLanguage = 'en';
  private readonly root = this.attachShadow({ mode: 'open' });
  private panel!: HTMLElement;
  private launcher!: HTMLButtonElement;
  private log!: HTMLElement;
  private statusText!: HTMLElement;
  private typingLine!: HTMLElement;
  private quickReplies!: HTMLElement;
  private input!: HTMLTextAreaElement;
  private form!: HTMLFormElement;
  private endedBar!: HTMLElement;
  private queueStatus!: HTMLElement;
  private leaveForm!: HTMLFormElement;
  private leaveButton!: HTMLButtonElement;
  private survey!: HTMLElement;
  private readonly pendingNodes = new Map<string, HTMLElement>();
  private lastTypingSent = 0;

  connectedCallback(): void {
    if (this.connection) return;
    this.language = pickLanguage(this.getAttribute('lang'), navigator.languages ?? [navigator.language]);
    this.labels = LABELS[this.language];
    this.build();
    const url = this.getAttribute('server') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    this.connection = new ChatConnection({
      url,
      language: this.language,
      storage: safeStorage(),
      handlers: {
        status: (status) => this.showStatus(status),
        ready: (frame) => this.onReady(frame),
        event: (event) => this.onEvent(event),
        acked: (clientId) => this.pendingNodes.get(clientId)?.removeAttribute('data-pending'),
        typing: (author, active) => this.showTyping(author, active),
        error: (code, message, clientId) => this.onError(code, message, clientId),
        reset: () => this.clear(),
        queue: (position, etaSeconds, agentsOnline) => this.showQueue(position, etaSeconds, agentsOnline),
        surveyAcked: () => {
          this.survey.replaceChildren(el('p', { class: 'survey-thanks' }, this.labels.surveyThanks));
        },
        messageLeft: () => {
          this.leaveForm.hidden = true;
          this.addBubble('system', this.labels.messageLeft, false);
        },
      },
    });
    for (const message of this.connection.pending) this.pendingNodes.set(message.clientId, this.addBubble('listener', message.text, true));
    this.connection.connect();
    if (this.getAttribute('open') !== null) this.toggle(true);
  }

  disconnectedCallback(): void {
    this.connection?.close();
    this.connection = null;
  }

  private build(): void {
    const color = this.getAttribute('color');
    const style = el('style');
    style.textContent = WIDGET_CSS + (color && /^#[0-9a-fA-F]{3,8}$/.test(color) ? `:host{--brand:${color}}` : '');
    this.launcher = el('button', { class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'panel', part: 'launcher' }, this.labels.open);
    this.launcher.addEventListener('click', () => this.toggle(true));

    this.panel = el('section', { id: 'panel', class: 'panel', role: 'dialog', 'aria-label': this.labels.title, hidden: '' });
    const header = el('header');
    const title = el('h2', {}, this.getAttribute('brand') ? `${this.getAttribute('brand')} · ${this.labels.title}` : this.labels.title);
    this.statusText = el('span', { class: 'status', role: 'status' }, this.labels.connecting);
    const closeButton = el('button', { class: 'close', 'aria-label': this.labels.close }, '×');
    closeButton.addEventListener('click', () => this.toggle(false));
    this.leaveButton = el('button', { class: 'leave', type: 'button' }, this.labels.leave);
    this.leaveButton.addEventListener('click', () => this.connection?.leave());
    header.append(title, this.statusText, this.leaveButton, closeButton);

    this.log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
    this.typingLine = el('p', { class: 'typing', 'aria-live': 'polite', hidden: '' });
    this.quickReplies = el('div', { class: 'quick', role: 'group' });
    this.queueStatus = el('p', { class: 'queue-status', role: 'status', hidden: '' });
    this.leaveForm = this.buildLeaveForm();
    this.survey = el('section', { class: 'survey', 'aria-label': this.labels.surveyQuestion, hidden: '' });
    this.endedBar = el('div', { class: 'ended', hidden: '' });
    const newChat = el('button', {}, this.labels.newChat);
    newChat.addEventListener('click', () => this.connection?.startNew());
    this.endedBar.append(el('span', {}, this.labels.ended), newChat);

    this.form = el('form', { class: 'composer' });
    this.input = el('textarea', { rows: '1', maxlength: '2000', placeholder: this.labels.placeholder, 'aria-label': this.labels.messageLabel, enterkeyhint: 'send' });
    const send = el('button', { type: 'submit' }, this.labels.send);
    this.form.append(this.input, send);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit(this.input.value);
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.submit(this.input.value);
      }
    });
    this.input.addEventListener('input', () => {
      const now = Date.now();
      if (now - this.lastTypingSent > 3000) {
        this.lastTypingSent = now;
        this.connection?.typing(true);
      }
    });
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.toggle(false);
    });
    this.panel.append(header, this.log, this.queueStatus, this.typingLine, this.quickReplies, this.leaveForm, this.survey, this.endedBar, this.form);
    this.root.append(style, this.launcher, this.panel);
  }

  private buildLeaveForm(): HTMLFormElement {
    const form = el('form', { class: 'leave-form', hidden: '' });
    const email = el('input', { type: 'email', required: '', maxlength: '254', 'aria-label': this.labels.email, placeholder: this.labels.email, autocomplete: 'email' });
    const text = el('textarea', { required: '', maxlength: '2000', rows: '3', 'aria-label': this.labels.message, placeholder: this.labels.message });
    const submit = el('button', { type: 'submit' }, this.labels.sendMessage);
    const cancel = el('button', { type: 'button', class: 'secondary' }, this.labels.cancel);
    cancel.addEventListener('click', () => (form.hidden = true));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (email.value.trim() && text.value.trim()) this.connection?.leaveMessage(email.value.trim(), text.value.trim());
    });
    form.append(el('strong', {}, this.labels.leaveMessageTitle), email, text, submit, cancel);
    return form;
  }

  /** The post-chat survey: 1-5, then an optional comment and "Was your issue resolved?". */
  private showSurvey(): void {
    if (!this.connection || this.connection.surveyDone || !this.survey.hidden) return;
    const question = el('p', { class: 'survey-question', id: 'survey-question' }, this.labels.surveyQuestion);
    const scale = el('div', { class: 'survey-scale', role: 'group', 'aria-labelledby': 'survey-question' });
    const details = el('div', { class: 'survey-details', hidden: '' });
    let rating = 0;
    for (let value = 1; value <= 5; value++) {
      const button = el('button', { type: 'button', 'data-rating': String(value), 'aria-pressed': 'false' }, String(value));
      button.addEventListener('click', () => {
        rating = value;
        for (const other of scale.querySelectorAll('button')) other.setAttribute('aria-pressed', String(other === button));
        details.hidden = false;
      });
      scale.append(button);
    }
    const comment = el('textarea', { rows: '2', maxlength: '2000', 'aria-label': this.labels.surveyComment, placeholder: this.labels.surveyComment });
    let resolved: boolean | undefined;
    const resolvedGroup = el('div', { class: 'survey-resolved', role: 'group', 'aria-label': this.labels.surveyResolved });
    for (const [label, value] of [[this.labels.yes, true], [this.labels.no, false]] as const) {
      const button = el('button', { type: 'button', 'data-resolved': String(value), 'aria-pressed': 'false' }, label);
      button.addEventListener('click', () => {
        resolved = value;
        for (const other of resolvedGroup.querySelectorAll('button')) other.setAttribute('aria-pressed', String(other === button));
      });
      resolvedGroup.append(button);
    }
    const submit = el('button', { type: 'button', class: 'survey-submit' }, this.labels.surveySubmit);
    submit.addEventListener('click', () => rating > 0 && this.connection?.answerSurvey(rating, comment.value.trim() || undefined, resolved));
    const skip = el('button', { type: 'button', class: 'secondary' }, this.labels.surveySkip);
    skip.addEventListener('click', () => rating > 0 && this.connection?.answerSurvey(rating));
    details.append(comment, el('span', {}, this.labels.surveyResolved), resolvedGroup, submit, skip);
    this.survey.replaceChildren(question, el('small', {}, this.labels.surveyScale), scale, details);
    this.survey.hidden = false;
  }

  private showQueue(position: number, etaSeconds: number | null, agentsOnline: number): void {
    const parts = [this.labels.queuePosition.replace('{position}', String(position))];
    if (agentsOnline === 0) parts.push(this.labels.noAgents);
    else parts.push(etaSeconds === null ? this.labels.queueNoEta : this.labels.queueEta.replace('{minutes}', String(Math.max(1, Math.round(etaSeconds / 60)))));
    this.queueStatus.textContent = parts.join(' ');
    this.queueStatus.hidden = false;
  }

  private toggle(open: boolean): void {
    this.panel.hidden = !open;
    this.launcher.hidden = open;
    this.launcher.setAttribute('aria-expanded', String(open));
    if (open) this.input.focus();
    else this.launcher.focus();
  }

  private submit(raw: string, quickReply?: string): void {
    const text = raw.trim();
    if (!text || !this.connection) return;
    const clientId = this.connection.send(text, quickReply);
    this.pendingNodes.set(clientId, this.addBubble('listener', text, true));
    if (!quickReply) this.input.value = '';
    this.quickReplies.replaceChildren();
  }

  private showStatus(status: ConnectionStatus): void {
    this.statusText.textContent = this.labels[status];
    this.panel.dataset.status = status;
  }

  private onReady(frame: ReadyFrame): void {
    this.endedBar.hidden = frame.state !== 'closed';
    this.form.hidden = frame.state === 'closed';
    this.leaveButton.hidden = frame.state === 'closed';
    if (frame.state === 'closed') this.showSurvey();
  }

  private clear(): void {
    this.log.replaceChildren();
    this.survey.replaceChildren();
    this.survey.hidden = true;
    this.quickReplies.replaceChildren();
    this.pendingNodes.clear();
    this.endedBar.hidden = true;
    this.form.hidden = false;
  }

  private onEvent(event: ConversationEvent): void {
    if (event.type === 'conversation.state') {
      const ended = event.to === 'closed';
      this.endedBar.hidden = !ended;
      this.form.hidden = ended;
      this.leaveButton.hidden = ended;
      if (event.to !== 'queued') this.queueStatus.hidden = true;
      if (event.to === 'assigned' && event.agentName) this.addBubble('system', this.labels.agentJoined.replace('{name}', event.agentName), false);
      if (ended) {
        this.quickReplies.replaceChildren();
        this.leaveForm.hidden = true;
        this.showSurvey();
      }
      return;
    }
    this.showMessage(event);
  }

  private showMessage(message: MessageEvent): void {
    if (message.author === 'listener' && message.clientId) {
      const pending = this.pendingNodes.get(message.clientId);
      if (pending) {
        pending.removeAttribute('data-pending');
        this.pendingNodes.delete(message.clientId);
        return;
      }
    }
    this.addBubble(message.author, message.text, false, message.authorName);
    if (message.author !== 'listener') {
      this.typingLine.hidden = true;
      this.showQuickReplies(message.quickReplies ?? []);
    }
  }

  private addBubble(author: MessageEvent['author'], text: string, pending: boolean, name?: string): HTMLElement {
    const bubble = el('div', { class: `msg ${author}` });
    const who = el('span', { class: 'who' }, author === 'listener' ? this.labels.you : (name ?? this.labels[author]));
    const body = el('div', { class: 'body' });
    if (author === 'bot') body.append(renderMarkdown(document, text));
    else body.textContent = text;
    bubble.append(who, body);
    if (pending) bubble.setAttribute('data-pending', '');
    this.log.append(bubble);
    this.log.scrollTop = this.log.scrollHeight;
    return bubble;
  }

  private showQuickReplies(replies: { label: string; value: string }[]): void {
    this.quickReplies.replaceChildren(
      ...replies.map((reply) => {
        const button = el('button', { type: 'button' }, reply.label);
        button.addEventListener('click', () => {
          if (reply.value === 'leave_message') {
            this.leaveForm.hidden = false;
            this.leaveForm.querySelector('input')?.focus();
            return;
          }
          this.submit(reply.label, reply.value);
        });
        return button;
      }),
    );
  }

  private showTyping(author: 'bot' | 'agent', active: boolean): void {
    this.typingLine.hidden = !active;
    this.typingLine.textContent = active ? (author === 'bot' ? this.labels.botTyping : this.labels.agentTyping) : '';
  }

  private onError(code: string, message: string, clientId?: string): void {
    if (code === 'STORE_UNAVAILABLE' || code === 'RATE_LIMITED') return; // shown as state; resent by the connection
    if (clientId) {
      this.pendingNodes.get(clientId)?.setAttribute('data-failed', '');
      this.pendingNodes.delete(clientId);
    }
    this.addBubble('system', `${this.labels.error} ${message}`, false);
  }
}
