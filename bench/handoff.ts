/**
 * npm run -s bench:handoff -- --json
 * 1. Handoff latency: listeners ask for a person through the widget protocol; an online agent's
 *    console (socket.io) receives the assignment. Measured from the listener's send to the push.
 *    The server is a separate process on a private redis-server.
 * 2. Claims: 50 concurrent claimers over 1,000 queued conversations on that Redis, counting
 *    double assignments and lost conversations (both must be 0).
 * Prints one JSON line and records it in docs/benchmarks.md. Bounded: stops by itself.
 */
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { createHandoffService } from '../server/domain/handoff-service.js';
import { createRedisStore } from '../server/store/redis-store.js';
import { parseServerFrame } from '../server/transport/protocol.js';
import { startPrivateRedis } from './private-redis.js';
import { agentAccount, queuedConversation } from './queue-fixtures.js';
import { recordBenchmark } from './record.js';
import { startServerProcess } from './server-process.js';
import { percentile, round } from './stats.js';

const HANDOFFS = Number(process.env.BENCH_HANDOFFS ?? 300);
const CLAIMERS = 50;
const QUEUED = 1000;

async function handoffLatency(redisUrl: string): Promise<number[]> {
  const store = await createRedisStore({ url: redisUrl });
  await createAgentAccount(store, { email: 'bench@example.com', displayName: 'Bench', password: 'bench password', languages: ['en'], capacity: 20 });
  await store.close();
  const server = await startServerProcess({ REDIS_URL: redisUrl, WIDGET_MESSAGES_PER_SECOND: '100', NODE_ENV: 'test' });
  try {
    const login = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com', password: 'bench password' }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const agent = io(`${server.url}/agents`, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      agent.once('agent.ready', () => resolve());
      agent.once('connect_error', reject);
    });
    const sentAt = new Map<string, bigint>();
    const latencies: number[] = [];
    const assigned = new Map<string, () => void>();
    agent.on('chat.assigned', (payload: { chat: { conversationId: string } }) => {
      const started = sentAt.get(payload.chat.conversationId);
      if (started !== undefined) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      assigned.get(payload.chat.conversationId)?.();
      // free the slot for the next listener
      agent.emit('chat.close', { conversationId: payload.chat.conversationId, resolution: { resolved: true, intent: null } }, () => {});
    });
    for (let i = 0; i < HANDOFFS; i++) {
      const socket = new WebSocket(server.wsUrl);
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      const conversationId = await new Promise<string>((resolve) => {
        socket.on('message', (data) => {
          const frame = parseServerFrame(data.toString());
          if (frame?.type === 'conversation.ready') resolve(frame.conversationId);
        });
        socket.send(JSON.stringify({ type: 'conversation.start', language: 'en' }));
      });
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`handoff ${i} not seen by the agent within 5 s`)), 5000);
        assigned.set(conversationId, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      sentAt.set(conversationId, process.hrtime.bigint());
      socket.send(JSON.stringify({ type: 'message.send', clientId: `h${i}`, text: 'I want to talk to a person' }));
      await done;
      socket.close();
    }
    agent.close();
    return latencies.slice(Math.min(10, Math.floor(latencies.length / 10))); // drop warm-up
  } finally {
    await server.stop();
  }
}

async function claims(redisUrl: string) {
  const store = await createRedisStore({ url: redisUrl, namespace: 'bench-claims' });
  const handoff = createHandoffService(store, { presenceTtlMs: 60_000, releaseGraceMs: 120_000 });
  const ids = [];
  for (let i = 0; i < QUEUED; i++) ids.push(await queuedConversation(store, { enqueuedAtMs: Date.now() - QUEUED + i }));
  const agents = Array.from({ length: CLAIMERS }, () => agentAccount({ capacity: QUEUED }));
  for (const agent of agents) await store.saveAgent(agent);
  const winners = new Map<string, number>();
  const claimMs: number[] = [];
  const started = process.hrtime.bigint();
  await Promise.all(
    agents.map(async (agent) => {
      for (;;) {
        const t = process.hrtime.bigint();
        try {
          const claimed = await handoff.claimNext(agent);
          claimMs.push(Number(process.hrtime.bigint() - t) / 1e6);
          winners.set(claimed.id, (winners.get(claimed.id) ?? 0) + 1);
        } catch (error) {
          if ((error as { code?: string }).code === 'QUEUE_EMPTY') return;
          throw error;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const assigned = new Set((await Promise.all(agents.map((a) => store.agentChats(a.id)))).flat());
  await store.close();
  return {
    claimsPerSecond: round(claimMs.length / seconds, 0),
    claimP50Ms: round(percentile(claimMs, 50), 2),
    claimP99Ms: round(percentile(claimMs, 99), 2),
    doubleAssigned: [...winners.values()].filter((n) => n > 1).length,
    lost: ids.filter((id) => !assigned.has(id)).length,
  };
}

async function main(): Promise<void> {
  const redis = await startPrivateRedis();
  try {
    const latencies = await handoffLatency(redis.url);
    const claim = await claims(redis.url);
    const result = {
      benchmark: 'handoff',
      handoffs: latencies.length,
      handoffToAgentP50Ms: round(percentile(latencies, 50), 2),
      handoffToAgentP99Ms: round(percentile(latencies, 99), 2),
      claimers: CLAIMERS,
      queued: QUEUED,
      ...claim,
    };
    console.log(JSON.stringify(result));
    await recordBenchmark(
      'handoff',
      'npm run -s bench:handoff -- --json',
      [
        'A separate server process on a private redis-server (loopback). **Handoff**: one listener at a time asks for a person through the widget WebSocket; an online agent\'s console (socket.io, websocket transport) receives `chat.assigned`; latency runs from the listener\'s `message.send` to that push (auto-assignment, no sweep wait). **Claims**: 50 concurrent claimers (`claimNext`, optimistic over the atomic claim script) drain 1,000 queued conversations in one process.',
        '',
        '| handoffs | handoff p50 | handoff p99 (goal ≤ 100 ms) | claimers | queued | claims/s | claim p50 | claim p99 | double-assigned | lost |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        `| ${result.handoffs} | ${result.handoffToAgentP50Ms} ms | ${result.handoffToAgentP99Ms} ms | ${CLAIMERS} | ${QUEUED} | ${result.claimsPerSecond} | ${result.claimP50Ms} ms | ${result.claimP99Ms} ms | ${result.doubleAssigned} | ${result.lost} |`,
      ].join('\n'),
    );
  } finally {
    await redis.stop();
  }
}

const deadline = setTimeout(() => {
  console.error('bench:handoff did not finish within 5 minutes');
  process.exit(1);
}, 300_000);
deadline.unref();

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
