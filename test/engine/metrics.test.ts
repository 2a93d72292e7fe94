import { describe, expect, it } from 'vitest';
import { evaluateDecisions, percentile } from '../../bot/engine/metrics.js';
import { chooseMinConfidence } from '../../bot/engine/thresholds.js';

describe('metrics', () => {
  it('computes closed-set, in-scope and out-of-scope figures', () => {
    const m = evaluateDecisions([
      { gold: 'a', predicted: 'a', answered: true },
      { gold: 'a', predicted: 'b', answered: true },
      { gold: 'b', predicted: 'b', answered: false },
      { gold: 'oos', predicted: 'a', answered: false },
      { gold: 'oos', predicted: 'b', answered: true },
    ]);
    expect(m.n).toBe(5);
    expect(m.accuracy).toBeCloseTo(2 / 3);
    expect(m.inScopeAccuracy).toBeCloseTo(1 / 3);
    expect(m.coverage).toBeCloseTo(2 / 3);
    expect(m.oosRecall).toBeCloseTo(1 / 2);
    expect(m.oosPrecision).toBeCloseTo(1 / 2);
    expect(m.wrongAnswerRate).toBeCloseTo(2 / 5);
    // F1(a) = 2 * 1 * 0.5 / 1.5, F1(b) = 2 * 0.5 * 1 / 1.5
    expect(m.macroF1).toBeCloseTo(2 / 3);
    expect(evaluateDecisions([{ gold: 'a', predicted: 'a', answered: true }]).oosRecall).toBeNull();
  });

  it('percentile uses the nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([], 50)).toBe(0);
  });

  it('chooses a threshold separating in-scope from out-of-scope on validation', () => {
    const rows = [
      ...[0.9, 0.8, 0.85, 0.7].map((top) => ({ oos: false, top, second: 0.05, topRight: true, secondRight: false })),
      ...[0.2, 0.3, 0.4].map((top) => ({ oos: true, top, second: 0.1, topRight: false, secondRight: false })),
    ];
    const choice = chooseMinConfidence(rows);
    expect(choice.minConfidence).toBeGreaterThan(0.4);
    expect(choice.minConfidence).toBeLessThan(0.7);
    expect(choice.oosRecall).toBe(1);
    expect(choice.inScopeAccuracy).toBe(1);
  });

  it('with a target recall, takes the lowest threshold that rejects that share of validation oos', () => {
    const inScope = [0.95, 0.9, 0.9, 0.85, 0.8, 0.8, 0.75, 0.7, 0.7, 0.45].map((top) => ({ oos: false, top, second: 0.05, topRight: true, secondRight: false }));
    const oos = [0.1, 0.2, 0.3, 0.4, 0.5].map((top) => ({ oos: true, top, second: 0.1, topRight: false, secondRight: false }));
    // Balanced: rejecting all five oos costs one in-scope answer in ten, which (9/10 + 5/5) / 2 prefers.
    expect(chooseMinConfidence([...inScope, ...oos])).toMatchObject({ oosRecall: 1, inScopeAccuracy: 0.9 });
    const choice = chooseMinConfidence([...inScope, ...oos], 0.8);
    expect(choice.method).toBe('target-recall');
    expect(choice.oosRecall).toBe(0.8);
    expect(choice.inScopeAccuracy).toBe(1);
    expect(choice.minConfidence).toBeGreaterThan(0.4);
    expect(choice.minConfidence).toBeLessThan(0.45);
  });
});
