import { io, type Socket } from 'socket.io-client';
import type { AgentAck, AgentPush, AgentPushName, AgentRequest, AgentRequestName } from '../../server/transport/agent-protocol.js';
import { createAgentAccount, type NewAgent } from '../../server/domain/agent-accounts.js';
import type { ChatStore } from '../../server/store/chat-store.js';

/** Creates an account, signs in over HTTP and returns the session cookie. */
export async function signedInAgent(baseUrl: string, store: ChatStore, account: Partial<NewAgent> = {}): Promise<{ cookie: string; id: string; email: string }> {
  const email = account.email ?? `agent-${Math.random().toString(36).slice(2)}@example.com`;
  const password = account.password ?? 'correct horse battery';
  const created = await createAgentAccount(store, { displayName: 'Robin', languages: ['en', 'es'], capacity: 3, role: 'agent', ...account, email, password });
  const response = await fetch(`${baseUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!response.ok) throw new Error(`sign-in failed with ${response.status}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, id: created.id, email };
}

/** A real socket.io client on the /agents namespace, over the websocket transport only. */
export class TestAgent {
  readonly pushes: { name: string; payload: unknown }[] = [];
  private constructor(readonly socket: Socket) {
    socket.onAny((name: string, payload: unknown) => this.pushes.push({ name, payload }));
  }

  static connect(baseUrl: string, cookie?: string): Promise<TestAgent> {
    const socket = io(`${baseUrl}/agents`, { transports: ['websocket'], reconnection: false, extraHeaders: cookie ? { cookie } : {}, forceNew: true });
    const agent = new TestAgent(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(agent));
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
  }

  request<N extends AgentRequestName>(name: N, payload: AgentRequest<N>): Promise<AgentAck<Record<string, any>>> {
    return this.socket.timeout(5000).emitWithAck(name, payload);
  }

  waitFor<N extends AgentPushName>(name: N, match: (payload: AgentPush<N>) => boolean = () => true, timeoutMs = 5000): Promise<AgentPush<N>> {
    const seen = this.pushes.find((p) => p.name === name && match(p.payload as AgentPush<N>));
    if (seen) return Promise.resolve(seen.payload as AgentPush<N>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off(name, handler as never);
        reject(new Error(`no ${name} within ${timeoutMs} ms; got ${JSON.stringify(this.pushes.map((p) => p.name))}`));
      }, timeoutMs);
      const handler = (payload: AgentPush<N>) => {
        if (!match(payload)) return;
        clearTimeout(timer);
        this.socket.off(name, handler as never);
        resolve(payload);
      };
      this.socket.on(name, handler as never);
    });
  }

  close(): void {
    this.socket.close();
  }
}
