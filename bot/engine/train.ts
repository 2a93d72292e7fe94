import { createHash } from 'node:crypto';
import type { LabelledPhrase } from '../classifier.js';
import { languageSchema, type Language } from '../language.js';
import { calibrateInto, fitCalibration, type Calibration } from './calibration.js';
import { EngineError } from './errors.js';
import { DEFAULT_FEATURES, FeatureSpace, toSparseMatrix, type FeatureConfig, type SparseVector, type VectorFacts } from './features.js';
import { intentsHash } from './intents-hash.js';
import { DEFAULT_SVM, scoreInto, trainOneVsRestSvm, type LinearModel, type SvmOptions } from './linear-svm.js';
import { OOS } from './metrics.js';
import { EngineClassifier, serializeModel, type ModelDescription, type NeighbourSettings, type RejectorSettings, type ValidationMetrics } from './model.js';
import { buildNeighbourIndex, NEIGHBOUR_CANDIDATES, NeighbourScorer, topCandidates, type NeighbourIndex } from './neighbours.js';
import { createRandom, hashString, shuffleInPlace } from './random.js';
import {
  applyRejector,
  argmax,
  buildIntentCounts,
  fitRejector,
  REJECTOR_L2,
  REJECTOR_SIGNAL_COUNT,
  REJECTOR_SIGNALS,
  rejectorProbability,
  rejectorSignals,
  signalContext,
  unigramMask,
  type IntentCounts,
  type RejectorWeights,
  type SignalContext,
} from './rejector.js';
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
  /**
   * Nearest-neighbour bonus weights tried on the validation messages (the best balanced objective
   * wins; ties go to the smaller weight). Default NEIGHBOUR_WEIGHTS; [0] turns the bonus off.
   */
  neighbourWeights?: readonly number[];
  /**
   * minConfidence is the lowest threshold that rejects this share of the validation out-of-scope
   * messages (default DEFAULT_TARGET_OOS_RECALL); null maximises (inScopeAccuracy + oosRecall) / 2 instead.
   */
  targetOosRecall?: number | null;
  /**
   * Learnt rejector (default true): a logistic regression over per-message signals, fitted on the
   * cross-validation rows (run in addition when validation data is given), decides the top
   * confidence; false keeps the calibrated confidence (the version 2 behaviour).
   */
  rejector?: boolean;
}

/**
 * The share of out-of-scope messages the bot must decline (the product's target). Among thresholds
 * that reach it on validation, the lowest answers the most in-scope messages.
 */
export const DEFAULT_TARGET_OOS_RECALL = 0.8;

/** Bumped whenever a change to training changes what a model decides for the same data and options. */
export const TRAINER_REVISION = 4;

/** Identifies how a model was fitted, so a model file from another trainer or other options is retrained. */
export function trainerFingerprint(options: TrainOptions = {}): string {
  const described = {
    seed: Math.trunc(options.seed ?? 1),
    validation: options.validation ? 'given' : 'cross-validation',
    folds: options.folds ?? 5,
    foldRuns: options.foldRuns ?? 2,
    heldOutIntentFraction: options.heldOutIntentFraction ?? 0.1,
    targetOosRecall: options.targetOosRecall === undefined ? DEFAULT_TARGET_OOS_RECALL : options.targetOosRecall,
    features: options.features ?? null,
    svm: options.svm ?? null,
    neighbourWeights: options.neighbourWeights ?? null,
    rejector: options.rejector ?? true,
  };
  return `r${TRAINER_REVISION} ${JSON.stringify(described)}`;
}

/** Weights of the nearest-neighbour bonus tried by default. */
export const NEIGHBOUR_WEIGHTS: readonly number[] = [0, 0.5, 1, 1.5, 2, 3];

export interface TrainingMetrics extends ValidationMetrics {
  /** Wall time of trainModel, in milliseconds (not stored in the model file: it would break determinism). */
  trainMs: number;
  classes: number;
  dimension: number;
  /** The learnt rejector's fitting rows (null: no rejector, the calibrated confidence decides). */
  rejector: { rows: number; positives: number; outOfScope: number } | null;
}

/** The rejector is fitted only with at least this many rows whose top intent is right, and as many that are not. */
export const REJECTOR_MIN_ROWS = 10;

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
  facts: VectorFacts;
  /** Class index in the full class list, or -1 for out-of-scope. */
  gold: number;
}

