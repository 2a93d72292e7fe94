import { saveChosenStatus } from './chosen-status.js';
import type { AgentProfile, AgentRequest, AgentRequestName, HandoffSummary, PresenceStatus } from '../server/transport/agent-protocol.js';
import type { ConversationEvent, WireLanguage } from '../server/transport/protocol.js';
import { createAgentClient, type AckResult, type AgentClient, type AgentSocket, type CannedReply, type ConnectionState } from './agent-client.js';
import { ChatPane, type OpenChat } from './chat-pane.js';
import { ChatTabs } from './chat-tabs.js';
import { CloseDialog, ConfirmDialog, TransferDialog } from './dialogs.js';
import { button, el } from './dom.js';
import { reasonLabel, shortId } from './format.js';
import { ERROR_TEXT, L } from './labels.js';
import { LeftMessagesView } from './left-messages-view.js';
import { createMyCsatApi, MyCsatView, type MyCsatApi } from './my-csat-view.js';
import { QueueView } from './queue-view.js';
import type { SessionApi } from './session-api.js';
import { SignInView } from './signin-view.js';
import { TranscriptView } from './transcript-view.js';
import { TypingSignal } from './typing-signal.js';

export interface ConsoleDeps {
  root: HTMLElement;
  brand: string;
  session: SessionApi;
  /** A new, not yet connected socket on /agents (the session cookie authenticates it). */
  openSocket(): AgentSocket;
  /** The agent's own CSAT figures (same-origin HTTP by default). */
  myCsat?: MyCsatApi;
}

interface ChatRecord extends OpenChat {
  unread: number;
  typingSignal: TypingSignal;
  typingTimer: ReturnType<typeof setTimeout> | undefined;
}

type Failure = { ok: false; code: string; message: string };

/** A listener typing indicator that never got its "stopped" is cleared after this long. */
const LISTENER_TYPING_MAX_MS = 10_000;
const NOTICE_MS = 10_000;

/**
 * The console: sign-in, then presence, queue, my chats, the open chat and left messages.
 * It wires the agent client (socket) to the views; the views never touch the socket.
 */
export class ConsoleApp {
  private readonly signIn: SignInView;
  private readonly shell: HTMLElement;
  private readonly connection: HTMLElement;
  private readonly presence: HTMLSelectElement;
  private readonly agentName: HTMLElement;
  private readonly leftToggle: HTMLButtonElement;
  private readonly notice: HTMLElement;
  private readonly noticeText: HTMLElement;
  private readonly announcer: HTMLElement;
  private readonly workspace: HTMLElement;
  private readonly queue: QueueView;
  private readonly tabs: ChatTabs;
  private readonly pane: ChatPane;
  private readonly leftMessages: LeftMessagesView;
  private readonly myCsatToggle: HTMLButtonElement;
  private readonly myCsat: MyCsatView;
  private readonly myCsatApi: MyCsatApi;
  /** Counts My CSAT loads, so an answer that arrives after a newer load (or a sign-out) is dropped. */
  private myCsatLoads = 0;
  private readonly closeDialog = new CloseDialog();
  private readonly transferDialog = new TransferDialog();
  private readonly returnDialog = new ConfirmDialog('return-to-bot', L.returnToBot);

  private me: AgentProfile | null = null;
  private client: AgentClient | null = null;
  private unsubscribe: (() => void)[] = [];
  private readonly chats = new Map<string, ChatRecord>();
  private activeId: string | null = null;
  private queueItems: HandoffSummary[] = [];
  private readonly canned = new Map<WireLanguage, Promise<CannedReply[]>>();
  private readonly intentLabels = new Map<string, string>();
  /** Chats this agent ended or passed on: their chat.removed is expected, not news. */
  private readonly leaving = new Set<string>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private clientCounter = 0;
  /** The status the agent chose, re-asserted after a reconnect (the server starts each connection as it likes). */
  private chosenStatus: PresenceStatus | null = null;

