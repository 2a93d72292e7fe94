import type { Bot } from '../../bot/bot.js';
import { loadModel } from '../../bot/engine/index.js';
import type { SwappableClassifier } from '../../bot/swappable-classifier.js';
import type { ChatStore, Unsubscribe } from '../store/chat-store.js';
import { TUNING_CHANNEL, type TuningService } from './tuning-service.js';

/**
 * Keeps this node's bot on the promoted model and the applied policy: loaded at start, and
 * again whenever any node announces a change, so every node follows without a restart.
 */
export async function startTuningSync(deps: { store: ChatStore; tuning: TuningService; bot: Bot; classifier: SwappableClassifier; log: (message: string, error?: unknown) => void }): Promise<Unsubscribe> {
  let loadedVersion: string | null = null;

  async function syncPolicy(): Promise<void> {
    deps.bot.setOverrides((await deps.tuning.policy()).intents);
  }

  async function syncModel(): Promise<void> {
    const { version, bytes } = await deps.tuning.currentModelBytes();
    if (version === loadedVersion) return;
    deps.classifier.swap(loadModel(bytes));
    loadedVersion = version;
    deps.log(`model ${version} in use`);
  }

  await syncPolicy().catch((error: unknown) => deps.log('could not load the tuning policy', error));
  await syncModel().catch((error: unknown) => deps.log('could not load the promoted model', error));
  return deps.store.subscribeChannel(TUNING_CHANNEL, (message) => {
    const type = (message as { type?: string } | null)?.type;
    if (type === 'policy') void syncPolicy().catch((error: unknown) => deps.log('could not reload the tuning policy', error));
    if (type === 'model') void syncModel().catch((error: unknown) => deps.log('could not load the promoted model; the previous one stays', error));
  });
}
