import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LabelledPhrase } from '../classifier.js';
import { EngineError, type EngineErrorCode } from './errors.js';
import type { TrainOptions } from './train.js';
import type { TrainReply, TrainRequest } from './train-worker.js';

export interface WorkerTrainOptions extends TrainOptions {
  /** Worker script to run; defaults to the compiled `train-worker.js` next to this module. */
  workerEntry?: URL | string;
}

/** The compiled worker entry beside this module, or null when running from TypeScript sources. */
export function defaultWorkerEntry(): URL | null {
  const entry = new URL('./train-worker.js', import.meta.url);
  return existsSync(fileURLToPath(entry)) ? entry : null;
}

/**
 * Trains in a worker_thread so the event loop stays free; resolves with the model file's bytes.
 * Needs the compiled output (`tsc -p tsconfig.build.json`, then import from dist/) or `workerEntry`.
 */
export function trainInWorker(phrases: readonly LabelledPhrase[], options: WorkerTrainOptions = {}): Promise<Buffer> {
  const { workerEntry, ...trainOptions } = options;
  const entry = workerEntry ?? defaultWorkerEntry();
  if (entry === null) {
    return Promise.reject(
      new EngineError('WORKER_UNAVAILABLE', 'no compiled train-worker.js beside the engine: build with `tsc -p tsconfig.build.json` and run from dist/, or pass workerEntry'),
    );
  }
  const request: TrainRequest = { phrases: phrases.map((p) => ({ text: p.text, intent: p.intent, language: p.language })), options: trainOptions };
  return new Promise<Buffer>((resolve, reject) => {
    const worker = new Worker(entry, { workerData: request });
    let settled = false;
    worker.once('message', (reply: TrainReply) => {
      settled = true;
      if (reply.ok) resolve(Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength));
      else reject(new EngineError((reply.code as EngineErrorCode | null) ?? 'WORKER_FAILED', reply.message));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (settled) return;
      settled = true;
      reject(new EngineError('WORKER_FAILED', `training worker crashed: ${error.message}`));
    });
    worker.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(new EngineError('WORKER_FAILED', `training worker exited with code ${code} before answering`));
    });
  });
}
