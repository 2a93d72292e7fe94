import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServerProcess } from '../bench/server-process.js';

function agentsCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['dist/scripts/agents.js', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

describe('npm run agents', () => {
  it('adds an account the embedded-store server then signs in with (password stored as scrypt)', async () => {
    const accountsFile = path.join(mkdtempSync(path.join(tmpdir(), 'accounts-')), 'accounts.json');
    const env = { ACCOUNTS_FILE: accountsFile, REDIS_URL: '' };
    const added = agentsCli(['add', '--email', 'Morgan@Example.com', '--name', 'Morgan', '--languages', 'en,es', '--capacity', '4', '--password', 'a long password'], env);
    expect(added.status).toBe(0);
    expect(added.stdout).toMatch(/created agent morgan@example\.com/);
    const refused = agentsCli(['add', '--email', 'x@example.com', '--name', 'X', '--password', 'short'], env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/password: must be at least 10 characters/);
    expect(agentsCli(['remove'], env).status).toBe(2);
    const listed = agentsCli(['list'], env);
    expect(listed.stdout).toMatch(/agent\tmorgan@example\.com\tMorgan\ten,es\tcapacity 4/);
    expect(listed.stdout).not.toMatch(/a long password/);

    const server = await startServerProcess({ ACCOUNTS_FILE: accountsFile, NODE_ENV: 'test' });
    try {
      const ok = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'morgan@example.com', password: 'a long password' }) });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('set-cookie')).toMatch(/^sid=.+HttpOnly; SameSite=Strict/);
      expect((await ok.json()).agent).toMatchObject({ displayName: 'Morgan', capacity: 4, role: 'agent' });
    } finally {
      await server.stop();
    }
  });

  it('creates the demo agent and analyst in development mode only', async () => {
    const accountsFile = path.join(mkdtempSync(path.join(tmpdir(), 'accounts-')), 'accounts.json');
    const signIn = (url: string) => fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'agent@example.com', password: 'demo-agent-pass' }) });
    const development = await startServerProcess({ ACCOUNTS_FILE: accountsFile, NODE_ENV: 'development' });
    try {
      expect((await signIn(development.url)).status).toBe(200);
    } finally {
      await development.stop();
    }
    const production = await startServerProcess({ ACCOUNTS_FILE: accountsFile, NODE_ENV: 'production', CONVERSATION_SECRET: 'k3Jq9vXw2LmN8pRtYz5sB7dF4gH6cA1e' });
    try {
      expect((await signIn(production.url)).status).toBe(401);
    } finally {
      await production.stop();
    }
  });
});
