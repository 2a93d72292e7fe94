import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition } from '../server/domain/conversation.js';
import { createConversationTokens } from '../server/domain/conversation-token.js';
import { createChatService } from '../server/domain/chat-service.js';
import { createHandoffService } from '../server/domain/handoff-service.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { shippedBot } from './support/harness.js';

describe('conversation state machine', () => {
  it('allows only the documented transitions', () => {
    expect(canTransition('bot', 'queued')).toBe(true);
    expect(canTransition('bot', 'closed')).toBe(true);
    expect(canTransition('bot', 'assigned')).toBe(false);
    expect(canTransition('queued', 'assigned')).toBe(true);
    expect(canTransition('queued', 'bot')).toBe(true);
    expect(canTransition('queued', 'closed')).toBe(true);
    expect(canTransition('assigned', 'queued')).toBe(true);
    expect(canTransition('assigned', 'assigned')).toBe(true);
    expect(canTransition('assigned', 'bot')).toBe(true);
    expect(canTransition('assigned', 'closed')).toBe(true);
    expect(canTransition('closed', 'bot')).toBe(false);
    expect(canTransition('closed', 'queued')).toBe(false);
    expect(() => assertTransition('closed', 'bot')).toThrowError(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
  });
});

describe('conversation tokens', () => {
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const tokens = createConversationTokens('x'.repeat(32), { ttlMs: 3600_000, now: () => clock });
  it('verifies its own tokens and nothing else', () => {
    const token = tokens.issue('conv_abcdefghij');
    expect(tokens.verify(token)).toEqual({ conversationId: 'conv_abcdefghij', issuedAtMs: clock });
    expect(tokens.verify(token.replace('conv_abcdefghij', 'conv_abcdefghik'))).toBeNull();
    expect(tokens.verify(token.slice(0, -2))).toBeNull();
    expect(createConversationTokens('y'.repeat(32)).verify(token)).toBeNull();
    expect(tokens.verify('v1.conv_abcdefghij.abc')).toBeNull();
    expect(tokens.verify('')).toBeNull();
  });
  it('expires a token after its time to live', () => {
    const token = tokens.issue('conv_abcdefghij');
    clock += 3599_000;
    expect(tokens.verify(token)).not.toBeNull();
    clock += 2_000;
    expect(tokens.verify(token)).toBeNull();
  });
});

describe('chat service', () => {
  async function service() {
    const store = createMemoryStore();
    const handoff = createHandoffService(store, { presenceTtlMs: 30_000, releaseGraceMs: 60_000 });
    const chat = createChatService({ store, bot: await shippedBot(), handoff, tokens: createConversationTokens('s'.repeat(32)) });
    return { store, chat };
  }

  it('records every transition as an event with the conversation', async () => {
    const { store, chat } = await service();
    const { conversation } = await chat.start('en');
    const message = { conversationId: conversation.id, clientId: 'c1', text: 'I want to talk to a human' };
    await chat.acceptListenerMessage(message);
    await chat.botReply(message);
    const stored = await store.getConversation(conversation.id);
    expect(stored?.state).toBe('queued');
    const states = (await store.readEvents(conversation.id, 0)).filter((e) => e.type === 'conversation.state');
    expect(states.map((e) => e.type === 'conversation.state' && [e.from, e.to, e.reason])).toEqual([
      [null, 'bot', 'started'],
      ['bot', 'queued', 'handoff:requested'],
    ]);
  });

  it('stores listener messages while awaiting an agent but the bot stays quiet', async () => {
    const { store, chat } = await service();
    const { conversation } = await chat.start('en');
    const first = { conversationId: conversation.id, clientId: 'c1', text: 'get me a person please' };
    await chat.acceptListenerMessage(first);
    await chat.botReply(first);
    const before = (await store.getConversation(conversation.id))!.lastSeq;
    const second = { conversationId: conversation.id, clientId: 'c2', text: 'hello? anyone?' };
    const ack = await chat.acceptListenerMessage(second);
    await chat.botReply(second);
    expect(ack.seq).toBe(before + 1);
    expect((await store.getConversation(conversation.id))!.lastSeq).toBe(before + 1);
  });

  it('closes on goodbye and refuses later messages with CONVERSATION_CLOSED', async () => {
    const { chat, store } = await service();
    const { conversation } = await chat.start('en');
    const bye = { conversationId: conversation.id, clientId: 'b1', text: 'bye' };
    await chat.acceptListenerMessage(bye);
    await chat.botReply(bye);
    expect((await store.getConversation(conversation.id))?.state).toBe('closed');
    await expect(chat.acceptListenerMessage({ conversationId: conversation.id, clientId: 'b2', text: 'wait' })).rejects.toMatchObject({ code: 'CONVERSATION_CLOSED' });
  });

  it('refuses whitespace-only text and unknown or forged tokens', async () => {
    const { chat } = await service();
    const { conversation, token } = await chat.start('es');
    await expect(chat.acceptListenerMessage({ conversationId: conversation.id, clientId: 'w', text: '   ' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(chat.resume(token + 'x')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(chat.resume(token)).resolves.toMatchObject({ conversation: { id: conversation.id, language: 'es' } });
    // revoked: every token issued before the revocation stops working
    await chat.revokeTokens(conversation.id);
    await expect(chat.resume(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });
});
