import type { Language } from './language.js';

/** One labelled training or evaluation phrase. */
export interface LabelledPhrase {
  text: string;
  intent: string;
  language: Language;
}

export interface ScoredIntent {
  intent: string;
  /** Calibrated probability-like confidence in [0, 1], comparable across intents and messages. */
  confidence: number;
}

/** Thresholds chosen on validation data (never on test) for out-of-scope rejection. */
export interface RejectThresholds {
  /** Below this top confidence the message is treated as not understood. */
  minConfidence: number;
  /** When top - runner-up is below this, the bot asks which of the two was meant. */
  minMargin: number;
}

/**
 * The intent classifier the bot decides with. Implementations must be pure and fast
 * (classification runs on the event loop and must stay well under a millisecond).
 */
export interface IntentClassifier {
  /**
   * Scored intents, best first. Empty text gives an empty list. With `limit`, at most that many
   * (the same first ones as without it); an implementation may ignore it and return them all.
   */
  classify(text: string, language: Language, limit?: number): ScoredIntent[];
  readonly thresholds: RejectThresholds;
  /** Identifies the model (engine, format and content hash), recorded with every bot decision. */
  readonly version: string;
}
