/**
 * One synthetic listener of the CSAT simulation (docs/simulation.md): one labelled message,
 * one conversation over the widget WebSocket, reactions by the rating model's rules, and the
 * survey answer. Returns the simulation's own record of what happened.
 */
import WebSocket from 'ws';
import type { IntentPolicy } from '../bot/intent-schema.js';
import { parseServerFrame, type QuickReply, type ServerFrame } from '../server/transport/protocol.js';
import {
  classifyTurn,
  HUMAN_AGENT,
  OOS,
  PERSON_REQUEST,
  PROTOCOL,
  RATING_MODEL,
  rate,
  type BotClass,
  type ConversationOutcome,
  type Draws,
  type Ending,
  type PoolItem,
} from './simulate-model.js';

export interface ListenerDeps {
  wsUrl: string;
  policyOf: (intent: string) => IntentPolicy | undefined;
  /** Called once the conversation exists, before the first message (the agents look it up). */
  register: (conversationId: string) => void;
}

type StateFrame = Extract<ServerFrame, { type: 'conversation.state' }>;
type MessageFrame = Extract<ServerFrame, { type: 'message.new' }>;

class Inbox {
  readonly frames: ServerFrame[] = [];
  private waiters: { from: number; test: (frame: ServerFrame) => boolean; resolve: (frame: ServerFrame) => void }[] = [];
  closed: string | null = null;

  push(frame: ServerFrame): void {
    this.frames.push(frame);
    const index = this.frames.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (index >= w.from && w.test(frame)) {
        w.resolve(frame);
        return false;
      }
      return true;
    });
  }

  /** The first frame at or after `from` that passes `test` (already received or still to come). */
  waitFor<F extends ServerFrame>(test: (frame: ServerFrame) => frame is F, from?: number): Promise<F>;
  waitFor(test: (frame: ServerFrame) => boolean, from?: number): Promise<ServerFrame>;
  waitFor(test: (frame: ServerFrame) => boolean, from = 0): Promise<ServerFrame> {
    for (let i = from; i < this.frames.length; i++) {
      const frame = this.frames[i];
      if (frame && test(frame)) return Promise.resolve(frame);
    }
    if (this.closed) return Promise.reject(new Error(`socket closed: ${this.closed}`));
    return new Promise((resolve) => this.waiters.push({ from, test, resolve }));
  }
}

const isState = (frame: ServerFrame): frame is StateFrame => frame.type === 'conversation.state';
const isMessage = (frame: ServerFrame): frame is MessageFrame => frame.type === 'message.new';

interface Turn {
  intent: string | null;
  outcome: string;
  modelVersion: string | null;
  handoffReason: string | null;
  /** The quick replies of the turn's bot messages received so far. */
  quickReplies: QuickReply[];
  queued: StateFrame | null;
  closed: boolean;
}

/** Runs one conversation; never throws (a failure is recorded in the outcome). */
export async function runListener(item: PoolItem, index: number, draws: Draws, deps: ListenerDeps): Promise<ConversationOutcome> {
  const outcome: ConversationOutcome = { index, conversationId: null, truth: item.intent, language: item.language, klass: null, ending: null, rating: null, personJoined: false, modelVersion: null, surveyRetries: 0, failed: null };
  const socket = new WebSocket(deps.wsUrl);
  const inbox = new Inbox();
  socket.on('message', (data) => {
    const frame = parseServerFrame(data.toString());
    if (frame) inbox.push(frame);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`conversation did not finish within ${PROTOCOL.conversationTimeoutMs} ms`)), PROTOCOL.conversationTimeoutMs);
  });
  try {
    await Promise.race([converse(socket, inbox, item, draws, deps, outcome), timeout]);
  } catch (error) {
    const recent = inbox.frames.slice(-6).map((f) => (f.type === 'conversation.state' ? `state:${f.to}(${f.reason})` : f.type === 'message.new' ? `${f.author}:${f.understanding?.outcome ?? ''}` : f.type));
    outcome.failed = `${(error as Error).message} [class ${outcome.klass ?? '?'}; last frames ${recent.join(', ')}]`;
  } finally {
    clearTimeout(timer);
    socket.close();
  }
  return outcome;
}