  constructor(private readonly deps: ConsoleDeps) {
    this.signIn = new SignInView(deps.brand, (email, password) => this.submitSignIn(email, password));

    this.connection = el('span', { class: 'connection', role: 'status', 'data-testid': 'connection', 'data-state': 'offline' }, L.connection.offline);
    this.presence = el(
      'select',
      { id: 'presence', 'data-testid': 'presence' },
      el('option', { value: 'online' }, L.online),
      el('option', { value: 'away' }, L.away),
      el('option', { value: 'offline', disabled: '' }, L.offline),
    );
    this.presence.addEventListener('change', () => void this.setPresence(this.presence.value as PresenceStatus));
    this.agentName = el('span', { class: 'agent-name', 'data-testid': 'agent-name' });
    this.leftToggle = button(L.leftMessages, { 'aria-pressed': 'false', 'data-testid': 'left-messages' }, () => this.toggleLeftMessages());
    this.noticeText = el('span', {});
    this.notice = el('div', { class: 'notice', role: 'alert', 'data-testid': 'notice', hidden: '' }, this.noticeText, button(L.dismiss, { class: 'link' }, () => this.hideNotice()));
    this.announcer = el('div', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'announcer' });

    this.queue = new QueueView({ take: (id) => void this.take(id), takeNext: () => void this.takeNext() });
    this.tabs = new ChatTabs((id) => this.select(id, true));
    this.pane = new ChatPane({
      send: (text) => void this.send(text),
      input: () => this.active()?.typingSignal.input(),
      close: () => this.openClose(),
      transfer: () => this.openTransfer(),
      returnToBot: () => this.openReturnToBot(),
    });
    this.leftMessages = new LeftMessagesView({ refresh: () => void this.loadLeftMessages(), back: () => this.toggleLeftMessages(false) });
    this.myCsatApi = deps.myCsat ?? createMyCsatApi();
    this.myCsatToggle = button(L.myCsat.button, { 'aria-pressed': 'false', 'data-testid': 'my-csat' }, () => this.toggleMyCsat());
    this.myCsat = new MyCsatView({ refresh: () => void this.loadMyCsat(), back: () => this.toggleMyCsat(false) });

