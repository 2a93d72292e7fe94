import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, loadModel, trainInWorker, trainModel } from '../../bot/engine/index.js';
import { TEST_MODEL_FILE } from '../support/model-file.js';
import { buildCopy } from './build-copy.js';
import { syntheticPhrases } from './fixtures.js';

const run = promisify(execFile);
type EngineModule = typeof import('../../bot/engine/index.js');

describe('compiled output: worker training and eval CLI', () => {
  let dir = '';
  let cleanup = async () => {};
  let engine: EngineModule;

  beforeAll(async () => {
    ({ dir, cleanup } = await buildCopy());
    engine = (await import(pathToFileURL(path.join(dir, 'bot/engine/index.js')).href)) as EngineModule;
  });
  afterAll(async () => cleanup());

  it('trains in a worker_thread and returns the same bytes as in-process training', async () => {
    const phrases = syntheticPhrases();
    expect(engine.defaultWorkerEntry()).not.toBeNull();
    const bytes = await engine.trainInWorker(phrases, { seed: 5 });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.equals(trainModel(phrases, { seed: 5 }).serialize())).toBe(true);
    const classifier = engine.loadModel(bytes);
    expect(classifier.classify('please refund my payment', 'en')[0]?.intent).toBe('billing.refund_request');
  });

  it('reports training errors from the worker with their code', async () => {
    await expect(engine.trainInWorker([], { seed: 1 })).rejects.toMatchObject({ code: 'TRAINING_DATA_INVALID' });
  });

  it('from TypeScript sources, asks for the compiled worker', async () => {
    await expect(trainInWorker(syntheticPhrases())).rejects.toBeInstanceOf(EngineError);
    await expect(trainInWorker(syntheticPhrases())).rejects.toMatchObject({ code: 'WORKER_UNAVAILABLE' });
  });

  async function evalCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(dir, 'scripts/eval.js'), ...args], { cwd: process.cwd() });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('eval CLI names the file and line of bad JSONL, missing fields and empty files', async () => {
    const good = path.join(dir, 'good.jsonl');
    await writeFile(good, syntheticPhrases().map((p) => JSON.stringify({ text: p.text, intent: p.intent, language: p.language })).join('\n'));
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text":"hi","intent":"meta.greeting"}\n\n{"text": oops}\n');
    let result = await evalCli('--train', bad, '--test', good, '--json');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/bad\.jsonl:3: not valid JSON/);

    const missing = path.join(dir, 'missing.jsonl');
    await writeFile(missing, '{"text":"hi","intent":"meta.greeting"}\n{"text":"hello"}\n');
    result = await evalCli('--train', good, '--test', missing, '--json');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/missing\.jsonl:2: missing field "intent"/);

    const empty = path.join(dir, 'empty.jsonl');
    await writeFile(empty, '\n  \n');
    result = await evalCli('--train', good, '--test', empty, '--json');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/empty\.jsonl: file is empty/);

    result = await evalCli('--train', good, '--json');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--test is required/);
  });

  it('eval CLI prints one JSON line of metrics', async () => {
    const train = path.join(dir, 'train.jsonl');
    const test = path.join(dir, 'test.jsonl');
    await writeFile(train, syntheticPhrases().map((p) => JSON.stringify(p)).join('\n'));
    await writeFile(
      test,
      [
        { text: 'refund my last charge please', intent: 'billing.refund_request' },
        { text: 'hola buenas', intent: 'meta.greeting', language: 'es' },
        { text: 'what is the capital of peru', intent: 'oos' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const result = await evalCli('--train', train, '--test', test, '--seed', '2', '--json');
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const key of ['n', 'accuracy', 'macroF1', 'inScopeAccuracy', 'coverage', 'oosRecall', 'oosPrecision', 'wrongAnswerRate', 'threshold', 'trainMs', 'classifyP50Us', 'classifyP99Us', 'modelBytes']) {
      expect(report, key).toHaveProperty(key);
    }
    expect(report.n).toBe(3);
    expect(typeof report.oosRecall).toBe('number');
  });

  it('eval CLI without --train evaluates the shipped model itself (same bytes, same version)', async () => {
    const test = path.join(dir, 'shipped-test.jsonl');
    await writeFile(test, [{ text: 'I was charged twice this month', intent: 'billing.charged_twice' }].map((r) => JSON.stringify(r)).join('\n'));
    const result = await evalCli('--test', test, '--json');
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout.trim()) as { version: string; inScopeAccuracy: number };
    expect(report.version).toBe(loadModel(await readFile(TEST_MODEL_FILE)).version);
    expect(report.inScopeAccuracy).toBe(1);
  }, 60_000);
});
