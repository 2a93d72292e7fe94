/** The label datasets use for messages the bot must not answer; never trained as a class. */
export const OOS = 'oos';

/** One evaluated message: the gold label, the closed-set top-1 intent and whether the bot answered. */
export interface Decision {
  gold: string;
  /** Best intent ignoring rejection (null when the classifier gave nothing, e.g. empty text). */
  predicted: string | null;
  /** Top confidence reached minConfidence. */
  answered: boolean;
}

export interface EvaluationMetrics {
  n: number;
  /** Closed-set top-1 accuracy over in-scope messages (rejection ignored). */
  accuracy: number;
  /** Closed-set macro F1 over in-scope messages (labels present in gold or predictions). */
  macroF1: number;
  /** Right intent and answered, over in-scope messages. */
  inScopeAccuracy: number;
  /** Answered, over in-scope messages. */
  coverage: number;
  /** Rejected, over out-of-scope messages; null when there are none. */
  oosRecall: number | null;
  /** Out-of-scope among rejected messages; null when the test has no out-of-scope message. */
  oosPrecision: number | null;
  /** Answered with a wrong intent (an out-of-scope message answered counts), over all messages. */
  wrongAnswerRate: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function evaluateDecisions(decisions: readonly Decision[]): EvaluationMetrics {
  let inScope = 0;
  let correct = 0;
  let correctAnswered = 0;
  let answeredInScope = 0;
  let oos = 0;
  let oosRejected = 0;
  let rejected = 0;
  let wrongAnswers = 0;
  const truePositive = new Map<string, number>();
  const goldCount = new Map<string, number>();
  const predictedCount = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const d of decisions) {
    if (!d.answered) rejected++;
    if (d.gold === OOS) {
      oos++;
      if (!d.answered) oosRejected++;
      else wrongAnswers++;
      continue;
    }
    inScope++;
    bump(goldCount, d.gold);
    if (d.predicted !== null) bump(predictedCount, d.predicted);
    const right = d.predicted === d.gold;
    if (right) {
      correct++;
      bump(truePositive, d.gold);
    }
    if (d.answered) {
      answeredInScope++;
      if (right) correctAnswered++;
      else wrongAnswers++;
    }
  }
  const labels = new Set([...goldCount.keys(), ...predictedCount.keys()]);
  let f1Sum = 0;
  for (const label of labels) {
    const tp = truePositive.get(label) ?? 0;
    const precision = ratio(tp, predictedCount.get(label) ?? 0);
    const recall = ratio(tp, goldCount.get(label) ?? 0);
    f1Sum += precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  }
  return {
    n: decisions.length,
    accuracy: ratio(correct, inScope),
    macroF1: ratio(f1Sum, labels.size),
    inScopeAccuracy: ratio(correctAnswered, inScope),
    coverage: ratio(answeredInScope, inScope),
    oosRecall: oos === 0 ? null : ratio(oosRejected, oos),
    oosPrecision: oos === 0 ? null : ratio(oosRejected, rejected),
    wrongAnswerRate: ratio(wrongAnswers, decisions.length),
  };
}

/** Nearest-rank percentile of a list of numbers (p in [0, 100]). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Rounds every number of a flat record to `digits` decimals (for printing). */
export function rounded<T extends object>(record: T, digits = 4): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[key] = typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(digits)) : value;
  }
  return out as T;
}
