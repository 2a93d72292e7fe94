import type { TestProject } from 'vitest/node';
import { buildWidget } from '../../scripts/build-widget.js';
import { startPrivateRedis, type PrivateRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: PrivateRedis | undefined;

/** One private redis-server for the whole run (tests use unique key prefixes), and a fresh widget bundle. */
export async function setup(project: TestProject): Promise<void> {
  redis = await startPrivateRedis();
  project.provide('redisUrl', redis.url);
  await buildWidget();
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
