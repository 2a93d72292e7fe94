import type { IntentClassifier } from './classifier.js';

export interface SwappableClassifier extends IntentClassifier {
  /** Replaces the model in place; the next classification uses it. No restart, no lost messages. */
  swap(next: IntentClassifier): void;
}

export function createSwappableClassifier(initial: IntentClassifier): SwappableClassifier {
  let current = initial;
  return {
    classify: (text, language, limit) => current.classify(text, language, limit),
    get thresholds() {
      return current.thresholds;
    },
    get version() {
      return current.version;
    },
    swap(next) {
      current = next;
    },
  };
}
