import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildAnalytics } from '../../scripts/build-analytics.js';
import { buildConsole } from '../../scripts/build-console.js';
import { buildWidget } from '../../scripts/build-widget.js';
import { startPrivateRedis, type PrivateRedis } from '../../bench/private-redis.js';
import { loadIntents } from '../../bot/load-intents.js';
import { trainClassifier } from '../../bot/train-classifier.js';
import { phrasesFromIntents } from '../../bot/training-data.js';
import { TEST_MODEL_FILE } from './model-file.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: PrivateRedis | undefined;

/**
 * One private redis-server for the whole run (tests use unique key prefixes), a fresh widget bundle
 * and dist/, and the shipped model trained once (from scratch, so a change to the trainer counts)
 * instead of once per test file.
 */
export async function setup(project: TestProject): Promise<void> {
  redis = await startPrivateRedis();
  project.provide('redisUrl', redis.url);
  await buildWidget();
  await buildConsole();
  await buildAnalytics();
  // Process-level tests (signals, start-up errors, several nodes) run the compiled server.
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  rmSync(TEST_MODEL_FILE, { force: true });
  await trainClassifier(phrasesFromIntents(await loadIntents('intents'), 'Melodrift'), { modelFile: TEST_MODEL_FILE });
  // Server processes the tests start inherit it, so they load this model instead of training their own.
  process.env.MODEL_FILE = TEST_MODEL_FILE;
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
