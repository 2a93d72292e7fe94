/**
 * The agent's session over HTTP (same origin): sign in, who am I, sign out. The session
 * itself is an HttpOnly cookie the page never sees; the socket.io connection sends it along.
 */
import * as z from 'zod/mini';
import { agentProfileSchema, type AgentProfile } from '../server/transport/agent-protocol.js';

export type SessionResult = { ok: true; agent: AgentProfile } | { ok: false; code: string; message: string };

const sessionBodySchema = z.object({ agent: agentProfileSchema });
const errorBodySchema = z.object({ code: z.string(), message: z.optional(z.string()) });

export interface SessionApi {
  current(): Promise<SessionResult>;
  signIn(email: string, password: string): Promise<SessionResult>;
  signOut(): Promise<void>;
}

/** `fetchImpl` is the page's fetch by default. */
export function createSessionApi(base = '', fetchImpl: typeof fetch = (...args) => fetch(...args)): SessionApi {
  async function call(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<Response | null> {
    try {
      return await fetchImpl(`${base}/api/session`, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch {
      return null;
    }
  }

  async function read(response: Response | null): Promise<SessionResult> {
    if (!response) return { ok: false, code: 'NETWORK', message: 'The server cannot be reached.' };
    let json: unknown = null;
    try {
      json = await response.json();
    } catch {
      // an empty or non-JSON body: judged by the status below
    }
    if (response.ok) {
      const parsed = z.safeParse(sessionBodySchema, json);
      return parsed.success ? { ok: true, agent: parsed.data.agent } : { ok: false, code: 'BAD_RESPONSE', message: 'The server answered in an unexpected way.' };
    }
    const error = z.safeParse(errorBodySchema, json);
    const code = error.success ? error.data.code : response.status === 401 ? 'UNAUTHORIZED' : 'HTTP_' + response.status;
    return { ok: false, code, message: (error.success && error.data.message) || `The server answered ${response.status}.` };
  }

  return {
    async current() {
      return read(await call('GET'));
    },
    async signIn(email, password) {
      return read(await call('POST', { email, password }));
    },
    async signOut() {
      await call('DELETE');
    },
  };
}
