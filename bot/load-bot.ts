import { createBot, type Bot } from './bot.js';
import { loadIntents } from './load-intents.js';
import { trainClassifier } from './train-classifier.js';
import { phrasesFromIntents } from './training-data.js';

/** Loads and validates the intent files, trains the classifier and builds the bot. */
export async function loadBot(options: { intentsDir: string; brand: string }): Promise<Bot> {
  const intents = await loadIntents(options.intentsDir);
  const classifier = await trainClassifier(phrasesFromIntents(intents, options.brand));
  return createBot({ intents, classifier, brand: options.brand });
}
