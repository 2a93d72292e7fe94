import { runNode } from './support/run-node.js';
import { describe, expect, it } from 'vitest';

/** Runs the built load bench (dist/, built by the global setup) and returns its JSON line. */
async function runLoad(args: string[]): Promise<{ code: number | null; result: Record<string, unknown> | null; stderr: string }> {
  // The bench has its own hard deadline; this one only guards the test.
  const { code, stdout, stderr } = await runNode('dist/bench/load.js', args, { timeoutMs: 90_000 });
  const line = stdout.split('\n').find((l) => l.startsWith('{') && l.includes('"benchmark":"load"'));
  return { code, result: line ? (JSON.parse(line) as Record<string, unknown>) : null, stderr };
}

const FIELDS = [
  'connections',
  'messagesPerSecond',
  'replyP50Ms',
  'replyP95Ms',
  'replyP99Ms',
  'handoffP99Ms',
  'serverCpuPct',
  'serverRssMb',
  'errors',
  'lost',
  'duplicated',
  'maxMessagesPerSecondAtP99Under50Ms',
  'echoMaxMessagesPerSecondAtP99Under50Ms',
  'echoP99Ms',
  'throughputRatio',
  'p99Ratio',
];

describe('the load bench', () => {
  it('drives listeners and agents through a real server process and loses or duplicates nothing', { timeout: 100_000 }, async () => {
    const { code, result, stderr } = await runLoad(['--listeners', '20', '--duration', '3', '--no-ramp', '--json', '--pace-min', '0.4', '--pace-max', '1', '--handoff-pct', '25', '--agents', '2']);
    expect(code, stderr).toBe(0);
    expect(result, stderr).not.toBeNull();
    const figures = result as Record<string, unknown>;
    for (const field of FIELDS) expect(figures, `field ${field}`).toHaveProperty(field);
    expect(figures.connections).toBe(20);
    expect(figures.messages as number).toBeGreaterThan(0);
    expect(figures.replies as number).toBeGreaterThan(0);
    expect(figures.handoffsRequested as number).toBeGreaterThan(0);
    expect(figures.errors, JSON.stringify(figures.errorKinds)).toBe(0);
    expect(figures.lost, JSON.stringify(figures.lostDetail)).toBe(0);
    expect(figures.duplicated, JSON.stringify(figures.duplicatedDetail)).toBe(0);
    // No ramp: its figures are present and empty.
    expect(figures.maxMessagesPerSecondAtP99Under50Ms).toBeNull();
    expect(figures.echoMaxMessagesPerSecondAtP99Under50Ms).toBeNull();
  });

  it('refuses unknown options and a node count without Redis', async () => {
    expect((await runLoad(['--listeners', '5', '--frobnicate'])).code).toBe(64);
    expect((await runLoad(['--listeners', '5', '--nodes', '2'])).code).toBe(64);
  });
});
