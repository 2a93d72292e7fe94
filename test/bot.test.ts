import { describe, expect, it } from 'vitest';
import { emptyBotContext } from '../bot/bot-context.js';
import { createBot, QUICK_REPLY } from '../bot/bot.js';
import type { IntentClassifier } from '../bot/classifier.js';
import { shippedBot, shippedIntents } from './support/harness.js';

const en = (text: string, extra: Partial<{ quickReply: string; context: ReturnType<typeof emptyBotContext> }> = {}) => ({ text, language: 'en' as const, context: emptyBotContext(), ...extra });

describe('bot decisions', () => {
  it('answers a clear billing question with the intent answer', async () => {
    const bot = await shippedBot();
    const turn = bot.respond(en('I was charged twice this month'));
    expect(turn.intent).toBe('billing.charged_twice');
    expect(turn.replies[0]?.text).toMatch(/double charge/);
    expect(turn.handoff).toEqual({ reason: 'policy', priority: 'normal' });
  });

  it('says honestly when it does not understand, offers a person, and escalates the wording on a second miss', async () => {
    const bot = await shippedBot();
    const first = bot.respond(en('flurbo quantic zzyzx'));
    expect(first.outcome).toBe('not_understood');
    expect(first.intent).toBeNull();
    expect(first.replies[0]?.text).toMatch(/not sure I understood/);
    expect(first.replies[0]?.quickReplies.map((q) => q.value)).toContain(QUICK_REPLY.handoff);
    const second = bot.respond({ ...en('blorptastic wumbo'), context: first.context });
    expect(second.context.notUnderstoodStreak).toBe(2);
    expect(second.replies[0]?.text).toMatch(/talk to a person/);
  });

  it('treats empty input as not understood', async () => {
    const bot = await shippedBot();
    expect(bot.respond(en('   ')).outcome).toBe('not_understood');
  });

  it('hands off when the listener asks for a person, in words or with the quick reply', async () => {
    const bot = await shippedBot();
    expect(bot.respond(en('let me talk to a real person')).handoff?.reason).toBe('requested');
    expect(bot.respond(en('Talk to a person', { quickReply: QUICK_REPLY.handoff })).handoff?.reason).toBe('requested');
  });

  it('asks which intent was meant when the top two are too close', async () => {
    const intents = await shippedIntents();
    // A classifier that scores two intents almost equally: the bot must ask, not guess.
    const classifier: IntentClassifier = {
      version: 'fixed',
      thresholds: { minConfidence: 0.3, minMargin: 0.1 },
      classify: () => [
        { intent: 'billing.refund_request', confidence: 0.46 },
        { intent: 'billing.charged_twice', confidence: 0.41 },
      ],
    };
    const bot = createBot({ intents, classifier, brand: 'Melodrift' });
    const turn = bot.respond(en('money back for the double charge'));
    expect(turn.outcome).toBe('clarify');
    expect(turn.replies[0]?.quickReplies.map((q) => q.value)).toEqual([
      QUICK_REPLY.intent('billing.refund_request'),
      QUICK_REPLY.intent('billing.charged_twice'),
      QUICK_REPLY.handoff,
    ]);
  });

  it('follows a tapped intent quick reply without classifying', async () => {
    const bot = await shippedBot();
    const turn = bot.respond(en('Receipt', { quickReply: QUICK_REPLY.intent('billing.receipt') }));
    expect(turn.intent).toBe('billing.receipt');
    expect(turn.confidence).toBe(1);
  });

  it('asks for confirmation after an answer-then-confirm intent; yes resolves, no with onNo=handoff hands off', async () => {
    const bot = await shippedBot();
    const answered = bot.respond(en('Refund', { quickReply: QUICK_REPLY.intent('billing.refund_request') }));
    expect(answered.outcome).toBe('awaiting_confirmation');
    expect(answered.replies.at(-1)?.quickReplies.map((q) => q.value)).toEqual([QUICK_REPLY.yes, QUICK_REPLY.no]);
    expect(answered.context.awaitingConfirmation).toBe('billing.refund_request');
    const yes = bot.respond({ ...en('Yes', { quickReply: QUICK_REPLY.yes }), context: answered.context });
    expect(yes.close?.reason).toBe('resolved_by_bot');
    const no = bot.respond({ ...en('No', { quickReply: QUICK_REPLY.no }), context: answered.context });
    expect(no.handoff?.reason).toBe('confirmation_failed');
  });

  it('answers in Spanish for a Spanish conversation', async () => {
    const bot = await shippedBot();
    const turn = bot.respond({ text: 'me cobraron dos veces este mes', language: 'es', context: emptyBotContext() });
    expect(turn.intent).toBe('billing.charged_twice');
    expect(turn.replies[0]?.text).toMatch(/cobro doble/);
  });
});
