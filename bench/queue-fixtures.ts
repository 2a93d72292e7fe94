import { emptyBotContext } from '../bot/bot-context.js';
import type { Language } from '../bot/language.js';
import { CONVERSATION_SCHEMA_VERSION, queueScore, type HandoffInfo, type Priority } from '../server/domain/conversation.js';
import { newId } from '../server/domain/ids.js';
import type { AgentAccount, ChatStore } from '../server/store/chat-store.js';

export function agentAccount(overrides: Partial<AgentAccount> = {}): AgentAccount {
  const id = overrides.id ?? newId('agt');
  return { id, email: `${id}@example.com`, displayName: `Agent ${id.slice(-4)}`, role: 'agent', languages: ['en'], capacity: 3, passwordHash: 'x', createdAt: new Date().toISOString(), ...overrides };
}

/** A conversation put straight into a queue, as the bot's handoff would leave it. */
export async function queuedConversation(store: ChatStore, options: { language?: Language; priority?: Priority; enqueuedAtMs?: number } = {}): Promise<string> {
  const language = options.language ?? 'en';
  const priority = options.priority ?? 'normal';
  const at = new Date(options.enqueuedAtMs ?? Date.now()).toISOString();
  const id = newId('conv');
  await store.createConversation({ v: CONVERSATION_SCHEMA_VERSION, id, createdAt: at, updatedAt: at, state: 'bot', language, context: emptyBotContext() }, [
    { type: 'conversation.state', at, from: null, to: 'bot', reason: 'started' },
  ]);
  const handoff: HandoffInfo = { queue: language, priority, reason: 'requested', intent: 'meta.human_agent', confidence: 0.9, summary: ['Listener: a person please'], enqueuedAt: at, assignedAt: null, agentName: null };
  const result = await store.append({
    conversationId: id,
    events: [{ type: 'conversation.state', at, from: 'bot', to: 'queued', reason: 'handoff:requested' }],
    expectStates: ['bot'],
    patch: { state: 'queued', handoff },
    queue: { add: { queue: language, score: queueScore(priority, Date.parse(at)) } },
    updatedAt: at,
  });
  if (result.status !== 'appended') throw new Error(`could not queue: ${result.status}`);
  return id;
}