/** Scores rows with a (sub-)model whose class k is `subClasses[k]` of the full list; gold outside it counts as oos. */
interface ScoredRows {
  margins: Float64Array[];
  gold: number[];
  /** Per row: the candidate intents for the neighbour bonus and their best similarity. */
  candidates: Int32Array[];
  similarity: Float64Array[];
  /** Per row: the vector and facts, and the model context the rejector's signals are read with. */
  rows: Row[];
  contexts: SignalContext[];
  /** Per row: the cross-validation run that scored it (-1: given validation data). */
  runs: number[];
}

const emptyScored = (): ScoredRows => ({ margins: [], gold: [], candidates: [], similarity: [], rows: [], contexts: [], runs: [] });

function appendScored(to: ScoredRows, part: ScoredRows): void {
  to.margins.push(...part.margins);
  to.gold.push(...part.gold);
  to.candidates.push(...part.candidates);
  to.similarity.push(...part.similarity);
  to.rows.push(...part.rows);
  to.contexts.push(...part.contexts);
  to.runs.push(...part.runs);
}

function scoreRows(
  model: LinearModel,
  subClasses: readonly number[],
  rows: readonly Row[],
  forceOos: (row: Row) => boolean,
  scorer: NeighbourScorer,
  context: SignalContext,
  run = -1,
): ScoredRows {
  const position = new Map(subClasses.map((c, k) => [c, k]));
  const scored = emptyScored();
  for (const row of rows) {
    const out = new Float64Array(model.classes);
    const top = new Int32Array(Math.min(NEIGHBOUR_CANDIDATES, model.classes)).fill(-1);
    const similarity = new Float64Array(top.length);
    if (row.vector.indices.length > 0) {
      scoreInto(model, row.vector.indices, row.vector.values, out);
      topCandidates(out, top);
      scorer.load(row.vector);
      top.forEach((k, c) => (similarity[c] = k >= 0 ? scorer.best(k) : 0));
      scorer.clear(row.vector);
    }
    scored.margins.push(out);
    scored.candidates.push(top);
    scored.similarity.push(similarity);
    scored.rows.push(row);
    scored.contexts.push(context);
    scored.runs.push(run);
    const k = row.gold >= 0 && !forceOos(row) ? position.get(row.gold) : undefined;
    scored.gold.push(k ?? -1);
  }
  return scored;
}

/** The rows' vectors and their positions in `classes` (-1 for rows of other classes). */
function byClassPosition(rows: readonly Row[], classes: readonly number[]): { vectors: SparseVector[]; labels: number[] } {
  const position = new Map(classes.map((c, k) => [c, k]));
  return { vectors: rows.map((r) => r.vector), labels: rows.map((r) => position.get(r.gold) ?? -1) };
}

function neighbourIndexOf(rows: readonly Row[], classes: readonly number[], wordCount: number): NeighbourIndex {
  const { vectors, labels } = byClassPosition(rows, classes);
  return buildNeighbourIndex(vectors, labels, classes.length, wordCount);
}

function intentCountsOf(rows: readonly Row[], classes: readonly number[], wordCount: number): IntentCounts {
  const { vectors, labels } = byClassPosition(rows, classes);
  return buildIntentCounts(vectors, labels, classes.length, wordCount);
}

/** Logits of scored rows with neighbour bonus weight `weight` on their candidates. */
function logitsWith(scored: ScoredRows, weight: number): Float64Array[] {
  return scored.margins.map((m, i) => {
    const out = Float64Array.from(m);
    const top = scored.candidates[i] as Int32Array;
    const similarity = scored.similarity[i] as Float64Array;
    for (let c = 0; c < top.length; c++) if ((top[c] as number) >= 0) out[top[c] as number] = (out[top[c] as number] as number) + weight * (similarity[c] as number);
    return out;
  });
}

function toScoredValidation(p: Float64Array, g: number): ScoredValidation {
  // Top and runner-up (ties: the lower index first, as the classifier sorts).
  const best = new Int32Array(Math.min(2, p.length));
  topCandidates(p, best);
  const first = best[0] ?? -1;
  const second = best[1] ?? -1;
  return {
    oos: g < 0,
    top: first >= 0 ? (p[first] as number) : 0,
    second: second >= 0 ? (p[second] as number) : 0,
    topRight: g >= 0 && first === g,
    secondRight: g >= 0 && second === g,
  };
}

