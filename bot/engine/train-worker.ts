/** Worker entry: trains a model off the main thread and posts the model file's bytes back. */
import { parentPort, workerData } from 'node:worker_threads';
import type { LabelledPhrase } from '../classifier.js';
import { EngineError } from './errors.js';
import { trainModel, type TrainOptions } from './train.js';

export interface TrainRequest {
  phrases: LabelledPhrase[];
  options: TrainOptions;
}

export type TrainReply =
  | { ok: true; bytes: Uint8Array; trainMs: number }
  | { ok: false; code: string | null; message: string };

const port = parentPort;
if (port) {
  const request = workerData as TrainRequest;
  try {
    const model = trainModel(request.phrases, request.options);
    const bytes = new Uint8Array(model.serialize());
    port.postMessage({ ok: true, bytes, trainMs: model.metrics.trainMs } satisfies TrainReply, [bytes.buffer]);
  } catch (error) {
    const code = error instanceof EngineError ? error.code : null;
    const message = error instanceof EngineError ? error.message.slice(error.code.length + 2) : String((error as Error)?.message ?? error);
    port.postMessage({ ok: false, code, message } satisfies TrainReply);
  }
}
