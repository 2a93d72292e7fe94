import type { BotContext } from './bot-context.js';
import { BOT_MESSAGES, type BotMessageKey } from './bot-messages.js';
import type { IntentClassifier, ScoredIntent } from './classifier.js';
import type { IntentDefinition } from './intent-schema.js';
import type { Language } from './language.js';
import { assessFrustration } from './frustration.js';
import type { IntentOverrides } from './policy-overrides.js';
import { withBrand } from './training-data.js';

/** Quick-reply values the bot understands without classifying. */
export const QUICK_REPLY = {
  handoff: 'handoff',
  /** Handled by the widget itself: shows the leave-a-message form. */
  leaveMessage: 'leave_message',
  keepWaiting: 'keep_waiting',
  yes: 'confirm:yes',
  no: 'confirm:no',
  intent: (id: string) => `intent:${id}`,
} as const;

export const HUMAN_AGENT_INTENT = 'meta.human_agent';
/** Not-understood turns in a row after which the bot hands off by itself. */
export const NOT_UNDERSTOOD_HANDOFF_AFTER = 3;

export interface BotReply {
  text: string;
  quickReplies: { label: string; value: string }[];
}

export type HandoffReason = 'requested' | 'policy' | 'not_understood' | 'confirmation_failed' | 'frustrated';

export type BotOutcome =
  | 'answered'
  | 'awaiting_confirmation'
  | 'clarify'
  | 'not_understood'
  | 'handoff'
  | 'resolved'
  | 'feedback'
  | 'closed';

export interface BotTurn {
  outcome: BotOutcome;
  /** What the bot understood: the intent it acted on (null when it understood nothing). */
  intent: string | null;
  confidence: number;
  /** The classifier's top guesses, kept for the agent and for tuning. */
  guesses: ScoredIntent[];
  replies: BotReply[];
  handoff?: { reason: HandoffReason; priority: 'normal' | 'high' };
  /** The bot ends the conversation (goodbye, or the listener confirmed it is solved). */
  close?: { reason: 'resolved_by_bot' | 'listener_goodbye' };
  feedback?: { intent: string; text: string };
  context: BotContext;
}

export interface BotInput {
  text: string;
  language: Language;
  context: BotContext;
  quickReply?: string;
}

export interface Bot {
  respond(input: BotInput): BotTurn;
  welcome(language: Language): BotReply;
  noAgentAvailable(language: Language): BotReply;
  /** The tuning loop's per-intent thresholds and handoff switches (replaces the previous set). */
  setOverrides(overrides: IntentOverrides): void;
  /** Canned replies for agents: every intent's answer in a language. */
  cannedReplies(language: Language): { intent: string; label: string; text: string }[];
  readonly modelVersion: string;
}

