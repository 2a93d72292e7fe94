/** Stable codes for every failure the engine reports. */
export type EngineErrorCode =
  | 'MODEL_CORRUPT'
  | 'MODEL_FORMAT'
  | 'MODEL_STALE'
  | 'MODEL_NOT_FOUND'
  | 'TRAINING_DATA_INVALID'
  | 'WORKER_UNAVAILABLE'
  | 'WORKER_FAILED'
  | 'DATASET_INVALID';

/** An expected engine failure: a stable `code` and a sentence a person can act on. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'EngineError';
  }
}
