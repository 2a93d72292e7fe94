/**
 * The CSAT simulation's agents (docs/simulation.md, "The agents"): signed in over socket.io
 * /agents, they take the chats auto-assignment gives them, reply once and close each with the
 * true label of the listener's message.
 */
import { io, type Socket } from 'socket.io-client';
import { AGENT_REPLY, type Draws, handlingMs, agentResolution, type PoolItem } from './simulate-model.js';

export interface ChatKnowledge {
  item: PoolItem;
  draws: Draws;
}

export interface SimAgents {
  /** Chats closed, and requests the server refused (should stay 0). */
  readonly closed: number;
  readonly errors: string[];
  stop(): void;
}

type Ack = { ok: true } | { ok: false; code: string; message: string };

function emit(socket: Socket, name: string, payload: unknown): Promise<Ack> {
  return new Promise((resolve) => {
    socket.timeout(10_000).emit(name, payload, (error: Error | null, ack: Ack) => resolve(error ? { ok: false, code: 'TIMEOUT', message: error.message } : ack));
  });
}

export async function signIn(url: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!response.ok) throw new Error(`sign-in of ${email} failed: HTTP ${response.status} ${await response.text()}`);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

/** Connects the agents; resolves once every console got `agent.ready`. */
export async function startAgents(url: string, accounts: readonly { email: string; password: string }[], knowledge: (conversationId: string) => ChatKnowledge | undefined): Promise<SimAgents> {
  let closed = 0;
  const errors: string[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const sockets: Socket[] = [];
  let stopped = false;
  const later = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  for (const [n, account] of accounts.entries()) {
    const cookie = await signIn(url, account.email, account.password);
    const socket = io(`${url}/agents`, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
    sockets.push(socket);
    socket.on('chat.assigned', (payload: { chat: { conversationId: string; language: 'en' | 'es' } }) => {
      const { conversationId, language } = payload.chat;
      const known = knowledge(conversationId);
      void (async () => {
        const half = known ? handlingMs(known.draws) / 2 : 0;
        await later(half);
        if (stopped) return;
        const sent = await emit(socket, 'chat.send', { conversationId, clientId: `a${n}-${conversationId.slice(-12)}`, text: AGENT_REPLY[language] });
        if (!sent.ok) errors.push(`chat.send ${conversationId}: ${sent.code}`);
        await later(half);
        if (stopped) return;
        const resolution = known ? agentResolution(known.item, known.draws) : { resolved: false, intent: null };
        const done = await emit(socket, 'chat.close', { conversationId, resolution });
        if (done.ok) closed++;
        else if (done.code !== 'NOT_FOUND') errors.push(`chat.close ${conversationId}: ${done.code}`);
      })();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('agent.ready', () => resolve());
      socket.once('connect_error', (error) => reject(new Error(`agent ${account.email} could not connect: ${error.message}`)));
    });
  }
  return {
    get closed() {
      return closed;
    },
    errors,
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.close();
    },
  };
}
