import { runNode } from './support/run-node.js';
import { describe, expect, it } from 'vitest';

/**
 * The fuzzer (bench/fuzz.ts, built into dist/ by the global setup) on a tiny budget.
 * Exit-code rule of the tool: 0 = no finding, 1 = findings (listed in the JSON line),
 * 2 = the fuzzer itself failed (server would not start, hard deadline hit).
 * This test requires: the tool ran to the end (0 or 1, never 2), no crash, no unhandled
 * rejection, the server survived the final checks, and the exit code agrees with the findings.
 */
const runFuzz = (args: string[]) => runNode('dist/bench/fuzz.js', args);

interface FuzzResult {
  seed: number;
  framesSent: number;
  httpRequests: number;
  socketIoRequests: number;
  findings: number;
  list: { kind: string; detail: string; reproducer: string }[];
  crashes: number;
  unhandledRejections: number;
  serverRssMaxMb: number | null;
}

describe('the fuzzer on a tiny budget', () => {
  it('finds no crash and no unhandled rejection, and the server survives', { timeout: 180_000 }, async () => {
    const run = await runFuzz(['--seconds', '5', '--frames', '3000', '--seed', '1', '--json', '--no-record']);
    const lines = run.stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1] ?? '{}') as FuzzResult;
    const summary = JSON.stringify(result.list?.map((f) => `${f.kind}: ${f.detail} <- ${f.reproducer.slice(0, 300)}`), null, 1);
    expect(run.code, `fuzz tool failed:\n${run.stderr.slice(-2000)}\n${run.stdout.slice(-2000)}`).not.toBe(2);
    expect(result.seed).toBe(1);
    expect(result.framesSent).toBeGreaterThan(0);
    expect(result.httpRequests).toBeGreaterThan(0);
    expect(result.socketIoRequests).toBeGreaterThan(0);
    expect(result.crashes, summary).toBe(0);
    expect(result.unhandledRejections, summary).toBe(0);
    expect(result.list.filter((f) => f.kind === 'final-check' || f.kind === 'crash' || f.kind === 'unhandled-rejection'), summary).toEqual([]);
    expect(run.code).toBe(result.findings === 0 ? 0 : 1);
  });
});
