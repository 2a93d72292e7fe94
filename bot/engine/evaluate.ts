import type { IntentClassifier, LabelledPhrase } from '../classifier.js';
import { evaluateDecisions, percentile, type Decision, type EvaluationMetrics } from './metrics.js';

export interface TimedEvaluation extends EvaluationMetrics {
  classifyP50Us: number;
  classifyP99Us: number;
}

/** Classifies every test phrase once (after a short warm-up), timing each call; rejection uses the classifier's minConfidence. */
export function evaluateClassifier(classifier: IntentClassifier, test: readonly LabelledPhrase[]): TimedEvaluation {
  const warmUp = Math.min(test.length, 200);
  for (let i = 0; i < warmUp; i++) classifier.classify((test[i] as LabelledPhrase).text, (test[i] as LabelledPhrase).language);
  const micros: number[] = [];
  const decisions: Decision[] = [];
  for (const phrase of test) {
    const start = process.hrtime.bigint();
    const scored = classifier.classify(phrase.text, phrase.language);
    micros.push(Number(process.hrtime.bigint() - start) / 1000);
    const top = scored[0];
    decisions.push({
      gold: phrase.intent,
      predicted: top?.intent ?? null,
      answered: top !== undefined && top.confidence >= classifier.thresholds.minConfidence,
    });
  }
  return { ...evaluateDecisions(decisions), classifyP50Us: percentile(micros, 50), classifyP99Us: percentile(micros, 99) };
}
