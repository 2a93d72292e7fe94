/**
 * Simulated agents for bench/load.ts: accounts are created before the servers start (an accounts
 * file for the embedded store, or straight into Redis), then each agent signs in over HTTP
 * (POST /api/session -> `sid` cookie), opens the console socket (socket.io, namespace /agents,
 * websocket transport) and answers every chat assigned to it: one reply, then it closes the chat.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import type { AgentAccount } from '../server/store/chat-store.js';
import { writeAccountsFile } from '../server/store/accounts-file.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { createRedisStore } from '../server/store/redis-store.js';

export interface AgentLogin {
  email: string;
  password: string;
}

const PASSWORD = 'load bench agent password';

function logins(count: number): AgentLogin[] {
  return Array.from({ length: count }, (_, i) => ({ email: `load-agent-${i}@example.com`, password: PASSWORD }));
}

function newAgent(login: AgentLogin, i: number) {
  return { email: login.email, displayName: `Agent ${i + 1}`, password: login.password, languages: ['en', 'es'] as ('en' | 'es')[], capacity: 20, role: 'agent' as const };
}

/** For the embedded store: an accounts file the server loads at start (ACCOUNTS_FILE). */
export async function writeAgentAccountsFile(count: number): Promise<{ file: string; logins: AgentLogin[] }> {
  const store = createMemoryStore();
  const list = logins(count);
  const accounts: AgentAccount[] = [];
  for (const [i, login] of list.entries()) accounts.push(await createAgentAccount(store, newAgent(login, i)));
  await store.close();
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'load-bench-')), 'accounts.json');
  await writeAccountsFile(file, accounts);
  return { file, logins: list };
}

/** For Redis: the accounts go straight into the store the servers share. */
export async function createRedisAgentAccounts(url: string, count: number): Promise<AgentLogin[]> {
  const store = await createRedisStore({ url });
  const list = logins(count);
  try {
    for (const [i, login] of list.entries()) await createAgentAccount(store, newAgent(login, i));
  } finally {
    await store.close();
  }
  return list;
}

export interface AgentStats {
  agents: number;
  assigned: number;
  replied: number;
  closed: number;
  errors: number;
}

export interface AgentPool {
  stats(): AgentStats;
  close(): void;
}

interface AnyAck {
  ok: boolean;
  code?: string;
}

/** Signs every agent in (spread over the servers) and starts answering; resolves when all are ready. */
export async function startAgents(baseUrls: string[], accounts: AgentLogin[], seed = 1): Promise<AgentPool> {
  const stats: AgentStats = { agents: 0, assigned: 0, replied: 0, closed: 0, errors: 0 };
  const sockets: Socket[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let counter = 0;
  let rng = seed >>> 0;
  const jitter = (min: number, max: number) => {
    rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
    return min + ((rng >>> 8) / 2 ** 24) * (max - min);
  };
  const later = (ms: number, work: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  };

  function answer(socket: Socket, conversationId: string): void {
    stats.assigned++;
    // A person reads the summary and types a short answer, then ends the chat.
    later(jitter(200, 800), () => {
      socket.timeout(10_000).emit('chat.send', { conversationId, clientId: `agt${(counter++).toString(36)}`, text: 'Hi, I am looking into it now. It is sorted: you will see it in your account within a minute.' }, (error: Error | null, ack: AnyAck) => {
        if (error || !ack?.ok) {
          stats.errors++;
          return;
        }
        stats.replied++;
        later(jitter(100, 400), () => {
          socket.timeout(10_000).emit('chat.close', { conversationId, resolution: { resolved: true, intent: null } }, (closeError: Error | null, closeAck: AnyAck) => {
            if (closeError || !closeAck?.ok) stats.errors++;
            else stats.closed++;
          });
        });
      });
    });
  }

  await Promise.all(
    accounts.map(async (account, i) => {
      const base = baseUrls[i % baseUrls.length] ?? '';
      const login = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });
      if (!login.ok) throw new Error(`agent sign-in failed with HTTP ${login.status}`);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const socket = io(`${base}/agents`, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false, forceNew: true });
      sockets.push(socket);
      socket.on('chat.assigned', (payload: { chat: { conversationId: string } }) => answer(socket, payload.chat.conversationId));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('agent console not ready within 10 s')), 10_000);
        socket.once('agent.ready', (payload: { chats: { conversationId: string }[] }) => {
          clearTimeout(timer);
          stats.agents++;
          for (const chat of payload.chats) answer(socket, chat.conversationId);
          resolve();
        });
        socket.once('connect_error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
    }),
  );
  return {
    stats: () => ({ ...stats }),
    close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.close();
    },
  };
}
