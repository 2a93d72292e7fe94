import { AppError } from '../errors.js';
import { redactPii, type RedactionPolicy } from './redaction.js';
import { readAllEvents, type ChatStore } from '../store/chat-store.js';
import type { ConversationEvent, MessageEvent } from '../transport/protocol.js';
import type { ConversationRecord } from './conversation.js';
import type { HandledBy, SurveyRecord } from './csat.js';

export interface SurveyOptions {
  /** How long after the end an answer is accepted. */
  answerWindowMs: number;
  /** Personal data in comments is masked before they are stored (they feed analytics and exports). */
  redaction?: RedactionPolicy;
  /** Told of each accepted answer (metrics). */
  observe?: { answered?(rating: number): void };
  now?: () => Date;
}

/** What the bot understood and did, read from its messages: the intents it acted on, each once, in order. */
function botIntents(events: readonly ConversationEvent[]): string[] {
  const intents = events
    .filter((e): e is MessageEvent => e.type === 'message.new' && e.author === 'bot' && e.understanding !== undefined)
    .flatMap((e) => (e.understanding?.intent ? [e.understanding.intent] : []));
  return [...new Set(intents)];
}

/** The survey record of an ended conversation, from its stored events (pure). */
export function summariseEnded(conversation: ConversationRecord, events: readonly ConversationEvent[], agentIntent: string | null): SurveyRecord | null {
  const states = events.filter((e) => e.type === 'conversation.state');
  const end = [...states].reverse().find((e) => e.type === 'conversation.state' && e.to === 'closed');
  if (!end || end.type !== 'conversation.state') return null;
  const assigned = states.filter((e) => e.type === 'conversation.state' && e.to === 'assigned');
  const agentIds = [...new Set(assigned.flatMap((e) => (e.type === 'conversation.state' && e.agentId ? [e.agentId] : [])))];
  const intents = botIntents(events);
  const firstQueued = states.find((e) => e.type === 'conversation.state' && e.to === 'queued');
  const firstAssigned = assigned[0];
  // The bot "served" the listener when it acted on something other than small talk before a person came.
  const beforePerson = firstAssigned ? events.filter((e) => e.seq < firstAssigned.seq) : events;
  const servedByBot = botIntents(beforePerson).some((intent) => !intent.startsWith('meta.'));
  const handledBy: HandledBy = assigned.length === 0 ? 'bot' : servedByBot ? 'bot_then_agent' : 'agent';
  const handoffReason = firstQueued && firstQueued.type === 'conversation.state' ? firstQueued.reason.replace(/^handoff:/, '') : null;
  const waitMs = firstQueued && firstAssigned ? Math.max(0, Date.parse(firstAssigned.at) - Date.parse(firstQueued.at)) : null;
  return {
    v: 1,
    conversationId: conversation.id,
    startedAt: conversation.createdAt,
    endedAt: end.at,
    endReason: end.reason,
    handledBy,
    agentIds,
    botIntents: intents,
    agentIntent,
    language: conversation.language,
    handoffReason,
    waitMs,
    rating: null,
    comment: null,
    resolved: null,
    answeredAt: null,
  };
}

/** The post-chat survey: recorded for every ended conversation, answered at most once, in time. */
export function createSurveyService(store: ChatStore, options: SurveyOptions) {
  const now = options.now ?? (() => new Date());

  const readAll = (conversationId: string) => readAllEvents(store, conversationId);

  return {
    /** Records the unanswered survey of a conversation that just ended (idempotent). */
    async recordEnded(conversationId: string, agentIntent: string | null): Promise<void> {
      const conversation = await store.getConversation(conversationId);
      if (!conversation || conversation.state !== 'closed') return;
      const record = summariseEnded(conversation, await readAll(conversationId), agentIntent);
      if (!record) return;
      await store.saveSurvey(record);
      await store.markClosed(conversationId, Date.parse(record.endedAt));
    },

    /** The listener's answer: once (a resend changes nothing), and only within the answer window. */
    async answer(conversationId: string, answer: { rating: number; comment?: string; resolved?: boolean }): Promise<{ duplicate: boolean }> {
      // The listener may answer before the node that closed the chat has recorded the survey.
      let survey = await store.getSurvey(conversationId);
      if (!survey) {
        await this.recordEnded(conversationId, null);
        survey = await store.getSurvey(conversationId);
      }
      if (!survey) throw new AppError('SURVEY_NOT_OPEN');
      if (survey.answeredAt !== null) return { duplicate: true };
      const at = now();
      if (at.getTime() - Date.parse(survey.endedAt) > options.answerWindowMs) throw new AppError('SURVEY_CLOSED');
      const comment = answer.comment?.trim() ? redactPii(answer.comment.trim(), options.redaction).text : null;
      const stored = await store.answerSurvey(conversationId, { rating: answer.rating, comment, resolved: answer.resolved ?? null, answeredAt: at.toISOString() });
      if (stored) options.observe?.answered?.(answer.rating);
      return { duplicate: !stored };
    },
  };
}

export type SurveyService = ReturnType<typeof createSurveyService>;
