import { createBot, type Bot } from './bot.js';
import { intentsHash, loadModelFile } from './engine/index.js';
import type { IntentDefinition } from './intent-schema.js';
import { loadIntents } from './load-intents.js';
import type { LabelledPhrase } from './classifier.js';
import { createSwappableClassifier, type SwappableClassifier } from './swappable-classifier.js';
import { trainClassifier } from './train-classifier.js';
import { phrasesFromIntents } from './training-data.js';

export interface LoadedBot {
  bot: Bot;
  intents: IntentDefinition[];
  /** The shipped training phrases (intent files, brand substituted). */
  phrases: LabelledPhrase[];
  /** The classifier the bot decides with; the tuning loop swaps models into it. */
  classifier: SwappableClassifier;
  /** The bytes of the model trained from the intent files. */
  shippedModel: Buffer;
  /** Loads the model file again and swaps it in without a restart; returns the new model version. */
  reloadModel(): Promise<string>;
}

/** Loads and validates the intent files, loads (or trains) the classifier, and builds the bot. */
export async function loadBot(options: { intentsDir: string; brand: string; modelFile?: string; log?: (message: string) => void }): Promise<LoadedBot> {
  const intents = await loadIntents(options.intentsDir);
  const phrases = phrasesFromIntents(intents, options.brand);
  const shipped = await trainClassifier(phrases, options);
  const classifier = createSwappableClassifier(shipped.classifier);
  const bot = createBot({ intents, classifier, brand: options.brand });
  return {
    bot,
    intents,
    phrases,
    classifier,
    shippedModel: shipped.bytes,
    async reloadModel() {
      if (!options.modelFile) throw new Error('no model file is configured');
      classifier.swap(await loadModelFile(options.modelFile, { expectedIntentsHash: intentsHash(phrases) }));
      return classifier.version;
    },
  };
}
