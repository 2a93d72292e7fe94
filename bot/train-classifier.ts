import { createBayesClassifier } from './bayes-classifier.js';
import type { IntentClassifier, LabelledPhrase } from './classifier.js';

/** Trains the classifier the bot ships with, from labelled phrases (one place to change the engine). */
export async function trainClassifier(phrases: readonly LabelledPhrase[]): Promise<IntentClassifier> {
  return createBayesClassifier(phrases);
}
