import { AppError } from '../errors.js';
import { readAllEvents, type ChatStore, type StoredItem } from '../store/chat-store.js';
import type { ConversationEvent } from '../transport/protocol.js';
import type { ConversationRecord } from './conversation.js';
import type { ConversationTokens } from './conversation-token.js';
import type { SurveyRecord } from './csat.js';

export type ListenerSelector = { token: string } | { email: string };

export interface ListenerExport {
  conversations: { conversation: ConversationRecord; events: ConversationEvent[]; survey: SurveyRecord | null }[];
  items: StoredItem[];
  candidates: { id: string; data: Record<string, unknown> }[];
}

const ITEM_KINDS = ['left_message', 'feedback', 'resolution'] as const;

/**
 * Export and erasure of everything about one listener (by conversation token or by the e-mail
 * they left), and the retention purge of closed conversations. Aggregated CSAT figures survive:
 * a survey keeps its rating and cohort, never its comment.
 */
export function createPrivacyService(deps: { store: ChatStore; tokens: ConversationTokens; retentionDays: number; now?: () => Date }) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  const readAll = (conversationId: string) => readAllEvents(store, conversationId);

  async function conversationIds(selector: ListenerSelector): Promise<string[]> {
    if ('token' in selector) {
      const granted = deps.tokens.verify(selector.token);
      if (!granted) throw new AppError('INVALID_TOKEN');
      return [granted.conversationId];
    }
    const email = selector.email.trim().toLowerCase();
    const left = await store.listItems('left_message', 100_000);
    return [...new Set(left.filter((item) => String(item.data.email ?? '').toLowerCase() === email).map((item) => String(item.data.conversationId)))];
  }

  async function relatedItems(ids: ReadonlySet<string>, email: string | null): Promise<StoredItem[]> {
    const items: StoredItem[] = [];
    for (const kind of ITEM_KINDS) {
      for (const item of await store.listItems(kind, 100_000)) {
        const byConversation = ids.has(String(item.data.conversationId ?? ''));
        const byEmail = email !== null && String(item.data.email ?? '').toLowerCase() === email;
        if (byConversation || byEmail) items.push(item);
      }
    }
    return items;
  }

  async function relatedCandidates(ids: ReadonlySet<string>) {
    return (await store.listRecords('candidate')).filter((record) => Array.isArray(record.data.conversations) && (record.data.conversations as unknown[]).some((id) => ids.has(String(id))));
  }

  async function erase(ids: readonly string[], email: string | null): Promise<{ conversations: number; items: number; candidates: number }> {
    const set = new Set(ids);
    const items = await relatedItems(set, email);
    const candidates = await relatedCandidates(set);
    for (const id of ids) await store.deleteConversation(id);
    for (const kind of ITEM_KINDS) await store.removeItems(kind, items.filter((i) => i.kind === kind).map((i) => i.id));
    // A training candidate goes with its conversations; one that other chats also stand for loses only these.
    const drop: string[] = [];
    for (const candidate of candidates) {
      const rest = (candidate.data.conversations as string[]).filter((id) => !set.has(id));
      if (rest.length === 0) drop.push(candidate.id);
      else await store.putRecord('candidate', candidate.id, { ...candidate.data, conversations: rest, weight: Math.min(Number(candidate.data.weight ?? 0), rest.length) });
    }
    await store.removeRecords('candidate', drop);
    return { conversations: ids.length, items: items.length, candidates: candidates.length };
  }

  return {
    async exportListener(selector: ListenerSelector): Promise<ListenerExport> {
      const ids = await conversationIds(selector);
      const conversations = [];
      for (const id of ids) {
        const conversation = await store.getConversation(id);
        if (!conversation) continue;
        conversations.push({ conversation, events: await readAll(id), survey: await store.getSurvey(id) });
      }
      if ('token' in selector && conversations.length === 0) throw new AppError('NOT_FOUND', 'Nothing is stored for this conversation.');
      const set = new Set(ids);
      return { conversations, items: await relatedItems(set, 'email' in selector ? selector.email.toLowerCase() : null), candidates: await relatedCandidates(set) };
    },

    async eraseListener(selector: ListenerSelector) {
      const ids = await conversationIds(selector);
      return erase(ids, 'email' in selector ? selector.email.toLowerCase() : null);
    },

    /** Purges conversations closed more than RETENTION_DAYS ago. */
    async purgeExpired(): Promise<number> {
      const cutoff = now().getTime() - deps.retentionDays * 24 * 3600 * 1000;
      let purged = 0;
      for (;;) {
        const batch = await store.closedBefore(cutoff, 200);
        if (batch.length === 0) return purged;
        await erase(batch, null);
        purged += batch.length;
      }
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;
