/** Public API of the intent-classification engine (TF-IDF word + character n-grams, one-vs-rest linear SVM). */
export { trainModel, trainerFingerprint, TRAINER_REVISION, type TrainOptions, type TrainedModel, type TrainingMetrics } from './train.js';
export { trainInWorker, defaultWorkerEntry, type WorkerTrainOptions } from './worker.js';
export { loadModel, loadModelFile } from './load.js';
export { EngineClassifier, ENGINE_NAME, FORMAT_VERSION, type LoadOptions, type ModelDescription, type ValidationMetrics } from './model.js';
export { intentsHash } from './intents-hash.js';
export { EngineError, type EngineErrorCode } from './errors.js';
export { evaluateDecisions, percentile, OOS, type Decision, type EvaluationMetrics } from './metrics.js';
export { analyse, stemToken } from './text.js';
export { DEFAULT_FEATURES, type FeatureConfig } from './features.js';
export { evaluateClassifier, type TimedEvaluation } from './evaluate.js';
export { readJsonl, parseJsonl } from './dataset.js';
