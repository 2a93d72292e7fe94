import type { LabelledPhrase } from './classifier.js';
import type { IntentDefinition } from './intent-schema.js';
import { LANGUAGES } from './language.js';

/** Replaces the `{brand}` placeholder used in intent files. */
export function withBrand(text: string, brand: string): string {
  return text.replaceAll('{brand}', brand);
}

/** Every training phrase of every intent, in both languages, in a stable order. */
export function phrasesFromIntents(intents: readonly IntentDefinition[], brand: string): LabelledPhrase[] {
  const phrases: LabelledPhrase[] = [];
  for (const intent of intents) {
    for (const language of LANGUAGES) {
      for (const text of intent[language].phrases) {
        phrases.push({ text: withBrand(text, brand), intent: intent.id, language });
      }
    }
  }
  return phrases;
}