/** Calibration, thresholds and validation figures for one neighbour weight. */
function assess(scored: ScoredRows, weight: number, targetOosRecall: number | null) {
  const logits = logitsWith(scored, weight);
  const gold = scored.gold;
  const calibration = fitCalibration(logits, gold);
  const scoredValidation: ScoredValidation[] = [];
  let nll = 0;
  let closedRight = 0;
  logits.forEach((m, i) => {
    const p = new Float64Array(m.length);
    calibrateInto(m, calibration, p);
    const g = gold[i] as number;
    const row = toScoredValidation(p, g);
    if (g >= 0) {
      nll -= Math.log(Math.max(1e-12, p[g] as number));
      if (row.topRight) closedRight++;
    }
    scoredValidation.push(row);
  });
  const confidence = chooseMinConfidence(scoredValidation, targetOosRecall);
  const inScopeCount = gold.filter((g) => g >= 0).length;
  const objective =
    confidence.oosRecall === null ? (inScopeCount === 0 ? 0 : closedRight / inScopeCount) : (confidence.inScopeAccuracy + confidence.oosRecall) / 2;
  return { weight, logits, calibration, scoredValidation, nll, closedRight, confidence, objective };
}

/**
 * The rejector's signals of scored rows (rows without a known feature are skipped: the classifier
 * gives them a flat 1/K without asking the rejector), with the calibrated confidences they were read on.
 */
function signalsOf(scored: ScoredRows, logits: readonly Float64Array[], calibration: Calibration) {
  const out: { index: number; signals: Float64Array; probabilities: Float64Array }[] = [];
  scored.rows.forEach((row, i) => {
    if (row.vector.indices.length === 0) return;
    const l = logits[i] as Float64Array;
    const p = new Float64Array(l.length);
    calibrateInto(l, calibration, p);
    const signals = new Float64Array(REJECTOR_SIGNAL_COUNT);
    rejectorSignals(scored.contexts[i] as SignalContext, row.vector, row.facts, l, p, scored.candidates[i] as Int32Array, scored.similarity[i] as Float64Array, signals);
    out.push({ index: i, signals, probabilities: p });
  });
  return out;
}

/** Rows with at least REJECTOR_MIN_ROWS of each label. */
function enoughOfEach(labels: readonly number[]): boolean {
  const positives = labels.reduce<number>((sum, y) => sum + y, 0);
  return positives >= REJECTOR_MIN_ROWS && labels.length - positives >= REJECTOR_MIN_ROWS;
}

/**
 * The learnt rejector fitted on cross-validation rows (label: the top intent is right); null with
 * too few rows of either label. With `crossFit` (the same rows also choose the thresholds), `byRow`
 * gives each row a rejector fitted on the other runs' rows, so a threshold is never set on the
 * rejector's own training rows; otherwise it is empty and every row uses `weights`.
 */