async function converse(socket: WebSocket, inbox: Inbox, item: PoolItem, draws: Draws, deps: ListenerDeps, outcome: ConversationOutcome): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('close', (code) => {
    inbox.closed = `code ${code}`;
  });
  const send = (frame: Record<string, unknown>) => socket.send(JSON.stringify(frame));
  const language = item.language;
  const oos = item.intent === OOS;

  send({ type: 'conversation.start', language });
  const ready = await inbox.waitFor((f) => f.type === 'conversation.ready' || f.type === 'error');
  if (ready.type === 'error') throw new Error(`conversation.start refused: ${ready.code} ${ready.message}`);
  if (ready.type !== 'conversation.ready') throw new Error('unexpected frame');
  outcome.conversationId = ready.conversationId;
  deps.register(ready.conversationId);

  let sent = 0;
  /** Sends one listener message and reads the bot's whole turn. */
  async function turn(text: string, quickReply?: string): Promise<Turn> {
    const clientId = `s${++sent}`;
    const from = inbox.frames.length;
    send({ type: 'message.send', clientId, text, ...(quickReply === undefined ? {} : { quickReply }) });
    const ack = await inbox.waitFor((f) => (f.type === 'message.ack' || f.type === 'error') && f.clientId === clientId, from);
    if (ack.type === 'error') throw new Error(`message refused: ${ack.code} ${ack.message}`);
    if (ack.type !== 'message.ack') throw new Error('unexpected frame');
    const first = await inbox.waitFor((f): f is MessageFrame => isMessage(f) && f.author === 'bot' && f.seq > ack.seq && f.understanding !== undefined);
    const understanding = first.understanding!;
    let queued: StateFrame | null = null;
    let closed = false;
    if (understanding.outcome === 'handoff') {
      queued = await inbox.waitFor((f): f is StateFrame => isState(f) && f.seq > ack.seq && f.to === 'queued');
    } else if (understanding.outcome === 'resolved' || understanding.outcome === 'closed') {
      await inbox.waitFor((f) => isState(f) && f.seq > ack.seq && f.to === 'closed');
      closed = true;
    } else if (understanding.outcome === 'awaiting_confirmation') {
      await inbox.waitFor((f) => isMessage(f) && f.author === 'bot' && f.seq > ack.seq && (f.quickReplies ?? []).some((q) => q.value === 'confirm:yes'));
    }
    const quickReplies = inbox.frames.filter((f): f is MessageFrame => isMessage(f) && f.author === 'bot' && f.seq > ack.seq).flatMap((f) => f.quickReplies ?? []);
    return {
      intent: understanding.intent,
      outcome: understanding.outcome,
      modelVersion: understanding.modelVersion,
      handoffReason: queued ? queued.reason.replace(/^handoff:/, '') : null,
      quickReplies,
      queued,
      closed,
    };
  }

  async function leave(): Promise<void> {
    const from = inbox.frames.length;
    send({ type: 'conversation.leave' });
    await inbox.waitFor((f) => isState(f) && f.to === 'closed', from);
  }

  /** Waits for a person after a handoff, then for the agent to close the chat. */
  async function withPerson(queued: StateFrame, wrongFirst: boolean): Promise<Ending> {
    const assigned = await inbox.waitFor((f): f is StateFrame => isState(f) && f.seq > queued.seq && f.to === 'assigned');
    outcome.personJoined = true;
    const closed = await inbox.waitFor((f): f is StateFrame => isState(f) && f.seq > assigned.seq && f.to === 'closed');
    const waitMs = Math.max(0, Date.parse(assigned.at) - Date.parse(queued.at));
    return { kind: 'person', waitMs, resolved: closed.reason === 'closed_by_agent:resolved', oos, wrongFirst };
  }

  /** Taps "Talk to a person" when offered, otherwise types the request; a few tries. */
  async function askForPerson(offered: QuickReply[], wrongFirst: boolean): Promise<Ending> {
    let quickReplies = offered;
    for (let attempt = 0; attempt < RATING_MODEL.personTries; attempt++) {
      const button = quickReplies.find((q) => q.value === 'handoff');
      const t = button ? await turn(button.label, button.value) : await turn(PERSON_REQUEST[language]);
      if (t.queued) return withPerson(t.queued, wrongFirst);
      if (t.closed) return { kind: 'no_person' };
      quickReplies = t.quickReplies;
    }
    await leave();
    return { kind: 'no_person' };
  }

  async function askOrLeave(offered: QuickReply[], pAsk: number, wrongFirst: boolean, left: Ending): Promise<Ending> {
    if (draws.ask < pAsk) return askForPerson(offered, wrongFirst);
    await leave();
    return left;
  }

  const tap = (t: Turn, value: string) => {
    const reply = t.quickReplies.find((q) => q.value === value);
    return reply ? turn(reply.label, reply.value) : null;
  };

  let t = await turn(item.text);
  outcome.modelVersion = t.modelVersion;
  const first = classifyTurn(item.intent, t, deps.policyOf);
  let klass: BotClass;
  if (first === 'clarify') {
    const option = await tap(t, `intent:${item.intent}`);
    if (option) {
      t = option;
      klass = 'right_after_clarify';
    } else klass = oos ? 'oos_declined' : 'not_understood';
  } else klass = first;
  outcome.klass = klass;

  let ending: Ending;
  switch (klass) {
    case 'right':
    case 'right_after_clarify': {
      const right: Ending = { kind: 'bot_right', afterClarify: klass === 'right_after_clarify' };
      if (t.queued) ending = await withPerson(t.queued, false);
      else if (t.closed) ending = right;
      else if (t.outcome === 'awaiting_confirmation') {
        const yes = await tap(t, 'confirm:yes');
        if (yes?.queued) ending = await withPerson(yes.queued, false);
        else {
          if (!yes?.closed) await leave();
          ending = right;
        }
      } else {
        await leave();
        ending = right;
      }
      break;
    }
    case 'wrong':
    case 'oos_answered': {
      const left: Ending = { kind: 'wrong_left' };
      if (t.closed) ending = left;
      else if (t.queued) ending = await withPerson(t.queued, true);
      else if (t.outcome === 'awaiting_confirmation') {
        const no = await tap(t, 'confirm:no');
        if (no?.queued) ending = await withPerson(no.queued, true);
        else if (no?.closed) ending = left;
        else ending = await askOrLeave(no?.quickReplies ?? [], RATING_MODEL.pAskAfterWrong, true, left);
      } else ending = await askOrLeave(t.quickReplies, RATING_MODEL.pAskAfterWrong, true, left);
      break;
    }
    case 'not_understood':
      ending = t.queued
        ? await withPerson(t.queued, false)
        : await askOrLeave(t.quickReplies, item.intent === HUMAN_AGENT ? 1 : RATING_MODEL.pAskAfterNotUnderstood, false, { kind: 'not_understood_left' });
      break;
    case 'oos_declined':
      ending = t.queued ? await withPerson(t.queued, false) : await askOrLeave(t.quickReplies, RATING_MODEL.pAskOos, false, { kind: 'oos_declined_left' });
      break;
    case 'to_person':
      if (!t.queued) throw new Error(`expected a handoff for class to_person (outcome ${t.outcome})`);
      ending = await withPerson(t.queued, false);
      break;
  }
  outcome.ending = ending;

  // The survey is recorded as the chat ends; an answer that races it is sent again shortly.
  const { rating, resolved } = rate(ending, draws);
  for (let attempt = 0; ; attempt++) {
    const from = inbox.frames.length;
    send({ type: 'survey.answer', rating, resolved });
    const answer = await inbox.waitFor((f) => f.type === 'survey.ack' || f.type === 'error', from);
    if (answer.type === 'survey.ack') break;
    if (answer.type === 'error' && answer.code === 'SURVEY_NOT_OPEN' && attempt < 40) {
      outcome.surveyRetries++;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    throw new Error(`survey refused: ${answer.type === 'error' ? answer.code : 'unexpected frame'}`);
  }
  outcome.rating = rating;
}
