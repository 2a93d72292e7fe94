import { createHash } from 'node:crypto';
import type { LabelledPhrase } from '../classifier.js';
import { languageSchema, type Language } from '../language.js';
import { calibrateInto, fitCalibration } from './calibration.js';
import { EngineError } from './errors.js';
import { DEFAULT_FEATURES, FeatureSpace, toSparseMatrix, type FeatureConfig, type SparseVector } from './features.js';
import { intentsHash } from './intents-hash.js';
import { DEFAULT_SVM, scoreInto, trainOneVsRestSvm, type LinearModel, type SvmOptions } from './linear-svm.js';
import { OOS } from './metrics.js';
import { EngineClassifier, serializeModel, type ModelDescription, type ValidationMetrics } from './model.js';
import { createRandom, shuffleInPlace } from './random.js';
import { chooseMinConfidence, chooseMinMargin, type ScoredValidation } from './thresholds.js';

export interface TrainOptions {
  /** Seeds every random choice (SVM visiting order, folds, held-out intents). Default 1. */
  seed?: number;
  /**
   * Validation phrases (intent "oos" marks out-of-scope messages) to fit the temperature and the
   * thresholds on. Without it they are fitted by cross-validation on the training phrases.
   */
  validation?: readonly LabelledPhrase[];
  /** Cross-validation: number of folds the training phrases are split into (default 5) ... */
  folds?: number;
  /** ... and how many of them are run (default 2, to keep training fast). */
  foldRuns?: number;
  /** Share of the intents held out of each fold's training to stand in for out-of-scope (default 0.1). */
  heldOutIntentFraction?: number;
  features?: Partial<FeatureConfig>;
  svm?: Partial<Omit<SvmOptions, 'seed'>>;
}

export interface TrainingMetrics extends ValidationMetrics {
  /** Wall time of trainModel, in milliseconds (not stored in the model file: it would break determinism). */
  trainMs: number;
  classes: number;
  dimension: number;
}

export interface TrainedModel {
  readonly classifier: EngineClassifier;
  readonly metrics: TrainingMetrics;
  readonly header: ModelDescription;
  /** The model file's bytes (deterministic for a given seed and data). */
  serialize(): Buffer;
}

function checkPhrases(phrases: readonly LabelledPhrase[], what: string): void {
  if (!Array.isArray(phrases)) throw new EngineError('TRAINING_DATA_INVALID', `${what} must be an array of phrases`);
  phrases.forEach((p, i) => {
    if (typeof p?.text !== 'string' || typeof p.intent !== 'string' || p.intent.length === 0 || !languageSchema.safeParse(p.language).success) {
      throw new EngineError('TRAINING_DATA_INVALID', `${what}[${i}] must have a text, an intent and a language (en or es)`);
    }
  });
}

interface Row {
  vector: SparseVector;
  /** Class index in the full class list, or -1 for out-of-scope. */
  gold: number;
}

/** Scores rows with a (sub-)model whose class k is `subClasses[k]` of the full list; gold outside it counts as oos. */
function scoreRows(
  model: LinearModel,
  subClasses: readonly number[],
  rows: readonly Row[],
  forceOos: (row: Row) => boolean,
): { margins: Float64Array[]; gold: number[] } {
  const position = new Map(subClasses.map((c, k) => [c, k]));
  const margins: Float64Array[] = [];
  const gold: number[] = [];
  for (const row of rows) {
    const out = new Float64Array(model.classes);
    if (row.vector.indices.length === 0) out.fill(0);
    else scoreInto(model, row.vector.indices, row.vector.values, out);
    margins.push(out);
    const k = row.gold >= 0 && !forceOos(row) ? position.get(row.gold) : undefined;
    gold.push(k ?? -1);
  }
  return { margins, gold };
}

function trainOn(rows: readonly Row[], classes: readonly number[], dimension: number, svm: SvmOptions): LinearModel {
  const position = new Map(classes.map((c, k) => [c, k]));
  const x = toSparseMatrix(
    rows.map((r) => r.vector),
    dimension,
  );
  const labels = Int32Array.from(rows.map((r) => position.get(r.gold) ?? -1));
  return trainOneVsRestSvm(x, labels, classes.length, svm);
}