    const header = el(
      'header',
      { class: 'topbar' },
      el('h1', {}, `${deps.brand} · ${L.consoleTitle}`),
      this.connection,
      el('label', { class: 'presence', for: 'presence' }, `${L.presence} `, this.presence),
      this.leftToggle,
      this.myCsatToggle,
      el('span', { class: 'spacer' }),
      this.agentName,
      button(L.signOut, { 'data-testid': 'sign-out' }, () => void this.signOut()),
    );
    this.workspace = el('div', { class: 'workspace' }, el('aside', { class: 'side' }, this.queue.element), el('main', { class: 'chats' }, this.tabs.element, this.pane.element));
    this.shell = el('div', { class: 'shell', hidden: '' }, header, this.notice, this.workspace, this.leftMessages.element, this.myCsat.element);
    deps.root.replaceChildren(this.signIn.element, this.shell, this.announcer, this.closeDialog.element, this.transferDialog.element, this.returnDialog.element);
    this.signIn.element.hidden = true;
  }

  /** Resumes a session the browser already has, or shows the sign-in form. */
  async start(): Promise<void> {
    const session = await this.deps.session.current();
    if (session.ok) this.enter(session.agent);
    else this.showSignIn(session.code === 'NETWORK' ? L.cannotReach : undefined);
  }

  /* ---------- session ---------- */

  private async submitSignIn(email: string, password: string): Promise<string | null> {
    const result = await this.deps.session.signIn(email, password);
    if (result.ok) {
      this.enter(result.agent);
      return null;
    }
    if (result.code === 'INVALID_CREDENTIALS' || result.code === 'UNAUTHORIZED') return L.wrongCredentials;
    if (result.code === 'NETWORK') return L.cannotReach;
    if (result.code === 'VALIDATION_FAILED') return L.missingFields;
    return result.message;
  }

  private showSignIn(message?: string): void {
    this.shell.hidden = true;
    this.signIn.element.hidden = false;
    this.signIn.reset(message);
    document.title = `${this.deps.brand} · ${L.consoleTitle}`;
    this.signIn.focus();
  }

  private enter(agent: AgentProfile): void {
    this.me = agent;
    this.agentName.textContent = agent.displayName;
    this.signIn.element.hidden = true;
    this.shell.hidden = false;
    this.renderQueue();
    this.renderTabs();
    this.pane.show(null);

    const client = createAgentClient(this.deps.openSocket());
    this.client = client;
    this.unsubscribe = [
      client.onState((state) => this.showConnection(state)),
      client.on('agent.ready', (push) => void this.onReady(push.agent, push.chats, push.status)),
      client.on('queue.updated', (push) => {
        this.queueItems = push.items;
        this.renderQueue();
      }),
      client.on('chat.assigned', (push) => this.addChat(push.chat, false, true)),
      client.on('chat.removed', (push) => this.removeChat(push.conversationId, push.reason)),
      client.on('chat.event', (push) => this.onEvent(push.conversationId, push.event)),
      client.on('chat.typing', (push) => this.onListenerTyping(push.conversationId, push.active)),
    ];
    client.connect();
    clearInterval(this.ticker);
    this.ticker = setInterval(() => {
      const now = Date.now();
      this.queue.tick(now);
      this.pane.tick(now);
    }, 1000);
    this.presence.focus();
  }

  /** Back to the sign-in form, forgetting everything of the session. */
  private leave(message?: string): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.client?.close();
    this.client = null;
    clearInterval(this.ticker);
    for (const chat of this.chats.values()) this.forget(chat);
    this.chats.clear();
    this.activeId = null;
    this.queueItems = [];
    this.canned.clear();
    this.me = null;
    this.chosenStatus = null;
    for (const dialog of [this.closeDialog, this.transferDialog, this.returnDialog]) if (dialog.element.open) dialog.element.close();
    this.toggleLeftMessages(false);
    this.toggleMyCsat(false);
    this.myCsatLoads += 1;
    this.myCsat.clear();
    this.hideNotice();
    this.showSignIn(message);
  }

  private async signOut(): Promise<void> {
    for (const chat of this.chats.values()) chat.typingSignal.stop();
    await this.deps.session.signOut();
    this.leave();
  }

  private showConnection(state: ConnectionState): void {
    this.connection.dataset.state = state;
    this.connection.textContent = L.connection[state];
    if (state === 'unauthorized') this.leave(L.sessionEnded);
    if (state === 'forbidden') void this.deps.session.signOut().then(() => this.leave(L.notAnAgent));
  }

  private request<N extends AgentRequestName>(name: N, payload: AgentRequest<N>): Promise<AckResult<N>> {
    if (!this.client) return Promise.resolve({ ok: false, code: 'OFFLINE', message: ERROR_TEXT.OFFLINE ?? 'Not connected.' });
    return this.client.request(name, payload);
  }

  /** The sentence for a refusal; an expired session sends the agent back to sign in. */
  private failureText(failure: Failure): string {
    if (failure.code === 'UNAUTHORIZED') queueMicrotask(() => this.leave(L.sessionEnded));
    return ERROR_TEXT[failure.code] ?? failure.message;
  }

  private showFailure(failure: Failure): void {
    this.showNotice(this.failureText(failure), failure.code);
  }

  /* ---------- presence, queue ---------- */

  private async onReady(agent: AgentProfile, chats: HandoffSummary[], status: PresenceStatus): Promise<void> {
    this.me = agent;
    this.agentName.textContent = agent.displayName;
    this.showPresence(status);
    if (this.chosenStatus && this.chosenStatus !== status) void this.setPresence(this.chosenStatus);
    const current = new Set(chats.map((chat) => chat.conversationId));
    for (const id of [...this.chats.keys()]) if (!current.has(id)) this.removeChat(id, 'ended_while_away');
    for (const chat of chats) this.addChat(chat, false, false);
    for (const language of agent.languages) void this.cannedFor(language);
    const queue = await this.request('queue.list', {});
    if (queue.ok) {
      this.queueItems = queue.items;
      this.renderQueue();
    } else this.showFailure(queue);
  }

  private async setPresence(status: PresenceStatus): Promise<void> {
    const before = this.presence.dataset.status as PresenceStatus | undefined;
    delete this.presence.dataset.status;
    const result = await this.request('presence.set', { status });
    if (result.ok) {
      this.chosenStatus = status;
      saveChosenStatus(status);
      return this.showPresence(status);
    }
    this.showFailure(result);
    if (before) this.showPresence(before);
  }

  /** data-status is the status the server has confirmed; the select's value is what the agent picked. */
  private showPresence(status: PresenceStatus): void {
    this.presence.value = status;
    this.presence.dataset.status = status;
  }

  private renderQueue(): void {
    this.queue.render(this.queueItems, (intent) => this.intentLabel(intent));
  }

  private async take(conversationId: string): Promise<void> {
    const result = await this.request('chat.claim', { conversationId });
    if (!result.ok) return this.showFailure(result);
    this.addChat(result.chat, true, false);
  }

  private async takeNext(): Promise<void> {
    const result = await this.request('chat.claimNext', {});
    if (!result.ok) return this.showFailure(result);
    this.addChat(result.chat, true, false);
  }

  /* ---------- my chats ---------- */

  private addChat(summary: HandoffSummary, select: boolean, announce: boolean): void {
    const id = summary.conversationId;
    let chat = this.chats.get(id);
    if (!chat) {
      const me = this.me?.displayName ?? '';
      chat = {
        summary,
        title: '',
        transcript: new TranscriptView(me),
        draft: '',
        listenerTyping: false,
        ended: false,
        unread: 0,
        typingSignal: new TypingSignal((active) => void this.request('chat.typing', { conversationId: id, active })),
        typingTimer: undefined,
      };
      chat.title = this.chatTitle(chat);
      this.chats.set(id, chat);
      if (announce) this.announce(L.assigned(chat.title));
    } else {
      chat.summary = summary;
    }
    this.queueItems = this.queueItems.filter((item) => item.conversationId !== id);
    this.renderQueue();
    void this.openChat(id);
    if (select || this.activeId === null) this.select(id, select);
    else this.renderTabs();
  }

  /** Loads the whole transcript (merged with what already arrived, by sequence number). */
  private async openChat(conversationId: string): Promise<void> {
    const result = await this.request('chat.open', { conversationId });
    const chat = this.chats.get(conversationId);
    if (!chat) return;
    if (!result.ok) {
      if (result.code === 'NOT_FOUND') this.removeChat(conversationId, 'not_yours');
      else this.showFailure(result);
      return;
    }
    chat.summary = result.chat;
    for (const event of [...result.events].sort((a, b) => a.seq - b.seq)) chat.transcript.add(event);
    chat.ended = chat.transcript.isEnded || result.chat.state === 'closed';
    await this.cannedFor(result.chat.language);
    chat.title = this.chatTitle(chat);
    this.refresh(chat);
  }

  private select(conversationId: string | null, focusComposer: boolean): void {
    if (this.activeId && this.activeId !== conversationId) this.chats.get(this.activeId)?.typingSignal.stop();
    const chat = conversationId ? this.chats.get(conversationId) : undefined;
    this.activeId = chat ? conversationId : null;
    if (chat) chat.unread = 0;
    this.toggleLeftMessages(false);
    this.toggleMyCsat(false);
    this.pane.show(chat ?? null);
    this.renderTabs();
    if (!chat) return;
    void this.cannedFor(chat.summary.language).then((replies) => {
      if (this.activeId === conversationId) this.pane.setCannedReplies(replies);
    });
    if (focusComposer) this.pane.focusComposer();
  }

  private active(): ChatRecord | undefined {
    return this.activeId ? this.chats.get(this.activeId) : undefined;
  }

  private onEvent(conversationId: string, event: ConversationEvent): void {
    const chat = this.chats.get(conversationId);
    if (!chat || !chat.transcript.add(event)) return;
    if (event.type === 'conversation.state') {
      if (event.to === 'closed') {
        chat.ended = true;
        chat.typingSignal.stop();
        this.announce(`${chat.title}: ${L.chatEnded}`);
      }
    } else if (event.author !== 'agent') {
      if (event.author === 'listener') this.setListenerTyping(chat, false);
      if (conversationId !== this.activeId) chat.unread += 1;
      this.announce(`${L.newMessageIn(chat.title)} ${event.text.slice(0, 200)}`);
    }
    this.refresh(chat);
  }

  private onListenerTyping(conversationId: string, active: boolean): void {
    const chat = this.chats.get(conversationId);
    if (!chat) return;
    this.setListenerTyping(chat, active);
    this.pane.update(chat);
  }

  private setListenerTyping(chat: ChatRecord, active: boolean): void {
    clearTimeout(chat.typingTimer);
    chat.listenerTyping = active;
    if (active) {
      chat.typingTimer = setTimeout(() => {
        chat.listenerTyping = false;
        this.pane.update(chat);
      }, LISTENER_TYPING_MAX_MS);
    }
  }

  private removeChat(conversationId: string, reason: string): void {
    const chat = this.chats.get(conversationId);
    if (!chat) return;
    this.forget(chat);
    this.chats.delete(conversationId);
    if (this.leaving.delete(conversationId) === false) this.showNotice(`${chat.title}: ${L.chatLeft(reason)}`, 'CHAT_REMOVED');
    if (this.activeId === conversationId) {
      const next = [...this.chats.keys()][0] ?? null;
      this.select(next, false);
      // focus would otherwise be lost with the removed pane content
      if (!next) this.queue.element.querySelector<HTMLElement>('[data-testid="take-next"]')?.focus();
    } else this.renderTabs();
  }

  private forget(chat: ChatRecord): void {
    chat.typingSignal.stop();
    clearTimeout(chat.typingTimer);
  }

  private refresh(chat: ChatRecord): void {
    this.pane.update(chat);
    this.renderTabs();
  }

  private renderTabs(): void {
    const tabs = [...this.chats.values()].map((chat) => ({ conversationId: chat.summary.conversationId, label: chat.title, unread: chat.unread, ended: chat.ended }));
    this.tabs.render(tabs, this.activeId);
    const unread = tabs.reduce((sum, tab) => sum + tab.unread, 0);
    document.title = `${unread > 0 ? `(${unread}) ` : ''}${this.deps.brand} · ${L.consoleTitle}`;
  }

  private chatTitle(chat: { summary: HandoffSummary }): string {
    const { intent, reason, conversationId } = chat.summary;
    // "meta.human_agent" says less than the reason ("Asked for a person")
    const topic = intent && !intent.startsWith('meta.') ? this.intentLabel(intent) : reasonLabel(reason);
    return `${topic} ${shortId(conversationId)}`;
  }

  /* ---------- composing ---------- */

  private async send(text: string): Promise<void> {
    const chat = this.active();
    if (!chat) return;
    const conversationId = chat.summary.conversationId;
    const clientId = `a${Date.now().toString(36)}${(this.clientCounter++).toString(36)}`;
    chat.typingSignal.stop();
    chat.transcript.addPending(clientId, text);
    const result = await this.request('chat.send', { conversationId, clientId, text });
    if (result.ok) chat.transcript.acknowledge(clientId, result.messageId, result.seq);
    else chat.transcript.failPending(clientId, this.failureText(result));
  }

  private cannedFor(language: WireLanguage): Promise<CannedReply[]> {
    let replies = this.canned.get(language);
    if (!replies) {
      replies = this.request('cannedReplies.list', { language }).then((result) => {
        if (!result.ok) {
          this.canned.delete(language);
          return [];
        }
        for (const reply of result.replies) if (!this.intentLabels.has(reply.intent) || language === 'en') this.intentLabels.set(reply.intent, reply.label);
        // labels arrived: names in the queue and tabs get friendlier
        for (const chat of this.chats.values()) chat.title = this.chatTitle(chat);
        this.renderQueue();
        this.renderTabs();
        return result.replies;
      });
      this.canned.set(language, replies);
    }
    return replies;
  }

  private intentLabel(intent: string): string {
    return this.intentLabels.get(intent) ?? intent;
  }

  /* ---------- close, transfer, return to bot ---------- */

  private openClose(): void {
    const chat = this.active();
    if (!chat) return;
    const id = chat.summary.conversationId;
    void this.cannedFor(chat.summary.language).then((replies) => {
      if (this.activeId !== id) return;
      const intents = [...new Map(replies.map((reply) => [reply.intent, { id: reply.intent, label: reply.label }])).values()].sort((a, b) => a.id.localeCompare(b.id));
      const prefill = chat.summary.intent && !chat.summary.intent.startsWith('meta.') ? chat.summary.intent : (chat.transcript.botIntent ?? chat.summary.intent);
      this.closeDialog.open({ intent: prefill, intents }, async (resolution) => {
        this.leaving.add(id);
        const result = await this.request('chat.close', { conversationId: id, resolution });
        if (!result.ok) {
          this.leaving.delete(id);
          return this.failureText(result);
        }
        this.removeChat(id, 'closed');
        this.leaving.delete(id);
        this.announce('Chat closed.');
        return null;
      });
    });
  }

  private openTransfer(): void {
    const chat = this.active();
    if (!chat) return;
    const id = chat.summary.conversationId;
    this.transferDialog.open(chat.summary.language, async (to) => {
      this.leaving.add(id);
      const result = await this.request('chat.transfer', { conversationId: id, to });
      if (!result.ok) {
        this.leaving.delete(id);
        return this.failureText(result);
      }
      this.removeChat(id, 'transferred');
      this.leaving.delete(id);
      this.announce('Chat transferred.');
      return null;
    });
  }

  private openReturnToBot(): void {
    const chat = this.active();
    if (!chat) return;
    const id = chat.summary.conversationId;
    this.returnDialog.open(L.returnToBotConfirm, async () => {
      this.leaving.add(id);
      const result = await this.request('chat.returnToBot', { conversationId: id });
      if (!result.ok) {
        this.leaving.delete(id);
        return this.failureText(result);
      }
      this.removeChat(id, 'returned to the bot');
      this.leaving.delete(id);
      this.announce('Chat returned to the bot.');
      return null;
    });
  }

  /* ---------- left messages ---------- */

  private toggleLeftMessages(show = this.leftMessages.element.hidden): void {
    if (show) this.toggleMyCsat(false);
    this.leftMessages.element.hidden = !show;
    this.syncWorkspace();
    this.leftToggle.setAttribute('aria-pressed', String(show));
    if (show) {
      this.leftMessages.focus();
      void this.loadLeftMessages();
    }
  }

  private async loadLeftMessages(): Promise<void> {
    this.leftMessages.loading();
    const result = await this.request('messages.list', {});
    if (result.ok) this.leftMessages.render(result.items);
    else this.leftMessages.failed(this.failureText(result));
  }

  /** The chats show unless another view (left messages, My CSAT) is open. */
  private syncWorkspace(): void {
    this.workspace.hidden = !this.leftMessages.element.hidden || !this.myCsat.element.hidden;
  }

  /* ---------- my CSAT ---------- */

  private toggleMyCsat(show = this.myCsat.element.hidden): void {
    if (show) this.toggleLeftMessages(false);
    this.myCsat.element.hidden = !show;
    this.syncWorkspace();
    this.myCsatToggle.setAttribute('aria-pressed', String(show));
    if (show) {
      this.myCsat.focus();
      void this.loadMyCsat();
    }
  }

  private async loadMyCsat(): Promise<void> {
    const load = ++this.myCsatLoads;
    this.myCsat.loading();
    const result = await this.myCsatApi.load();
    if (load !== this.myCsatLoads) return;
    if (result.ok) this.myCsat.render(result.report, (intent) => this.intentLabel(intent));
    else if (result.code === 'NETWORK') this.myCsat.failed(L.cannotReach);
    else this.myCsat.failed(result.code === 'FORBIDDEN' ? L.notAnAgent : this.failureText(result));
  }

  /* ---------- notices ---------- */

  private showNotice(text: string, code: string): void {
    this.noticeText.textContent = text;
    this.notice.dataset.code = code;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => this.hideNotice(), NOTICE_MS);
  }

  private hideNotice(): void {
    clearTimeout(this.noticeTimer);
    this.notice.hidden = true;
  }

  private announce(text: string): void {
    // cleared first so the same sentence twice is announced twice
    this.announcer.textContent = '';
    setTimeout(() => (this.announcer.textContent = text), 50);
  }
}
