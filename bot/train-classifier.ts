import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IntentClassifier, LabelledPhrase } from './classifier.js';
import { EngineError, intentsHash, loadModel, trainerFingerprint, trainInWorker, trainModel } from './engine/index.js';

export const SHIPPED_MODEL_SEED = 1;
/**
 * How the shipped (and every tuned) model is trained: all five cross-validation folds choose the
 * thresholds, so a few added phrases do not move them by chance and candidate models compare fairly.
 */
export const SHIPPED_TRAINING = { seed: SHIPPED_MODEL_SEED, foldRuns: 5 } as const;

export interface ShippedModelOptions {
  /** Where the model file lives; a missing, stale or broken file is rebuilt there. */
  modelFile?: string;
  log?: (message: string) => void;
}

/**
 * Trains the shipped engine off the event loop (a worker thread). Running from TypeScript
 * sources (the tests) there is no compiled worker, so training runs in-process there.
 */
export async function trainShippedModel(phrases: readonly LabelledPhrase[]): Promise<Buffer> {
  try {
    return await trainInWorker(phrases, SHIPPED_TRAINING);
  } catch (error) {
    if (error instanceof EngineError && error.code === 'WORKER_UNAVAILABLE') return trainModel(phrases, SHIPPED_TRAINING).serialize();
    throw error;
  }
}

/**
 * The classifier the bot ships with: the model file when it matches these phrases (its intents
 * hash), otherwise a fresh training, written back to the model file for the next start.
 */
export async function trainClassifier(phrases: readonly LabelledPhrase[], options: ShippedModelOptions = {}): Promise<{ classifier: IntentClassifier; bytes: Buffer }> {
  const expectedIntentsHash = intentsHash(phrases);
  if (options.modelFile) {
    try {
      const bytes = await readFile(options.modelFile);
      return { classifier: loadModel(bytes, { expectedIntentsHash, expectedTrainer: trainerFingerprint(SHIPPED_TRAINING) }), bytes };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        options.log?.(`no trained model at ${options.modelFile} yet; training one (a few seconds, in a worker thread)`);
        return trainAndSave(phrases, expectedIntentsHash, options);
      }
      if (!(error instanceof EngineError)) throw error;
      options.log?.(`model file not used (${error.message}); training a new one`);
    }
  }
  return trainAndSave(phrases, expectedIntentsHash, options);
}

async function trainAndSave(phrases: readonly LabelledPhrase[], expectedIntentsHash: string, options: ShippedModelOptions): Promise<{ classifier: IntentClassifier; bytes: Buffer }> {
  const bytes = await trainShippedModel(phrases);
  if (options.modelFile) {
    await mkdir(path.dirname(options.modelFile), { recursive: true });
    // Written aside and renamed, so another process never reads half a file.
    const partial = `${options.modelFile}.${process.pid}.tmp`;
    await writeFile(partial, bytes);
    await rename(partial, options.modelFile);
  }
  return { classifier: loadModel(bytes, { expectedIntentsHash }), bytes };
}
