import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServerProcess } from '../bench/server-process.js';

describe('npm run tune', () => {
  it('runs a tuning round against a running server as an analyst', async () => {
    const accountsFile = path.join(mkdtempSync(path.join(tmpdir(), 'accounts-')), 'accounts.json');
    const server = await startServerProcess({ ACCOUNTS_FILE: accountsFile, NODE_ENV: 'development', LOG_LEVEL: 'error' });
    try {
      const run = (args: string[]) => spawnSync(process.execPath, ['dist/scripts/tune.js', '--server', server.url, ...args], { encoding: 'utf8', timeout: 60_000 });
      const refused = run(['--email', 'analyst@example.com', '--password', 'wrong password']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/sign-in failed: 401/);
      const round = run(['--email', 'analyst@example.com', '--password', 'demo-analyst-pass', '--train', '--promote']);
      expect(round.status).toBe(0);
      expect(round.stdout).toMatch(/policy proposal\(s\) from CSAT/);
      expect(round.stdout).toMatch(/candidate model m[a-z0-9]+-.+: in-scope accuracy/);
      expect(round.stdout).toMatch(/promoted|not promoted/);
    } finally {
      await server.stop();
    }
  }, 90_000);
});
