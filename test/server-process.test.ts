import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runNode } from './support/run-node.js';
import { describe, expect, it } from 'vitest';
import { startServerProcess } from '../bench/server-process.js';
import { TestClient } from './support/harness.js';

const runServer = (env: Record<string, string>) => runNode('dist/server/main.js', [], { env: { LOG_LEVEL: 'silent', PORT: '0', ...env }, timeoutMs: 20_000 });

describe('the server process', () => {
  it('drains on SIGTERM: widgets are told to reconnect and the process exits cleanly', async () => {
    const server = await startServerProcess();
    const client = await TestClient.open(server.wsUrl);
    await client.start();
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    await client.waitFor('server.draining');
    expect(await client.waitClosed()).toBe(1012);
    expect(await exited).toBe(0);
  });

  it('refuses to start with a bad variable, naming it', async () => {
    const result = await runServer({ PORT: 'not-a-port' });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/Invalid configuration: PORT/);
  });

  it('refuses to start in production without a conversation secret', async () => {
    const result = await runServer({ NODE_ENV: 'production' });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/CONVERSATION_SECRET is required in production/);
  });

  it('refuses to start with a bad intent file, naming the file and the field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'intents-'));
    writeFileSync(path.join(dir, 'billing.receipt.json'), JSON.stringify({ id: 'billing.receipt', label: { en: 'Receipt', es: 'Recibo' }, tags: ['billing'], policy: { action: 'answer' }, en: { phrases: ['receipt please'], answer: 'Here.' }, es: { phrases: ['recibo'], answer: '' } }));
    const result = await runServer({ INTENTS_DIR: dir });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/billing\.receipt\.json: field "es\.answer"/);
  });
});
