import { afterEach, describe, expect, it } from 'vitest';
import { createHandoffService, type HandoffService } from '../server/domain/handoff-service.js';
import type { AgentAccount, ChatStore } from '../server/store/chat-store.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { agentAccount, queuedConversation } from '../bench/queue-fixtures.js';
import { redisStore, uniqueNamespace } from './support/harness.js';

/** Two handles onto one store: for Redis two connections, as two app nodes would have. */
const backends = [
  { name: 'memory', open: async () => { const s = createMemoryStore(); return { a: s, b: s, reopen: async () => null }; } },
  {
    name: 'redis',
    open: async () => {
      const ns = uniqueNamespace('handoff');
      return { a: await redisStore(ns), b: await redisStore(ns), reopen: async () => redisStore(ns) };
    },
  },
];

describe.each(backends)('handoff on $name', (backend) => {
  const opened: ChatStore[] = [];
  let clock = Date.parse('2026-06-01T10:00:00Z');
  const now = () => new Date(clock);
  async function setup() {
    const { a, b, reopen } = await backend.open();
    opened.push(a, b);
    const options = { presenceTtlMs: 30_000, releaseGraceMs: 60_000, now };
    return { a, b, reopen, handoffA: createHandoffService(a, options), handoffB: createHandoffService(b, options) };
  }
  async function addAgent(store: ChatStore, handoff: HandoffService, overrides: Partial<AgentAccount> = {}) {
    const agent = agentAccount(overrides);
    await store.saveAgent(agent);
    await handoff.heartbeat(agent.id, 'online');
    return agent;
  }
  afterEach(async () => {
    await Promise.all([...new Set(opened.splice(0))].map((s) => s.close()));
  });

  it('gives each of 1,000 queued conversations to exactly one of 50 concurrent claimers, across two nodes, losing none', async () => {
    const { a, b, handoffA, handoffB } = await setup();
    const ids = await Promise.all(Array.from({ length: 1000 }, (_, i) => queuedConversation(a, { enqueuedAtMs: clock - 100_000 + i })));
    const agents = await Promise.all(Array.from({ length: 50 }, (_, i) => addAgent(i % 2 ? a : b, i % 2 ? handoffA : handoffB, { capacity: 40 })));
    const won = new Map<string, string[]>();
    await Promise.all(
      agents.map(async (agent, i) => {
        const service = i % 2 ? handoffA : handoffB;
        for (;;) {
          try {
            const claimed = await service.claimNext(agent);
            won.set(claimed.id, [...(won.get(claimed.id) ?? []), agent.id]);
          } catch (error) {
            if ((error as { code?: string }).code === 'QUEUE_EMPTY' || (error as { code?: string }).code === 'AT_CAPACITY') return;
            throw error;
          }
        }
      }),
    );
    expect(won.size).toBe(1000);
    expect([...won.values()].every((winners) => winners.length === 1)).toBe(true);
    const assigned = (await Promise.all(agents.map((agent) => a.agentChats(agent.id)))).flat();
    expect(assigned).toHaveLength(1000);
    expect(new Set(assigned)).toEqual(new Set(ids));
    expect(await a.queueMembers('en')).toEqual([]);
    const sample = await b.getConversation(ids[123]!);
    expect(sample?.state).toBe('assigned');
    expect(won.get(ids[123]!)).toEqual([sample?.agentId]);
  }, 120_000);

  it('respects capacity', async () => {
    const { a, handoffA } = await setup();
    const agent = await addAgent(a, handoffA, { capacity: 2 });
    for (let i = 0; i < 3; i++) await queuedConversation(a, { enqueuedAtMs: clock - 1000 + i });
    await handoffA.claimNext(agent);
    await handoffA.claimNext(agent);
    await expect(handoffA.claimNext(agent)).rejects.toMatchObject({ code: 'AT_CAPACITY' });
    expect(await a.agentChats(agent.id)).toHaveLength(2);
    expect(await a.queueMembers('en')).toHaveLength(1);
  });

  it('serves high priority first, then the longest wait', async () => {
    const { a, handoffA } = await setup();
    const old = await queuedConversation(a, { enqueuedAtMs: clock - 50_000 });
    const newer = await queuedConversation(a, { enqueuedAtMs: clock - 10_000 });
    const urgent = await queuedConversation(a, { priority: 'high', enqueuedAtMs: clock - 1_000 });
    expect((await a.queueMembers('en')).map((m) => m.conversationId)).toEqual([urgent, old, newer]);
    const agent = await addAgent(a, handoffA, { capacity: 5 });
    expect((await handoffA.claimNext(agent)).id).toBe(urgent);
    expect((await handoffA.claimNext(agent)).id).toBe(old);
    expect(await a.queuePosition('en', newer)).toBe(1);
  });

  it('routes by language: an English-only agent never gets a Spanish chat, auto-assignment picks the least loaded', async () => {
    const { a, handoffA } = await setup();
    const english = await addAgent(a, handoffA, { languages: ['en'], capacity: 3 });
    const spanishBusy = await addAgent(a, handoffA, { languages: ['es'], capacity: 3 });
    const spanishFree = await addAgent(a, handoffA, { languages: ['es', 'en'], capacity: 3 });
    const es1 = await queuedConversation(a, { language: 'es', enqueuedAtMs: clock - 3000 });
    await handoffA.claim(es1, spanishBusy);
    const es2 = await queuedConversation(a, { language: 'es', enqueuedAtMs: clock - 2000 });
    await expect(handoffA.claim(es2, english)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(handoffA.claimNext(english)).rejects.toMatchObject({ code: 'QUEUE_EMPTY' });
    expect(await handoffA.autoAssign('es')).toBe(1);
    expect((await a.getConversation(es2))?.agentId).toBe(spanishFree.id);
  });

  it('puts a dropped agent\'s chats back at the front of the queue after the grace period and tells the listener', async () => {
    const { a, handoffA } = await setup();
    const agent = await addAgent(a, handoffA, { capacity: 3 });
    const mine = await queuedConversation(a, { enqueuedAtMs: clock - 60_000 });
    await handoffA.claim(mine, agent);
    const waiting = await queuedConversation(a, { enqueuedAtMs: clock - 120_000 });
    clock += 30_000; // heartbeat stale, but within the grace period
    expect(await handoffA.releaseDroppedAgents()).toEqual([]);
    clock += 31_000;
    expect(await handoffA.releaseDroppedAgents()).toEqual([mine]);
    const released = await a.getConversation(mine);
    expect(released).toMatchObject({ state: 'queued', agentId: null });
    expect((await a.queueMembers('en')).map((m) => m.conversationId)).toEqual([mine, waiting]);
    expect(await a.agentChats(agent.id)).toEqual([]);
    const events = await a.readEvents(mine, 0);
    expect(events.some((e) => e.type === 'message.new' && e.author === 'system' && /back at the front/.test(e.text))).toBe(true);
    expect((await a.listPresence()).find((p) => p.agentId === agent.id)?.status).toBe('offline');
    clock += 1_000_000;
  });

  it('transfers to another agent (capacity checked) and to another queue', async () => {
    const { a, handoffA } = await setup();
    const from = await addAgent(a, handoffA, { languages: ['en', 'es'] });
    const full = await addAgent(a, handoffA, { capacity: 1 });
    const to = await addAgent(a, handoffA);
    const conv = await queuedConversation(a);
    await handoffA.claim(conv, from);
    const other = await queuedConversation(a);
    await handoffA.claim(other, full);
    await expect(handoffA.transferToAgent(conv, from, full)).rejects.toMatchObject({ code: 'AT_CAPACITY' });
    await handoffA.transferToAgent(conv, from, to);
    expect((await a.getConversation(conv))?.agentId).toBe(to.id);
    expect(await a.agentChats(from.id)).toEqual([]);
    await expect(handoffA.transferToAgent(conv, from, to)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await handoffA.transferToQueue(conv, to, 'es');
    expect(await a.getConversation(conv)).toMatchObject({ state: 'queued', agentId: null, handoff: { queue: 'es' } });
    expect((await a.queueMembers('es')).map((m) => m.conversationId)).toEqual([conv]);
  });

  it('returns a conversation to the bot', async () => {
    const { a, handoffA } = await setup();
    const agent = await addAgent(a, handoffA);
    const conv = await queuedConversation(a);
    await handoffA.claim(conv, agent);
    await handoffA.returnToBot(conv, agent.id);
    expect(await a.getConversation(conv)).toMatchObject({ state: 'bot', agentId: null, handoff: null });
    expect(await a.agentChats(agent.id)).toEqual([]);
    await expect(handoffA.returnToBot(conv, agent.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lets only the assigned agent write; others get NOT_FOUND', async () => {
    const { a, handoffA } = await setup();
    const owner = await addAgent(a, handoffA);
    const stranger = await addAgent(a, handoffA);
    const conv = await queuedConversation(a);
    await handoffA.claim(conv, owner);
    await expect(handoffA.agentMessage(conv, stranger, 'x1', 'hello')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await handoffA.agentMessage(conv, owner, 'x1', 'hello')).status).toBe('appended');
    expect((await handoffA.agentMessage(conv, owner, 'x1', 'hello')).status).toBe('duplicate');
    await expect(handoffA.closeByAgent(conv, stranger, { resolved: true, intent: null })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await handoffA.closeByAgent(conv, owner, { resolved: true, intent: 'billing.refund_request' });
    expect((await a.getConversation(conv))?.state).toBe('closed');
    expect((await a.listItems('resolution'))[0]?.data).toMatchObject({ conversationId: conv, intent: 'billing.refund_request', botIntent: 'meta.human_agent', resolved: true });
  });

  it('estimates the wait from recent real waits and the agents online', async () => {
    const { a, handoffA } = await setup();
    const agent = await addAgent(a, handoffA, { capacity: 10 });
    const first = await queuedConversation(a, { enqueuedAtMs: clock - 40_000 });
    await handoffA.claim(first, agent); // waited 40 s
    const second = await queuedConversation(a, { enqueuedAtMs: clock - 1000 });
    const third = await queuedConversation(a, { enqueuedAtMs: clock });
    const status = await handoffA.queueStatus((await a.getConversation(third))!);
    expect(status).toEqual({ position: 2, etaSeconds: 80, agentsOnline: 1 });
    expect((await handoffA.queueStatus((await a.getConversation(second))!))?.position).toBe(1);
  });

  it('keeps queue order and assignments across a reopen of the store (a restart) where it persists', async () => {
    const { a, handoffA, reopen } = await setup();
    const agent = await addAgent(a, handoffA);
    const q1 = await queuedConversation(a, { enqueuedAtMs: clock - 3000 });
    const q2 = await queuedConversation(a, { enqueuedAtMs: clock - 2000 });
    const q3 = await queuedConversation(a, { priority: 'high', enqueuedAtMs: clock - 1000 });
    await handoffA.claim(q1, agent);
    await a.close();
    const again = await reopen();
    if (!again) return; // the memory store lives and dies with its process
    opened.push(again);
    expect((await again.queueMembers('en')).map((m) => m.conversationId)).toEqual([q3, q2]);
    expect(await again.agentChats(agent.id)).toEqual([q1]);
    expect(await again.getConversation(q1)).toMatchObject({ state: 'assigned', agentId: agent.id });
    const resumed = createHandoffService(again, { presenceTtlMs: 30_000, releaseGraceMs: 60_000, now });
    expect((await resumed.claimNext(agent)).id).toBe(q3);
  });
});