/** Trains the engine: TF-IDF features, one-vs-rest linear SVM, temperature and thresholds from validation. */
export function trainModel(phrases: readonly LabelledPhrase[], options: TrainOptions = {}): TrainedModel {
  const started = performance.now();
  checkPhrases(phrases, 'phrases');
  if (options.validation) checkPhrases(options.validation, 'validation');
  const seed = Math.trunc(options.seed ?? 1);
  const features: FeatureConfig = { ...DEFAULT_FEATURES, ...options.features };
  const svm: SvmOptions = { ...DEFAULT_SVM, ...options.svm, seed };
  const inScope = phrases.filter((p) => p.intent !== OOS && p.text.trim().length > 0);
  const outOfScope = phrases.filter((p) => p.intent === OOS);
  if (inScope.length === 0) throw new EngineError('TRAINING_DATA_INVALID', 'no in-scope training phrase (every phrase is empty or "oos")');
  const classNames = [...new Set(inScope.map((p) => p.intent))].sort();
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  const allClasses = classNames.map((_, i) => i);

  const space = FeatureSpace.fit(inScope, features);
  const rows: Row[] = inScope.map((p) => ({ vector: space.vectorize(p.text, p.language), gold: classIndex.get(p.intent) as number }));
  const linear = trainOn(rows, allClasses, space.dimension, svm);

  // Validation margins: from the final model on given validation data, or from fold models.
  const margins: Float64Array[] = [];
  const gold: number[] = [];
  let method: ValidationMetrics['method'] = 'none';
  if (options.validation && options.validation.length > 0) {
    method = 'given';
    const valRows: Row[] = options.validation
      .filter((p) => p.text.trim().length > 0)
      .map((p) => ({ vector: space.vectorize(p.text, p.language), gold: p.intent === OOS ? -1 : (classIndex.get(p.intent) ?? -1) }));
    const scored = scoreRows(linear, allClasses, valRows, () => false);
    margins.push(...scored.margins);
    gold.push(...scored.gold);
  } else {
    const folds = Math.max(2, Math.trunc(options.folds ?? 5));
    const runs = Math.min(folds, Math.max(1, Math.trunc(options.foldRuns ?? 2)));
    const random = createRandom((seed ^ 0x5bd1e995) >>> 0);
    // Stratified folds: within each intent, phrases are shuffled and dealt round-robin.
    const fold = new Int32Array(rows.length);
    const byClass = new Map<number, number[]>();
    rows.forEach((r, i) => {
      const members = byClass.get(r.gold);
      if (members) members.push(i);
      else byClass.set(r.gold, [i]);
    });
    for (const c of allClasses) {
      const members = byClass.get(c) ?? [];
      shuffleInPlace(members, random);
      members.forEach((row, j) => (fold[row] = j % folds));
    }
    const intentOrder = [...allClasses];
    shuffleInPlace(intentOrder, random);
    const heldPerRun = classNames.length >= 3 ? Math.max(1, Math.round((options.heldOutIntentFraction ?? 0.1) * classNames.length)) : 0;
    const oosRows: Row[] = outOfScope.map((p) => ({ vector: space.vectorize(p.text, p.language), gold: -1 }));
    for (let run = 0; run < runs; run++) {
      const heldOut = new Set<number>();
      for (let j = 0; j < heldPerRun; j++) heldOut.add(intentOrder[(run * heldPerRun + j) % intentOrder.length] as number);
      const trainRows = rows.filter((r, i) => fold[i] !== run && !heldOut.has(r.gold));
      const subClasses = allClasses.filter((c) => !heldOut.has(c) && trainRows.some((r) => r.gold === c));
      if (subClasses.length === 0) continue;
      const subModel = trainOn(trainRows, subClasses, space.dimension, { ...svm, seed: seed + run + 1 });
      const evalRows = [...rows.filter((r, i) => fold[i] === run || heldOut.has(r.gold)), ...oosRows];
      const scored = scoreRows(subModel, subClasses, evalRows, (r) => heldOut.has(r.gold));
      margins.push(...scored.margins);
      gold.push(...scored.gold);
      method = 'cross-validation';
    }
  }

  const inScopeIdx = gold.map((g, i) => (g >= 0 ? i : -1)).filter((i) => i >= 0);
  const calibration = fitCalibration(margins, gold);
  const scoredValidation: ScoredValidation[] = [];
  let nll = 0;
  let closedRight = 0;
  margins.forEach((m, i) => {
    const p = new Float64Array(m.length);
    calibrateInto(m, calibration, p);
    let first = 0;
    let second = -1;
    for (let k = 1; k < p.length; k++) {
      if ((p[k] as number) > (p[first] as number)) {
        second = first;
        first = k;
      } else if (second < 0 || (p[k] as number) > (p[second] as number)) second = k;
    }
    const g = gold[i] as number;
    if (g >= 0) {
      nll -= Math.log(Math.max(1e-12, p[g] as number));
      if (first === g) closedRight++;
    }
    scoredValidation.push({
      oos: g < 0,
      top: p[first] as number,
      second: second >= 0 ? (p[second] as number) : 0,
      topRight: g >= 0 && first === g,
      secondRight: g >= 0 && second === g,
    });
  });
  const confidence = chooseMinConfidence(scoredValidation);
  const minMargin = chooseMinMargin(scoredValidation, confidence.minConfidence);
  const oosCount = scoredValidation.filter((r) => r.oos).length;
  const validation: ValidationMetrics = {
    method: scoredValidation.length === 0 ? 'none' : method,
    n: scoredValidation.length,
    accuracy: inScopeIdx.length === 0 ? null : closedRight / inScopeIdx.length,
    inScopeAccuracy: inScopeIdx.length === 0 ? null : confidence.inScopeAccuracy,
    oosRecall: confidence.oosRecall,
    oosCount,
    negativeLogLikelihood: inScopeIdx.length === 0 ? null : nll / inScopeIdx.length,
  };
  const languages = [...new Set(inScope.map((p) => p.language))].sort() as Language[];
  const header: TrainedModel['header'] = {
    intentsHash: intentsHash(phrases),
    languages,
    seed,
    classes: classNames,
    trainingPhrases: inScope.length,
    features,
    svm: { C: svm.C, tolerance: svm.tolerance, maxEpochs: svm.maxEpochs, biasFeature: svm.biasFeature },
    softmaxScale: calibration.scale,
    noneLogit: calibration.noneLogit,
    thresholds: { minConfidence: confidence.minConfidence, minMargin, method: confidence.method },
    validation,
  };
  const bytes = serializeModel({ header, space, linear });
  const digest = createHash('sha256').update(bytes).digest('hex');
  const classifier = new EngineClassifier(space, linear, header, digest);
  const trainMs = performance.now() - started;
  return {
    classifier,
    header,
    metrics: { ...validation, trainMs, classes: classNames.length, dimension: space.dimension },
    serialize: () => Buffer.from(bytes),
  };
}
