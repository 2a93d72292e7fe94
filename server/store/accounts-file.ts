import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { agentAccountSchema } from './record-schemas.js';
import type { AgentAccount, ChatStore } from './chat-store.js';

/**
 * The embedded store keeps accounts in memory; this file keeps them between starts, and is
 * what `npm run agents` writes when no REDIS_URL is set. Only password hashes are stored.
 */
const accountsFileSchema = z.object({ v: z.literal(1), accounts: z.array(agentAccountSchema) });

export async function readAccountsFile(file: string): Promise<AgentAccount[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const parsed = accountsFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file}: not an accounts file (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  return parsed.data.accounts;
}

export async function writeAccountsFile(file: string, accounts: readonly AgentAccount[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify({ v: 1, accounts }, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, file);
}

export async function loadAccountsInto(store: ChatStore, file: string): Promise<number> {
  const accounts = await readAccountsFile(file);
  for (const account of accounts) await store.saveAgent(account);
  return accounts.length;
}
