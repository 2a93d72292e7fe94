import type { RejectThresholds } from '../classifier.js';

/** One scored validation message, as threshold selection sees it. */
export interface ScoredValidation {
  /** True when the message is out of scope (or stands in for it). */
  oos: boolean;
  /** Top and runner-up confidence. */
  top: number;
  second: number;
  /** In scope: the top intent is right / the runner-up is right. */
  topRight: boolean;
  secondRight: boolean;
}

export interface ThresholdChoice extends RejectThresholds {
  /** How minConfidence was chosen. */
  method: 'balanced' | 'quantile' | 'target-recall';
  /** Validation figures at the chosen threshold. */
  inScopeAccuracy: number;
  oosRecall: number | null;
}

/** In-scope messages whose top confidence is below minConfidence are dropped at most this often without oos data. */
const FALLBACK_QUANTILE = 0.05;

/**
 * With targetOosRecall, minConfidence is the lowest threshold that rejects at least that share of the
 * out-of-scope validation messages; without it (null), it maximises the balanced objective
 * (inScopeAccuracy + oosRecall) / 2 on validation.
 * Without any out-of-scope validation message it falls back to the 5% quantile of the top confidence of
 * correctly classified in-scope messages. The chosen value is the midpoint between the two neighbouring
 * observed confidences, so it does not sit on a validation point.
 */
export function chooseMinConfidence(
  rows: readonly ScoredValidation[],
  targetOosRecall: number | null = null,
): Pick<ThresholdChoice, 'minConfidence' | 'method' | 'inScopeAccuracy' | 'oosRecall'> {
  const inScope = rows.filter((r) => !r.oos);
  const oos = rows.filter((r) => r.oos);
  if (inScope.length === 0) return { minConfidence: 0.5, method: 'quantile', inScopeAccuracy: 0, oosRecall: null };
  if (oos.length === 0) {
    const right = inScope.filter((r) => r.topRight).map((r) => r.top).sort((a, b) => a - b);
    const at = Math.floor(FALLBACK_QUANTILE * right.length);
    const minConfidence = right.length === 0 ? 0.5 : (right[at] as number);
    const accepted = inScope.filter((r) => r.topRight && r.top >= minConfidence).length;
    return { minConfidence, method: 'quantile', inScopeAccuracy: accepted / inScope.length, oosRecall: null };
  }
  // Sweep thresholds upwards through every observed confidence.
  const events = rows.map((r) => ({ top: r.top, oos: r.oos, right: !r.oos && r.topRight })).sort((a, b) => a.top - b.top);
  let acceptedRight = inScope.filter((r) => r.topRight).length;
  let rejectedOos = 0;
  let best = { score: (acceptedRight / inScope.length) / 2, index: 0 };
  let reached = targetOosRecall !== null && targetOosRecall <= 0;
  for (let i = 0; i < events.length && !reached; i++) {
    const e = events[i] as (typeof events)[number];
    if (e.oos) rejectedOos++;
    else if (e.right) acceptedRight--;
    const next = events[i + 1];
    if (next && next.top === e.top) continue;
    if (targetOosRecall !== null) {
      // In-scope accuracy only falls as the threshold rises: the lowest threshold reaching the recall is the best.
      if (rejectedOos / oos.length >= targetOosRecall) {
        best = { score: 0, index: i + 1 };
        reached = true;
      }
      continue;
    }
    const score = (acceptedRight / inScope.length + rejectedOos / oos.length) / 2;
    if (score > best.score) best = { score, index: i + 1 };
  }
  const below = events[best.index - 1];
  const above = events[best.index];
  const minConfidence = below === undefined ? 0 : above === undefined ? Math.min(1, below.top + 1e-6) : (below.top + above.top) / 2;
  const acc = inScope.filter((r) => r.topRight && r.top >= minConfidence).length / inScope.length;
  const recall = oos.filter((r) => r.top < minConfidence).length / oos.length;
  return { minConfidence, method: targetOosRecall === null ? 'balanced' : 'target-recall', inScopeAccuracy: acc, oosRecall: recall };
}

/**
 * minMargin: among answered in-scope validation messages, asking "did you mean A or B?" when
 * top - runner-up < m rescues those whose runner-up is right and costs a click on those whose top is
 * right. m maximises rescued - 0.5 * needless; 0 when clarifying never pays.
 */
export function chooseMinMargin(rows: readonly ScoredValidation[], minConfidence: number): number {
  const answered = rows
    .filter((r) => !r.oos && r.top >= minConfidence)
    .map((r) => ({ margin: r.top - r.second, gain: r.secondRight ? 1 : r.topRight ? -0.5 : 0 }))
    .sort((a, b) => a.margin - b.margin);
  let total = 0;
  let best = { total: 0, margin: 0 };
  for (let i = 0; i < answered.length; i++) {
    const row = answered[i] as (typeof answered)[number];
    total += row.gain;
    const next = answered[i + 1];
    if (next && next.margin === row.margin) continue;
    if (total > best.total) best = { total, margin: next ? (row.margin + next.margin) / 2 : row.margin + 1e-6 };
  }
  return best.margin;
}
