import path from 'node:path';
import { loadBot } from '../bot/load-bot.js';
import { IntentFileError } from '../bot/load-intents.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { PATHS, projectRoot } from './paths.js';
import type { ChatStore } from './store/chat-store.js';
import { createMemoryStore } from './store/memory-store.js';
import { createRedisStore } from './store/redis-store.js';
import { loadAccountsInto } from './store/accounts-file.js';
import { ensureDemoAccounts } from './demo-accounts.js';

async function openStore(config: Config): Promise<ChatStore> {
  if (config.REDIS_CLUSTER_NODES) return createRedisStore({ clusterNodes: config.REDIS_CLUSTER_NODES, tenant: config.TENANT });
  if (config.REDIS_URL) return createRedisStore({ url: config.REDIS_URL, tenant: config.TENANT });
  return createMemoryStore();
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  let loaded;
  try {
    loaded = await loadBot({
      intentsDir: path.resolve(projectRoot(), config.INTENTS_DIR),
      brand: config.BRAND_NAME,
      modelFile: path.resolve(projectRoot(), config.MODEL_FILE),
      log: (message) => console.warn(message),
    });
  } catch (error) {
    if (error instanceof IntentFileError) {
      console.error(`Invalid intent file: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const { bot } = loaded;
  const store = await openStore(config);
  const embedded = !config.REDIS_URL && !config.REDIS_CLUSTER_NODES;
  if (embedded) await loadAccountsInto(store, path.resolve(projectRoot(), config.ACCOUNTS_FILE));
  const demo = config.NODE_ENV === 'development' ? await ensureDemoAccounts(store) : [];
  const { app, startDraining } = await buildApp({
    config,
    store,
    bot,
    model: { classifier: loaded.classifier, phrases: loaded.phrases, shippedModel: loaded.shippedModel },
    widgetBundlePath: PATHS.widgetBundle(),
    consoleBundlePath: PATHS.consoleBundle(),
    publicDir: PATHS.publicDir(),
  });

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'draining');
    startDraining();
    const forced = setTimeout(() => {
      app.log.error('drain took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + 1000);
    forced.unref();
    try {
      await app.close();
      await store.close();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'error while draining');
      process.exit(1);
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // SIGHUP: load the model file again (after a retrain or a promotion) without a restart.
  process.on('SIGHUP', () => {
    loaded.reloadModel().then(
      (version) => app.log.info({ model: version }, 'model reloaded'),
      (error: unknown) => app.log.error({ err: error }, 'model reload failed; the previous model stays in use'),
    );
  });

  await app.listen({ port: config.PORT, host: config.HOST });
  const storeKind = embedded ? 'embedded memory store' : config.REDIS_CLUSTER_NODES ? 'redis cluster' : 'redis';
  const base = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT}`;
  app.log.info({ store: storeKind, model: bot.modelVersion }, `help page at ${base}/`);
  if (demo.length > 0) {
    console.log(`\n  Help page with the chat widget: ${base}/`);
    console.log(`  Agent console:                  ${base}/console`);
    console.log(`  Analyst dashboard:              ${base}/analytics`);
    for (const account of demo) console.log(`  demo ${account.role.padEnd(7)} sign-in: ${account.email} / ${account.password}`);
    console.log('  (development mode only; set NODE_ENV=production to run without demo accounts)\n');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
