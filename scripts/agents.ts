/**
 * npm run agents -- add --email E --name N [--languages en,es] [--capacity 3] [--role agent|analyst|admin]
 *                       [--password P]   (or AGENT_PASSWORD in the environment)
 * npm run agents -- list
 * With REDIS_URL set, accounts go to Redis; otherwise to ACCOUNTS_FILE for the embedded store.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAgentAccount } from '../server/domain/agent-accounts.js';
import { loadConfig } from '../server/config.js';
import { projectRoot } from '../server/paths.js';
import { readAccountsFile, writeAccountsFile, loadAccountsInto } from '../server/store/accounts-file.js';
import type { ChatStore } from '../server/store/chat-store.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { createRedisStore } from '../server/store/redis-store.js';

const USAGE = 'usage: npm run agents -- add --email E --name N [--languages en,es] [--capacity 3] [--role agent|analyst|admin] [--password P]\n       npm run agents -- list';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      languages: { type: 'string', default: 'en' },
      capacity: { type: 'string', default: '3' },
      role: { type: 'string', default: 'agent' },
      password: { type: 'string' },
    },
  });
  const command = positionals[0];
  if (command !== 'add' && command !== 'list') {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const accountsFile = path.resolve(projectRoot(), config.ACCOUNTS_FILE);
  let store: ChatStore;
  if (config.REDIS_URL) store = await createRedisStore({ url: config.REDIS_URL, tenant: config.TENANT });
  else {
    store = createMemoryStore();
    await loadAccountsInto(store, accountsFile);
  }
  try {
    if (command === 'list') {
      for (const account of await store.listAgents()) {
        console.log(`${account.id}\t${account.role}\t${account.email}\t${account.displayName}\t${account.languages.join(',')}\tcapacity ${account.capacity}`);
      }
      return 0;
    }
    const password = values.password ?? process.env.AGENT_PASSWORD;
    if (!values.email || !values.name || !password) {
      console.error(`--email, --name and a password (--password or AGENT_PASSWORD) are required\n${USAGE}`);
      return 2;
    }
    const account = await createAgentAccount(store, {
      email: values.email,
      displayName: values.name,
      password,
      languages: (values.languages ?? 'en').split(',').map((l) => l.trim()) as ('en' | 'es')[],
      capacity: Number(values.capacity),
      role: values.role as 'agent' | 'analyst' | 'admin',
    });
    if (!config.REDIS_URL) await writeAccountsFile(accountsFile, [...(await readAccountsFile(accountsFile)), account]);
    console.log(`created ${account.role} ${account.email} (${account.id})${config.REDIS_URL ? '' : ` in ${path.relative(process.cwd(), accountsFile)}`}`);
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  } finally {
    await store.close();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
