import type { ConversationEvent, MessageEvent } from '../server/transport/protocol.js';
import { renderMarkdown } from '../widget/markdown.js';
import { el } from './dom.js';
import { formatConfidence, formatTime, reasonLabel } from './format.js';
import { L } from './labels.js';

function stateText(event: Extract<ConversationEvent, { type: 'conversation.state' }>): string {
  // reasons look like "claimed", "handoff:requested" or "closed_by_agent:resolved"
  const [head = '', detail] = event.reason.replace(/^handoff:/, '').split(':');
  const reason = [reasonLabel(head).toLowerCase(), detail?.replace(/_/g, ' ')].filter(Boolean).join(', ');
  switch (event.to) {
    case 'queued':
      return `Waiting for a person (${reason}).`;
    case 'assigned':
      return event.agentName ? `${event.agentName} joined the chat.` : 'A person joined the chat.';
    case 'bot':
      return event.from === null ? 'Chat started with the bot.' : `Back with the bot (${reason}).`;
    case 'closed':
      return `Chat ended (${reason}).`;
  }
}

interface Pending {
  node: HTMLElement;
  messageId?: string;
}

/**
 * One conversation's transcript: every event once, in sequence order, the bot's part
 * included with what it understood. Listener and agent text is textContent; bot answers
 * go through the safe Markdown renderer. Detached while its chat is not the open one.
 */
export class TranscriptView {
  readonly element: HTMLElement;
  private readonly seen = new Set<number>();
  private readonly byMessageId = new Map<string, HTMLElement>();
  private readonly pending = new Map<string, Pending>();
  private agentName: string | undefined;
  private lastBotIntent: string | null = null;
  private ended = false;

  constructor(private readonly me: string) {
    // The transcript is a log, but announcements come from the console's own live region
    // (one voice for all chats), so this one stays quiet.
    this.element = el('div', { class: 'transcript', role: 'log', 'aria-live': 'off', 'aria-label': L.transcript, tabindex: '0', 'data-testid': 'transcript' });
  }

  /** The bot's latest intent guess (to prefill the close dialog). */
  get botIntent(): string | null {
    return this.lastBotIntent;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Adds an event unless already shown; returns whether it was new. */
  add(event: ConversationEvent): boolean {
    if (this.seen.has(event.seq)) return false;
    this.seen.add(event.seq);
    if (event.type === 'conversation.state') {
      if (event.agentName) this.agentName = event.agentName;
      this.ended = event.to === 'closed';
      this.insert(el('p', { class: 'state', 'data-testid': 'state-change', 'data-to': event.to, 'data-seq': String(event.seq) }, stateText(event)), event.seq);
      return true;
    }
    if (event.author === 'bot' && event.understanding) this.lastBotIntent = event.understanding.intent;
    const mine = this.matchPending(event);
    if (mine) {
      this.confirm(mine, event);
      return true;
    }
    const node = this.messageNode(event.author, event.text, event.at, this.authorName(event), event);
    node.dataset.seq = String(event.seq);
    this.byMessageId.set(event.messageId, node);
    this.insert(node, event.seq);
    return true;
  }

  /** Shows an agent reply at once, before the server has confirmed it. */
  addPending(clientId: string, text: string): void {
    const node = this.messageNode('agent', text, new Date().toISOString(), L.you);
    node.dataset.pending = '';
    this.pending.set(clientId, { node });
    this.element.append(node);
    this.scrollToEnd();
  }

  /** The server stored the reply (ack of chat.send). */
  acknowledge(clientId: string, messageId: string, seq: number): void {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    if (this.byMessageId.has(messageId)) {
      // the event came first and is already shown
      entry.node.remove();
      this.pending.delete(clientId);
      return;
    }
    entry.messageId = messageId;
    entry.node.dataset.messageId = messageId;
    entry.node.dataset.seq = String(seq);
  }

  failPending(clientId: string, reason: string): void {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    this.pending.delete(clientId);
    delete entry.node.dataset.pending;
    entry.node.dataset.failed = '';
    entry.node.append(el('p', { class: 'failed', role: 'alert' }, `${L.notSent} ${reason}`));
  }

  private matchPending(event: MessageEvent): [string, Pending] | undefined {
    if (event.author !== 'agent') return undefined;
    for (const [clientId, entry] of this.pending) {
      if (entry.messageId === event.messageId || (event.clientId !== undefined && event.clientId === clientId)) return [clientId, entry];
    }
    return undefined;
  }

  private confirm([clientId, entry]: [string, Pending], event: MessageEvent): void {
    this.pending.delete(clientId);
    delete entry.node.dataset.pending;
    entry.node.dataset.seq = String(event.seq);
    entry.node.dataset.messageId = event.messageId;
    this.byMessageId.set(event.messageId, entry.node);
    const who = entry.node.querySelector('.who');
    if (who) who.textContent = this.authorName(event);
    entry.node.remove();
    this.insert(entry.node, event.seq);
  }

  private authorName(event: MessageEvent): string {
    if (event.author !== 'agent') return L.authors[event.author] ?? event.author;
    if (this.agentName === undefined) return L.authors.agent ?? 'Agent';
    return this.agentName === this.me ? `${this.agentName} (${L.you.toLowerCase()})` : this.agentName;
  }

  private messageNode(author: string, text: string, at: string, who: string, event?: MessageEvent): HTMLElement {
    const body = el('div', { class: 'body' });
    if (author === 'bot') body.append(renderMarkdown(document, text));
    else body.textContent = text;
    const node = el(
      'article',
      { class: `msg ${author}`, 'data-testid': 'message', 'data-author': author },
      el('header', {}, el('span', { class: 'who' }, who), ' ', el('time', { datetime: at }, formatTime(at))),
      body,
    );
    const understanding = event?.understanding;
    if (understanding) {
      const guess = understanding.intent ?? L.noIntent;
      node.append(
        el(
          'p',
          { class: 'understanding', 'data-testid': 'understanding', 'data-intent': understanding.intent ?? '', 'data-confidence': String(understanding.confidence) },
          `Intent: ${guess} · ${formatConfidence(understanding.confidence)} · ${understanding.outcome.replace(/_/g, ' ')}`,
        ),
      );
    }
    if (event?.quickReplies?.length) {
      node.append(el('p', { class: 'offered' }, `Offered: ${event.quickReplies.map((reply) => reply.label).join(' / ')}`));
    }
    return node;
  }

  /** Inserts by sequence number; almost always at the end. */
  private insert(node: HTMLElement, seq: number): void {
    let before: Element | null = null;
    for (let child = this.element.lastElementChild; child; child = child.previousElementSibling) {
      const childSeq = (child as HTMLElement).dataset.seq;
      if ((child as HTMLElement).dataset.pending !== undefined || childSeq === undefined || Number(childSeq) > seq) before = child;
      else break;
    }
    this.element.insertBefore(node, before);
    this.scrollToEnd();
  }

  private scrollToEnd(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }
}
