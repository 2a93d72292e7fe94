import natural from 'natural';
import type { IntentClassifier, LabelledPhrase, RejectThresholds, ScoredIntent } from './classifier.js';
import type { Language } from './language.js';

interface Stemmer {
  tokenizeAndStem(text: string, keepStops?: boolean): string[];
}

const STEMMERS: Record<Language, Stemmer> = {
  en: natural.PorterStemmer as unknown as Stemmer,
  es: natural.PorterStemmerEs as unknown as Stemmer,
};

/**
 * natural's BayesClassifier, one per language, deciding from normalised getClassifications().
 * The reference engine: simple and fast to train, less accurate than bot/engine.
 */
export function createBayesClassifier(
  phrases: readonly LabelledPhrase[],
  thresholds: RejectThresholds = { minConfidence: 0.12, minMargin: 0.05 },
): IntentClassifier {
  const byLanguage = new Map<Language, natural.BayesClassifier>();
  for (const language of Object.keys(STEMMERS) as Language[]) {
    const mine = phrases.filter((p) => p.language === language);
    if (mine.length === 0) continue;
    const classifier = new natural.BayesClassifier(STEMMERS[language] as never);
    classifier.setOptions({ keepStops: true });
    for (const phrase of mine) classifier.addDocument(phrase.text, phrase.intent);
    classifier.train();
    byLanguage.set(language, classifier);
  }
  return {
    thresholds,
    version: `bayes-${phrases.length}`,
    classify(text: string, language: Language): ScoredIntent[] {
      const classifier = byLanguage.get(language) ?? byLanguage.get('en');
      if (!classifier || text.trim() === '') return [];
      const tokens = STEMMERS[language].tokenizeAndStem(text, true);
      if (tokens.length === 0) return [];
      const raw = classifier.getClassifications(text);
      const total = raw.reduce((sum, c) => sum + c.value, 0);
      if (!(total > 0)) return [];
      return raw.map((c) => ({ intent: c.label, confidence: c.value / total })).sort((a, b) => b.confidence - a.confidence);
    },
  };
}