function fitRejectorOnFolds(cv: ScoredRows, logits: readonly Float64Array[], calibration: Calibration, crossFit: boolean) {
  const fitRows = signalsOf(cv, logits, calibration);
  const labels = fitRows.map((r) => (argmax(r.probabilities) === (cv.gold[r.index] as number) ? 1 : 0));
  if (!enoughOfEach(labels)) return null;
  const weights = fitRejector(
    fitRows.map((r) => r.signals),
    labels,
    REJECTOR_L2,
  );
  const byRow = new Map<number, RejectorWeights>();
  const runOf = (r: (typeof fitRows)[number]) => cv.runs[r.index] as number;
  const runs = [...new Set(fitRows.map(runOf))].sort((a, b) => a - b);
  for (const run of crossFit && runs.length > 1 ? runs : []) {
    const others = fitRows.flatMap((r, i) => (runOf(r) !== run ? [i] : []));
    const ys = others.map((i) => labels[i] as number);
    if (!enoughOfEach(ys)) continue;
    const crossFitted = fitRejector(
      others.map((i) => (fitRows[i] as (typeof fitRows)[number]).signals),
      ys,
      REJECTOR_L2,
    );
    for (const r of fitRows) if (runOf(r) === run) byRow.set(r.index, crossFitted);
  }
  return {
    weights,
    byRow,
    rows: fitRows.length,
    positives: labels.reduce<number>((sum, y) => sum + y, 0),
    outOfScope: fitRows.filter((r) => (cv.gold[r.index] as number) < 0).length,
  };
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
  const targetOosRecall = options.targetOosRecall === undefined ? DEFAULT_TARGET_OOS_RECALL : options.targetOosRecall;
  if (targetOosRecall !== null && !(targetOosRecall > 0 && targetOosRecall <= 1)) {
    throw new EngineError('TRAINING_DATA_INVALID', `targetOosRecall must be in (0, 1] or null, got ${targetOosRecall}`);
  }
  const useRejector = options.rejector ?? true;
  const features: FeatureConfig = { ...DEFAULT_FEATURES, ...options.features };
  const svm: SvmOptions = { ...DEFAULT_SVM, ...options.svm, seed };
  const inScope = phrases.filter((p) => p.intent !== OOS && p.text.trim().length > 0);
  const outOfScope = phrases.filter((p) => p.intent === OOS);
  if (inScope.length === 0) throw new EngineError('TRAINING_DATA_INVALID', 'no in-scope training phrase (every phrase is empty or "oos")');
  const classNames = [...new Set(inScope.map((p) => p.intent))].sort();
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  const allClasses = classNames.map((_, i) => i);

  const space = FeatureSpace.fit(inScope, features);
  const W = space.data.wordCount;
  const unigram = unigramMask(space.data.vocabulary, W);
  const toRow = (p: LabelledPhrase, gold: number): Row => {
    const facts: VectorFacts = { chunks: 0, unknownUnigrams: 0 };
    return { vector: space.vectorize(p.text, p.language, facts), facts, gold };
  };
  const rows: Row[] = inScope.map((p) => toRow(p, classIndex.get(p.intent) as number));
  const linear = trainOn(rows, allClasses, space.dimension, svm);
  const neighbours = neighbourIndexOf(rows, allClasses, W);
  const normaliser = features.wordWeight > 0 ? features.wordWeight : 1;
  const counts = intentCountsOf(rows, allClasses, W);
  const finalContext = signalContext(linear, counts, space.data, null, unigram);

  // Cross-validation: a seeded tenth of the intents held out of each run stands in for out-of-scope.
  const crossValidate = (): ScoredRows => {
    const scored = emptyScored();
    const folds = Math.max(2, Math.trunc(options.folds ?? 5));
    const runs = Math.min(folds, Math.max(1, Math.trunc(options.foldRuns ?? 2)));
    const random = createRandom((seed ^ 0x5bd1e995) >>> 0);
    // A phrase's fold comes from a hash of its own text, so adding or removing phrases leaves every
    // other phrase in its fold: a candidate model with a few more phrases is validated on (nearly)
    // the same splits as the model in use, and its threshold does not move by chance.
    const fold = Int32Array.from(inScope, (p) => hashString(`${p.language}\u0000${p.text}`, seed) % folds);
    const intentOrder = [...allClasses];
    shuffleInPlace(intentOrder, random);
    const heldPerRun = classNames.length >= 3 ? Math.max(1, Math.round((options.heldOutIntentFraction ?? 0.1) * classNames.length)) : 0;
    const oosRows: Row[] = outOfScope.map((p) => toRow(p, -1));
    for (let run = 0; run < runs; run++) {
      const heldOut = new Set<number>();
      for (let j = 0; j < heldPerRun; j++) heldOut.add(intentOrder[(run * heldPerRun + j) % intentOrder.length] as number);
      const trainRows = rows.filter((r, i) => fold[i] !== run && !heldOut.has(r.gold));
      const subClasses = allClasses.filter((c) => !heldOut.has(c) && trainRows.some((r) => r.gold === c));
      if (subClasses.length === 0) continue;
      const subModel = trainOn(trainRows, subClasses, space.dimension, { ...svm, seed: seed + run + 1 });
      const subScorer = new NeighbourScorer(neighbourIndexOf(trainRows, subClasses, W), W, normaliser);
      // The vocabulary was fitted on every phrase: features absent from this fold's training rows
      // (the held-out intents' own words among them) count as unknown for the rejector's signals.
      let context = finalContext;
      if (useRejector) {
        const seen = new Uint8Array(space.dimension);
        for (const r of trainRows) for (const j of r.vector.indices) seen[j] = 1;
        context = signalContext(subModel, intentCountsOf(trainRows, subClasses, W), space.data, seen, unigram);
      }
      const evalRows = [...rows.filter((r, i) => fold[i] === run || heldOut.has(r.gold)), ...oosRows];
      appendScored(scored, scoreRows(subModel, subClasses, evalRows, (r) => heldOut.has(r.gold), subScorer, context, run));
    }
    return scored;
  };

  // Validation margins: from the final model on given validation data, or from fold models.
  let scored = emptyScored();
  let method: ValidationMetrics['method'] = 'none';
  let crossValidated: ScoredRows | null = null;
  if (options.validation && options.validation.length > 0) {
    method = 'given';
    const valRows: Row[] = options.validation
      .filter((p) => p.text.trim().length > 0)
      .map((p) => toRow(p, p.intent === OOS ? -1 : (classIndex.get(p.intent) ?? -1)));
    appendScored(scored, scoreRows(linear, allClasses, valRows, () => false, new NeighbourScorer(neighbours, W, normaliser), finalContext));
  } else {
    scored = crossValidate();
    crossValidated = scored;
    if (scored.margins.length > 0) method = 'cross-validation';
  }

  const gold = scored.gold;
  const inScopeIdx = gold.map((g, i) => (g >= 0 ? i : -1)).filter((i) => i >= 0);
  const weights = [...new Set((options.neighbourWeights ?? NEIGHBOUR_WEIGHTS).filter((w) => Number.isFinite(w) && w >= 0))];
  if (weights.length === 0) weights.push(0);
  const assessed = weights.map((w) => assess(scored, w, targetOosRecall));
  let chosen = assessed[0] as ReturnType<typeof assess>;
  for (const a of assessed) if (a.objective > chosen.objective + 1e-12 || (a.objective === chosen.objective && a.weight < chosen.weight)) chosen = a;
  const { calibration, nll, closedRight } = chosen;
  let { scoredValidation, confidence } = chosen;

  // The learnt rejector: fitted on cross-validation rows (held-out intents and oos lines as the
  // negatives, with the bonus weight chosen above and a calibration fitted on those rows), then it
  // replaces the top confidence of the validation messages and the thresholds are chosen on that.
  let rejector: RejectorSettings | null = null;
  if (useRejector && scored.margins.length > 0) {
    const cv = crossValidated ?? crossValidate();
    const sameRows = cv === scored;
    const cvLogits = sameRows ? chosen.logits : logitsWith(cv, chosen.weight);
    const fit = fitRejectorOnFolds(cv, cvLogits, sameRows ? calibration : fitCalibration(cvLogits, cv.gold), sameRows);
    if (fit !== null) {
      rejector = {
        target: 'top-intent-right',
        signals: [...REJECTOR_SIGNALS],
        l2: REJECTOR_L2,
        ...fit.weights,
        rows: fit.rows,
        positives: fit.positives,
        outOfScope: fit.outOfScope,
        countsNnz: counts.featureClass.length,
      };
      const K = classNames.length;
      const byIndex = new Map(signalsOf(scored, chosen.logits, calibration).map((r) => [r.index, r]));
      scoredValidation = scored.gold.map((g, i) => {
        const row = byIndex.get(i);
        if (row === undefined) return toScoredValidation(new Float64Array(K).fill(1 / K), g);
        const p = Float64Array.from(row.probabilities);
        applyRejector(p, argmax(p), rejectorProbability(fit.byRow.get(i) ?? fit.weights, row.signals));
        return toScoredValidation(p, g);
      });
      confidence = chooseMinConfidence(scoredValidation, targetOosRecall);
    }
  }
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
  // The rejector reads the neighbour similarities, so the index is kept with it even at weight 0.
  const useNeighbours = chosen.weight > 0 || rejector !== null;
  const neighbourSettings: NeighbourSettings | null = useNeighbours
    ? {
        weight: chosen.weight,
        candidates: NEIGHBOUR_CANDIDATES,
        normaliser,
        rows: neighbours.rowStart.length - 1,
        nnz: neighbours.indices.length,
        tried: assessed.map((a) => ({ weight: a.weight, objective: a.objective })),
      }
    : null;
  const languages = [...new Set(inScope.map((p) => p.language))].sort() as Language[];
  const header: TrainedModel['header'] = {
    intentsHash: intentsHash(phrases),
    languages,
    seed,
    trainer: trainerFingerprint(options),
    classes: classNames,
    trainingPhrases: inScope.length,
    features,
    svm: { C: svm.C, tolerance: svm.tolerance, maxEpochs: svm.maxEpochs, biasFeature: svm.biasFeature },
    softmaxScale: calibration.scale,
    noneLogit: calibration.noneLogit,
    thresholds: { minConfidence: confidence.minConfidence, minMargin, method: confidence.method },
    validation,
    neighbours: neighbourSettings,
    rejector,
  };
  const kept = useNeighbours ? neighbours : null;
  const keptCounts = rejector !== null ? counts : null;
  const bytes = serializeModel({ header, space, linear, neighbours: kept, counts: keptCounts });
  const digest = createHash('sha256').update(bytes).digest('hex');
  const classifier = new EngineClassifier(space, linear, header, digest, kept, undefined, keptCounts);
  const trainMs = performance.now() - started;
  return {
    classifier,
    header,
    metrics: {
      ...validation,
      trainMs,
      classes: classNames.length,
      dimension: space.dimension,
      rejector: rejector === null ? null : { rows: rejector.rows, positives: rejector.positives, outOfScope: rejector.outOfScope },
    },
    serialize: () => Buffer.from(bytes),
  };
}