export interface BotOptions {
  intents: readonly IntentDefinition[];
  classifier: IntentClassifier;
  brand: string;
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The bot: classifies a listener message and decides answer / clarify / not understood / hand off. */
export function createBot({ intents, classifier, brand }: BotOptions): Bot {
  const byId = new Map(intents.map((intent) => [intent.id, intent]));
  let overrides: IntentOverrides = {};
  const say = (language: Language, key: BotMessageKey) => withBrand(BOT_MESSAGES[language][key], brand);
  const personReply = (language: Language) => ({ label: say(language, 'talkToPerson'), value: QUICK_REPLY.handoff });

  function reply(text: string, quickReplies: BotReply['quickReplies'] = []): BotReply {
    return { text, quickReplies };
  }

  function intentAnswer(intent: IntentDefinition, language: Language): BotReply {
    const local = intent[language];
    // Intent files name quick replies by label; each leads to the intent with that label, if any.
    const quickReplies = local.quickReplies.map((label) => {
      const target = intents.find((other) => other.label[language] === label);
      return { label, value: target ? QUICK_REPLY.intent(target.id) : label };
    });
    return reply(withBrand(local.answer, brand), quickReplies);
  }

  function handoffTurn(base: Omit<BotTurn, 'outcome' | 'replies'>, language: Language, reason: HandoffReason, priority: 'normal' | 'high', before: BotReply[] = []): BotTurn {
    return { ...base, outcome: 'handoff', replies: [...before, reply(say(language, 'handoff'))], handoff: { reason, priority }, context: { ...base.context, awaitingConfirmation: null, notUnderstoodStreak: 0 } };
  }

  /** What the bot says when no person who speaks the language is online. */
  function noAgentReply(language: Language): BotReply {
    return reply(say(language, 'noAgent'), [{ label: say(language, 'leaveMessage'), value: QUICK_REPLY.leaveMessage }, { label: say(language, 'keepWaiting'), value: QUICK_REPLY.keepWaiting }]);
  }

  function actOnIntent(intent: IntentDefinition, confidence: number, guesses: ScoredIntent[], input: BotInput, context: BotContext): BotTurn {
    const { language } = input;
    const base = { intent: intent.id, confidence, guesses, context: { ...context, notUnderstoodStreak: 0, awaitingConfirmation: null } };
    const policy = intent.policy;
    switch (policy.action) {
      case 'answer':
        return { ...base, outcome: 'answered', replies: [intentAnswer(intent, language)] };
      case 'answer_confirm':
        return {
          ...base,
          outcome: 'awaiting_confirmation',
          replies: [
            intentAnswer(intent, language),
            reply(say(language, 'confirmQuestion'), [
              { label: say(language, 'yes'), value: QUICK_REPLY.yes },
              { label: say(language, 'no'), value: QUICK_REPLY.no },
            ]),
          ],
          context: { ...base.context, awaitingConfirmation: intent.id },
        };
      case 'answer_handoff':
        return handoffTurn(base, language, 'policy', policy.priority, [intentAnswer(intent, language)]);
      case 'handoff':
        return handoffTurn(base, language, intent.id === HUMAN_AGENT_INTENT ? 'requested' : 'policy', policy.priority);
      case 'feedback': {
        const replies = [reply(say(language, 'feedbackThanks'))];
        if (policy.offerHelp) replies.push(reply(say(language, 'feedbackOfferHelp'), [personReply(language)]));
        return { ...base, outcome: 'feedback', replies, feedback: { intent: intent.id, text: input.text } };
      }
      case 'close':
        return { ...base, outcome: 'closed', replies: [reply(say(language, 'goodbye'))], close: { reason: 'listener_goodbye' } };
    }
  }

  function onConfirmation(answer: 'yes' | 'no', input: BotInput): BotTurn {
    const { language, context } = input;
    const pending = context.awaitingConfirmation ? byId.get(context.awaitingConfirmation) : undefined;
    const base = { intent: pending?.id ?? null, confidence: 1, guesses: [], context: { ...context, awaitingConfirmation: null } };
    if (answer === 'yes') {
      return { ...base, outcome: 'resolved', replies: [reply(say(language, 'confirmedYes'))], close: { reason: 'resolved_by_bot' } };
    }
    if (pending && pending.policy.action === 'answer_confirm' && pending.policy.onNo === 'handoff') {
      return handoffTurn(base, language, 'confirmation_failed', 'normal');
    }
    return { ...base, outcome: 'clarify', replies: [reply(say(language, 'confirmedNoClarify'), [personReply(language)])] };
  }

  /** An honest "I did not get that" that offers a person; the third miss in a row hands off by itself. */
  function notUnderstood(confidence: number, guesses: ScoredIntent[], context: BotContext, language: Language): BotTurn {
    const streak = context.notUnderstoodStreak + 1;
    if (streak >= NOT_UNDERSTOOD_HANDOFF_AFTER) return handoffTurn({ intent: null, confidence, guesses, context }, language, 'not_understood', 'normal');
    return {
      outcome: 'not_understood',
      intent: null,
      confidence,
      guesses,
      replies: [reply(say(language, streak >= 2 ? 'notUnderstoodAgain' : 'notUnderstood'), [personReply(language)])],
      context: { ...context, notUnderstoodStreak: streak, awaitingConfirmation: null },
    };
  }

  function classified(input: BotInput): BotTurn {
    const { language } = input;
    const context: BotContext = {
      ...input.context,
      recentTexts: [...input.context.recentTexts, normalise(input.text)].slice(-5),
    };
    const guesses = classifier.classify(input.text, language, 3).slice(0, 3);
    // A frustrated listener gets a person at once, without having to ask for one.
    const frustration = assessFrustration(input.text, language, input.context.recentTexts);
    if (frustration.frustrated) {
      const top = guesses[0];
      return handoffTurn({ intent: top?.intent ?? null, confidence: top?.confidence ?? 0, guesses, context }, language, 'frustrated', 'normal', [reply(say(language, 'frustrated'))]);
    }
    const [top, second] = guesses;
    const { minConfidence, minMargin } = classifier.thresholds;
    const topIntent = top ? byId.get(top.intent) : undefined;
    if (!top || !topIntent || top.confidence < minConfidence) return notUnderstood(top?.confidence ?? 0, guesses, context, language);
    const secondIntent = second ? byId.get(second.intent) : undefined;
    if (second && secondIntent && top.confidence - second.confidence < minMargin && top.intent !== HUMAN_AGENT_INTENT) {
      return {
        outcome: 'clarify',
        intent: null,
        confidence: top.confidence,
        guesses,
        replies: [
          reply(say(language, 'clarify'), [
            { label: topIntent.label[language], value: QUICK_REPLY.intent(topIntent.id) },
            { label: secondIntent.label[language], value: QUICK_REPLY.intent(secondIntent.id) },
            personReply(language),
          ]),
        ],
        context: { ...context, awaitingConfirmation: null },
      };
    }
    const override = overrides[topIntent.id];
    if (override?.handoff) {
      return handoffTurn({ intent: topIntent.id, confidence: top.confidence, guesses, context }, language, 'policy', 'normal');
    }
    // Tuned: not sure enough for this intent; say so and offer a person rather than risk a wrong answer.
    if (override?.minConfidence !== undefined && top.confidence < override.minConfidence) return notUnderstood(top.confidence, guesses, context, language);
    return actOnIntent(topIntent, top.confidence, guesses, input, context);
  }

  return {
    get modelVersion() {
      return classifier.version;
    },
    welcome(language) {
      return reply(say(language, 'welcome'));
    },
    noAgentAvailable: noAgentReply,
    setOverrides(next) {
      overrides = { ...next };
    },
    cannedReplies(language) {
      return intents.map((intent) => ({ intent: intent.id, label: intent.label[language], text: withBrand(intent[language].answer, brand) }));
    },
    respond(input) {
      const chosen = input.quickReply;
      if (chosen === QUICK_REPLY.handoff) {
        return handoffTurn({ intent: HUMAN_AGENT_INTENT, confidence: 1, guesses: [], context: input.context }, input.language, 'requested', 'normal');
      }
      if ((chosen === QUICK_REPLY.yes || chosen === QUICK_REPLY.no) && input.context.awaitingConfirmation) {
        return onConfirmation(chosen === QUICK_REPLY.yes ? 'yes' : 'no', input);
      }
      if (chosen?.startsWith('intent:')) {
        const intent = byId.get(chosen.slice('intent:'.length));
        if (intent) return actOnIntent(intent, 1, [], input, input.context);
      }
      return classified(input);
    },
  };
}
