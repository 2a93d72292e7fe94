import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import { languageSchema } from '../../bot/language.js';
import { AppError } from '../errors.js';
import type { AgentAccount, ChatStore, Session } from '../store/chat-store.js';
import { newId } from './ids.js';

const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 64 };

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export const newAgentSchema = z.object({
  email: z.email().transform((e) => e.toLowerCase()),
  displayName: z.string().trim().min(1).max(60),
  password: z.string().min(10, 'must be at least 10 characters').max(200),
  languages: z.array(languageSchema).min(1),
  capacity: z.number().int().min(1).max(20).default(3),
  role: z.enum(['agent', 'analyst', 'admin']).default('agent'),
});
export type NewAgent = z.input<typeof newAgentSchema>;

export async function createAgentAccount(store: ChatStore, input: NewAgent, now = new Date()): Promise<AgentAccount> {
  const parsed = newAgentSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('VALIDATION_FAILED', `${issue?.path.join('.') || 'account'}: ${issue?.message ?? 'is invalid'}`);
  }
  const { password, ...rest } = parsed.data;
  if (await store.findAgentByEmail(rest.email)) throw new AppError('VALIDATION_FAILED', `An account with e-mail ${rest.email} already exists.`);
  const account: AgentAccount = { id: newId('agt'), ...rest, passwordHash: await hashPassword(password), createdAt: now.toISOString() };
  await store.saveAgent(account);
  return account;
}

export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

// Compared against when the e-mail is unknown, so both failures take the same time.
const DUMMY_HASH = hashPassword(randomBytes(12).toString('hex'));

export async function signIn(store: ChatStore, email: string, password: string, ttlMs = SESSION_TTL_MS): Promise<{ session: Session; agent: AgentAccount }> {
  const agent = await store.findAgentByEmail(email.trim().toLowerCase());
  const ok = await verifyPassword(agent?.passwordHash ?? (await DUMMY_HASH), password);
  if (!agent || !ok) throw new AppError('INVALID_CREDENTIALS');
  const session: Session = { token: randomBytes(32).toString('base64url'), agentId: agent.id, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
  await store.createSession(session);
  return { session, agent };
}

/** The signed-in account behind a session token, or null when absent, expired or revoked. */
export async function authenticate(store: ChatStore, token: string | undefined): Promise<AgentAccount | null> {
  if (!token || token.length > 200) return null;
  const session = await store.getSession(token);
  if (!session || Date.parse(session.expiresAt) <= Date.now()) return null;
  return store.getAgent(session.agentId);
}

export function publicProfile(agent: AgentAccount) {
  return { id: agent.id, displayName: agent.displayName, languages: agent.languages, capacity: agent.capacity, role: agent.role };
}
