import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { buildAnalytics } from '../../scripts/build-analytics.js';
import { buildConsole } from '../../scripts/build-console.js';
import { buildWidget } from '../../scripts/build-widget.js';
import { startPrivateRedis, type PrivateRedis } from '../../bench/private-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: PrivateRedis | undefined;

/** One private redis-server for the whole run (tests use unique key prefixes), a fresh widget bundle and dist/. */
export async function setup(project: TestProject): Promise<void> {
  redis = await startPrivateRedis();
  project.provide('redisUrl', redis.url);
  await buildWidget();
  await buildConsole();
  await buildAnalytics();
  // Process-level tests (signals, start-up errors, several nodes) run the compiled server.
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
