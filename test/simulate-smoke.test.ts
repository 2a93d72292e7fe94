import { runNode } from './support/run-node.js';
import { describe, expect, it } from 'vitest';

/**
 * The CSAT simulation (bench/simulate.ts, built into dist/ by the global setup) on a tiny
 * budget, as a child process: it must run to the end by itself and print one JSON line with
 * every figure, in range, for the number of conversations asked. Behaviour, not timings.
 */
const runSimulation = (args: string[]) => runNode('dist/bench/simulate.js', args);

interface RoundFigures {
  botCsat: number | null;
  overallCsat: number | null;
  containment: number | null;
  wrongAnswerRate: number | null;
  conversations: number;
  botN: number;
  failed: number;
  classes: Record<string, number>;
}

const inUnitRange = (value: unknown) => typeof value === 'number' && value >= 0 && value <= 1;

describe('the CSAT simulation on a tiny budget', () => {
  it('runs both rounds and the tuning round, and prints every figure', { timeout: 180_000 }, async () => {
    const run = await runSimulation(['--json', '--conversations', '16', '--seed', '1', '--no-record']);
    expect(run.code, `simulate failed:\n${run.stderr.slice(-2000)}\n${run.stdout.slice(-2000)}`).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, unknown>;
    expect(result.benchmark).toBe('simulate');
    expect(result.seed).toBe(1);
    expect(result.conversationsPerRound).toBe(16);

    for (const name of ['before', 'after'] as const) {
      const round = result[name] as RoundFigures;
      expect(round, name).toBeTypeOf('object');
      expect(round.conversations, `${name}.conversations`).toBe(16);
      expect(round.failed, `${name}.failed`).toBe(0);
      for (const figure of ['botCsat', 'overallCsat', 'containment', 'wrongAnswerRate'] as const) {
        expect(inUnitRange(round[figure]), `${name}.${figure} = ${String(round[figure])}`).toBe(true);
      }
      // Every conversation was classified once.
      expect(Object.values(round.classes).reduce((a, b) => a + b, 0)).toBe(16);
      expect(round.botN).toBeLessThanOrEqual(16);
    }
    const before = result.before as RoundFigures;
    const after = result.after as RoundFigures;
    expect(result.botCsatLift).toBeCloseTo(after.botCsat! / before.botCsat! - 1, 3);
    expect(result.crossCheck).toMatchObject({ ok: true });

    const tuning = result.tuning as {
      proposals: number;
      proposalsApplied: number;
      candidates: { total: number; accepted: number; relabelled: number };
      model: { version: string; promoted: boolean; refusedReason: string | null; evaluation: Record<string, unknown> };
    };
    expect(tuning.proposalsApplied).toBeLessThanOrEqual(tuning.proposals);
    expect(tuning.candidates.accepted + tuning.candidates.relabelled).toBeLessThanOrEqual(tuning.candidates.total);
    expect(tuning.model.version).toMatch(/\S/);
    expect(typeof tuning.model.promoted).toBe('boolean');
    // Promoted, or refused with the server's reason.
    if (!tuning.model.promoted) expect(tuning.model.refusedReason).toMatch(/\S/);
    expect(inUnitRange(tuning.model.evaluation.inScopeAccuracy)).toBe(true);

    const goal = result.goal as { botCsatLiftMin: number; containmentDropMaxPoints: number; met: boolean };
    expect(goal).toMatchObject({ botCsatLiftMin: 0.14, containmentDropMaxPoints: 5 });
    expect(typeof goal.met).toBe('boolean');
  });
});
