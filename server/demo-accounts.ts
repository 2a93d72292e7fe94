import { createAgentAccount } from './domain/agent-accounts.js';
import type { ChatStore } from './store/chat-store.js';

/** Development mode only: accounts a newcomer can sign in with at once. Never in production. */
export const DEMO_ACCOUNTS = [
  { email: 'agent@example.com', displayName: 'Alex (demo agent)', password: 'demo-agent-pass', languages: ['en', 'es'] as ('en' | 'es')[], capacity: 3, role: 'agent' as const },
  { email: 'analyst@example.com', displayName: 'Sam (demo analyst)', password: 'demo-analyst-pass', languages: ['en', 'es'] as ('en' | 'es')[], capacity: 1, role: 'analyst' as const },
];

export async function ensureDemoAccounts(store: ChatStore): Promise<typeof DEMO_ACCOUNTS> {
  for (const account of DEMO_ACCOUNTS) {
    if (!(await store.findAgentByEmail(account.email))) await createAgentAccount(store, account);
  }
  return DEMO_ACCOUNTS;
}
