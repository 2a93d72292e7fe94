/**
 * Evaluation CLI for the intent engine.
 *   node dist/scripts/eval.js --train TRAIN.jsonl --test TEST.jsonl [--val VAL.jsonl] [--seed N] [--json] [--save-model FILE]
 * Prints one JSON line of metrics (see docs/engine.md). Without --train it trains on the shipped intents.
 */
import type { EvaluationMetrics } from '../bot/engine/metrics.js';
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { LabelledPhrase } from '../bot/classifier.js';
import { readJsonl } from '../bot/engine/dataset.js';
import { EngineError } from '../bot/engine/errors.js';
import { evaluateClassifier } from '../bot/engine/evaluate.js';
import { trainModel } from '../bot/engine/train.js';
import { rounded } from '../bot/engine/metrics.js';
import { IntentFileError, loadIntents } from '../bot/load-intents.js';
import { SHIPPED_TRAINING } from '../bot/train-classifier.js';
import { phrasesFromIntents } from '../bot/training-data.js';

export const USAGE = 'usage: eval [--train TRAIN.jsonl] --test TEST.jsonl [--val VAL.jsonl] [--seed N] [--json] [--save-model FILE]';

export class UsageError extends Error {}

/** The fixed output of the eval command: the metrics, then how the model was made and how fast it is. */
export interface EvalReport extends EvaluationMetrics {
  threshold: number;
  minMargin: number;
  trainMs: number;
  classifyP50Us: number;
  classifyP99Us: number;
  modelBytes: number;
  trainPhrases: number;
  calibration: string;
  version: string;
}

export async function runEval(argv: readonly string[]): Promise<EvalReport> {
  let values: { train?: string; test?: string; val?: string; seed?: string; json?: boolean; 'save-model'?: string };
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        train: { type: 'string' },
        test: { type: 'string' },
        val: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        'save-model': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (!values.test) throw new UsageError(`--test is required\n${USAGE}`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  const train: LabelledPhrase[] = values.train
    ? await readJsonl(values.train, { detectLanguage: true })
    : phrasesFromIntents(await loadIntents('intents'), 'Melodrift');
  const test = await readJsonl(values.test, { detectLanguage: true });
  const validation = values.val ? await readJsonl(values.val, { detectLanguage: true }) : undefined;
  // Without --train this is the shipped model itself: the same phrases and the same training options.
  const options = values.train ? { seed } : { ...SHIPPED_TRAINING, ...(values.seed === undefined ? {} : { seed }) };
  const model = trainModel(train, { ...options, ...(validation ? { validation } : {}) });
  const bytes = model.serialize();
  if (values['save-model']) await writeFile(values['save-model'], bytes);
  const result = evaluateClassifier(model.classifier, test);
  return rounded({
    n: result.n,
    accuracy: result.accuracy,
    macroF1: result.macroF1,
    inScopeAccuracy: result.inScopeAccuracy,
    coverage: result.coverage,
    oosRecall: result.oosRecall,
    oosPrecision: result.oosPrecision,
    wrongAnswerRate: result.wrongAnswerRate,
    threshold: model.classifier.thresholds.minConfidence,
    minMargin: model.classifier.thresholds.minMargin,
    trainMs: Math.round(model.metrics.trainMs),
    classifyP50Us: Number(result.classifyP50Us.toFixed(1)),
    classifyP99Us: Number(result.classifyP99Us.toFixed(1)),
    modelBytes: bytes.length,
    trainPhrases: model.header.trainingPhrases,
    calibration: model.metrics.method,
    version: model.classifier.version,
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  try {
    const report = await runEval(argv);
    process.stdout.write(`${argv.includes('--json') ? JSON.stringify(report) : JSON.stringify(report, null, 2)}\n`);
  } catch (error) {
    if (error instanceof UsageError || error instanceof EngineError || error instanceof IntentFileError) {
      process.stderr.write(`eval: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
