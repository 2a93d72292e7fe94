import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { IntentClassifier, RejectThresholds, ScoredIntent } from '../classifier.js';
import { languageSchema, type Language } from '../language.js';
import { calibrateInto, type Calibration } from './calibration.js';
import { EngineError } from './errors.js';
import { FeatureSpace, type FeatureConfig, type SparseVector, type VectorFacts } from './features.js';
import { scoreInto, type LinearModel } from './linear-svm.js';
import { NeighbourScorer, topCandidates, type NeighbourIndex } from './neighbours.js';
import {
  applyRejector,
  argmax,
  intentCountsProblem,
  REJECTOR_SIGNAL_COUNT,
  REJECTOR_SIGNALS,
  rejectorProbability,
  rejectorSignals,
  signalContext,
  type IntentCounts,
  type SignalContext,
} from './rejector.js';
import { normaliseText } from './text.js';

export const ENGINE_NAME = 'tfidf-ovr-svm';
/**
 * Version 2 adds the nearest-neighbour section, version 3 the learnt rejector (header.rejector and the
 * per-intent word counts section); version 1 and 2 files still load and score exactly as before.
 */
export const FORMAT_VERSION = 3;
const READABLE_VERSIONS: readonly number[] = [1, 2, 3];
/** First 8 bytes of every model file. */
const MAGIC = Buffer.from('INTENTM\u0001', 'latin1');

const validationMetricsSchema = z.object({
  method: z.enum(['given', 'cross-validation', 'none']),
  n: z.number().int().nonnegative(),
  accuracy: z.number().nullable(),
  inScopeAccuracy: z.number().nullable(),
  oosRecall: z.number().nullable(),
  oosCount: z.number().int().nonnegative(),
  negativeLogLikelihood: z.number().nullable(),
});
export type ValidationMetrics = z.infer<typeof validationMetricsSchema>;

const featureConfigSchema = z.object({
  wordNgrams: z.array(z.number().int().positive()),
  charMin: z.number().int().positive(),
  charMax: z.number().int().positive(),
  wordWeight: z.number(),
  charWeight: z.number(),
  minDf: z.number().int().positive(),
  unknownInNorm: z.boolean(),
});

const neighboursSchema = z.object({
  /** Bonus weight: logit of a candidate intent = margin + weight * best similarity to its phrases. */
  weight: z.number().nonnegative(),
  /** How many of the best-margin intents get the bonus. */
  candidates: z.number().int().positive(),
  /** Length of a fully known word block (the similarity is divided by it). */
  normaliser: z.number().positive(),
  rows: z.number().int().nonnegative(),
  nnz: z.number().int().nonnegative(),
  /** Validation objective for every weight tried (the chosen one maximises it). */
  tried: z.array(z.object({ weight: z.number(), objective: z.number() })),
});
export type NeighbourSettings = z.infer<typeof neighboursSchema>;

const rejectorSchema = z.object({
  /** What the probability is of: the top intent is the right answer (in scope and correctly classified). */
  target: z.literal('top-intent-right'),
  /** Signal names, in the order of mean / scale / weights (REJECTOR_SIGNALS). */
  signals: z.array(z.string()),
  /** L2 penalty on the standardised weights. */
  l2: z.number().nonnegative(),
  /** Logistic regression: P = sigmoid(bias + sum_i weights_i (x_i - mean_i) / scale_i). */
  mean: z.array(z.number()),
  scale: z.array(z.number().positive()),
  weights: z.array(z.number()),
  bias: z.number(),
  /** Cross-validation rows it was fitted on: all, top intent right (positives), out-of-scope stand-ins. */
  rows: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
  outOfScope: z.number().int().nonnegative(),
  /** Entries of the per-intent word counts section. */
  countsNnz: z.number().int().nonnegative(),
});
export type RejectorSettings = z.infer<typeof rejectorSchema>;

const headerSchema = z.object({
  formatVersion: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  engine: z.literal(ENGINE_NAME),
  intentsHash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  languages: z.array(languageSchema),
  seed: z.number().int(),
  /** How the thresholds were fitted (trainerFingerprint); '' in files written before it was recorded. */
  trainer: z.string().default(''),
  classes: z.array(z.string()).min(1),
  trainingPhrases: z.number().int().nonnegative(),
  features: featureConfigSchema,
  svm: z.object({ C: z.number(), tolerance: z.number(), maxEpochs: z.number(), biasFeature: z.number() }),
  dimension: z.number().int().nonnegative(),
  wordCount: z.number().int().nonnegative(),
  vocabularyBytes: z.number().int().nonnegative(),
  maxIdf: z.number(),
  softmaxScale: z.number().positive(),
  noneLogit: z.number().nullable(),
  thresholds: z.object({ minConfidence: z.number().min(0).max(1), minMargin: z.number().min(0).max(1), method: z.string() }),
  validation: validationMetricsSchema,
  /** Absent in version 1 files. */
  neighbours: neighboursSchema.nullable().default(null),
  /** Absent before version 3; null when training kept no rejector (too few cross-validation rows, or turned off). */
  rejector: rejectorSchema.nullable().default(null),
});
export type ModelHeader = z.infer<typeof headerSchema>;

/** What a model says about itself (the header without the layout fields). */
export type ModelDescription = Omit<ModelHeader, 'dimension' | 'wordCount' | 'vocabularyBytes' | 'maxIdf' | 'formatVersion' | 'engine'>;

/** Everything a trained model holds; what the file stores. */
export interface ModelParts {
  header: ModelDescription;
  space: FeatureSpace;
  linear: LinearModel;
  /** Training vectors by class, for the nearest-neighbour bonus (null: no bonus). */
  neighbours: NeighbourIndex | null;
  /** Per-intent word counts for the rejector's signals (null: no rejector). */
  counts: IntentCounts | null;
}

function alignedInts(bytes: Buffer, offset: number, count: number): Int32Array {
  const copy = new Int32Array(count);
  new Uint8Array(copy.buffer).set(bytes.subarray(offset, offset + count * 4));
  return copy;
}

function alignedFloats(bytes: Buffer, offset: number, count: number): Float32Array {
  const copy = new Float32Array(count);
  new Uint8Array(copy.buffer).set(bytes.subarray(offset, offset + count * 4));
  return copy;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/**
 * Binary layout (little-endian floats):
 *   8 bytes magic | u32 header length | header JSON (UTF-8) | vocabulary (terms joined by "\n", UTF-8)
 *   | zero padding to 4 bytes | idf f32[dimension] | weights f32[dimension * classes] (feature-major)
 *   | bias f32[classes]
 *   | (version 2, when header.neighbours is set) class row starts i32[classes + 1] | row starts i32[rows + 1]
 *     | indices i32[nnz] | values f32[nnz]
 *   | (version 3, when header.rejector is set) phrases per class i32[classes] | word feature starts
 *     i32[wordCount + 1] | class i32[countsNnz] | count i32[countsNnz]
 *   | SHA-256 of every preceding byte (32 bytes).
 */
export function serializeModel(parts: ModelParts): Buffer {
  const { space, linear, neighbours, counts } = parts;
  const vocabulary = Buffer.from(space.data.vocabulary.join('\n'), 'utf8');
  const header: ModelHeader = {
    formatVersion: FORMAT_VERSION,
    engine: ENGINE_NAME,
    ...parts.header,
    dimension: space.dimension,
    wordCount: space.data.wordCount,
    vocabularyBytes: vocabulary.length,
    maxIdf: space.data.maxIdfWord,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const floats = (array: Float32Array | Int32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const neighbourSection = neighbours === null || header.neighbours === null ? [] : [floats(neighbours.classStart), floats(neighbours.rowStart), floats(neighbours.indices), floats(neighbours.values)];
  const countsSection =
    counts === null || header.rejector === null ? [] : [floats(counts.classPhrases), floats(counts.featureStart), floats(counts.featureClass), floats(counts.featureCount)];
  const prefixLength = MAGIC.length + 4 + headerBytes.length + vocabulary.length;
  const body = Buffer.concat([
    MAGIC,
    length,
    headerBytes,
    vocabulary,
    Buffer.alloc(pad4(prefixLength)),
    floats(space.data.idf),
    floats(linear.weights),
    floats(linear.bias),
    ...neighbourSection,
    ...countsSection,
  ]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export interface LoadOptions {
  /** When given, a model trained on other data is refused with MODEL_STALE. */
  expectedIntentsHash?: string;
  /** When given, a model fitted by another trainer revision or other training options is refused with MODEL_STALE. */
  expectedTrainer?: string;
}

/** Parses and checks a model file's bytes; throws EngineError MODEL_CORRUPT / MODEL_FORMAT / MODEL_STALE. */
export function deserializeModel(bytes: Buffer | Uint8Array, options: LoadOptions = {}): ModelParts & { header: ModelHeader } {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < MAGIC.length + 4 + 32 || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new EngineError('MODEL_CORRUPT', 'not an intent model file (bad magic bytes or truncated)');
  }
  const headerLength = buffer.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  if (headerStart + headerLength + 32 > buffer.length) throw new EngineError('MODEL_CORRUPT', 'model file is truncated (header runs past the end)');
  let raw: unknown;
  try {
    raw = JSON.parse(buffer.subarray(headerStart, headerStart + headerLength).toString('utf8'));
  } catch {
    throw new EngineError('MODEL_CORRUPT', 'model header is not valid JSON');
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version !== 'number' || !READABLE_VERSIONS.includes(version)) {
    throw new EngineError('MODEL_FORMAT', `model format version ${JSON.stringify(version)} is not supported (this build reads version ${FORMAT_VERSION}); retrain the model`);
  }
  const engine = (raw as { engine?: unknown }).engine;
  if (engine !== ENGINE_NAME) throw new EngineError('MODEL_FORMAT', `model engine ${JSON.stringify(engine)} is not "${ENGINE_NAME}"`);
  const body = buffer.subarray(0, buffer.length - 32);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(buffer.subarray(buffer.length - 32))) throw new EngineError('MODEL_CORRUPT', 'model file checksum does not match its content (file damaged or edited)');
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) throw new EngineError('MODEL_CORRUPT', `model header is invalid: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  const header = parsed.data;
  if (options.expectedIntentsHash !== undefined && options.expectedIntentsHash !== header.intentsHash) {
    throw new EngineError('MODEL_STALE', `model was trained on other intents (model ${header.intentsHash}, expected ${options.expectedIntentsHash}); retrain it`);
  }
  if (options.expectedTrainer !== undefined && options.expectedTrainer !== header.trainer) {
    throw new EngineError('MODEL_STALE', `model was fitted by another trainer (model "${header.trainer}", expected "${options.expectedTrainer}"); retrain it`);
  }
  const K = header.classes.length;
  const D = header.dimension;
  let at = headerStart + headerLength;
  const vocabularyText = buffer.subarray(at, at + header.vocabularyBytes).toString('utf8');
  at += header.vocabularyBytes;
  at += pad4(at);
  const nb = header.formatVersion >= 2 ? header.neighbours : null;
  const rj = header.formatVersion >= 3 ? header.rejector : null;
  const neighbourWords = nb === null ? 0 : K + 1 + nb.rows + 1 + 2 * nb.nnz;
  const countWords = rj === null ? 0 : K + header.wordCount + 1 + 2 * rj.countsNnz;
  const expectedEnd = at + 4 * (D + D * K + K + neighbourWords + countWords);
  if (expectedEnd !== body.length) throw new EngineError('MODEL_CORRUPT', `model payload has ${body.length - at} bytes, expected ${expectedEnd - at}`);
  const vocabulary = D === 0 ? [] : vocabularyText.split('\n');
  if (vocabulary.length !== D) throw new EngineError('MODEL_CORRUPT', `vocabulary has ${vocabulary.length} terms, header says ${D}`);
  const idf = alignedFloats(buffer, at, D);
  at += 4 * D;
  const weights = alignedFloats(buffer, at, D * K);
  at += 4 * D * K;
  const bias = alignedFloats(buffer, at, K);
  at += 4 * K;
  let neighbours: NeighbourIndex | null = null;
  if (nb !== null) {
    const classStart = alignedInts(buffer, at, K + 1);
    at += 4 * (K + 1);
    const rowStart = alignedInts(buffer, at, nb.rows + 1);
    at += 4 * (nb.rows + 1);
    const indices = alignedInts(buffer, at, nb.nnz);
    at += 4 * nb.nnz;
    const values = alignedFloats(buffer, at, nb.nnz);
    if (classStart[K] !== nb.rows || rowStart[nb.rows] !== nb.nnz || indices.some((i) => i < 0 || i >= D)) {
      throw new EngineError('MODEL_CORRUPT', 'neighbour section is inconsistent with the header');
    }
    at += 4 * nb.nnz;
    neighbours = { classes: K, classStart, rowStart, indices, values };
  }
  let counts: IntentCounts | null = null;
  if (rj !== null) {
    const n = REJECTOR_SIGNAL_COUNT;
    if (rj.signals.join(',') !== REJECTOR_SIGNALS.join(',') || rj.mean.length !== n || rj.scale.length !== n || rj.weights.length !== n || nb === null) {
      throw new EngineError('MODEL_CORRUPT', 'rejector settings are inconsistent with this build or with the neighbour section');
    }
    const W = header.wordCount;
    const classPhrases = alignedInts(buffer, at, K);
    at += 4 * K;
    const featureStart = alignedInts(buffer, at, W + 1);
    at += 4 * (W + 1);
    const featureClass = alignedInts(buffer, at, rj.countsNnz);
    at += 4 * rj.countsNnz;
    const featureCount = alignedInts(buffer, at, rj.countsNnz);
    counts = { classes: K, classPhrases, featureStart, featureClass, featureCount };
    const problem = intentCountsProblem(counts, W);
    if (problem !== null) throw new EngineError('MODEL_CORRUPT', `intent counts section is inconsistent with the header (${problem})`);
  }
  const space = new FeatureSpace({
    config: header.features as FeatureConfig,
    vocabulary,
    wordCount: header.wordCount,
    idf,
    maxIdfWord: header.maxIdf,
    maxIdfChar: header.maxIdf,
  });
  return { header: { ...header, neighbours: nb, rejector: rj }, space, linear: { classes: K, dimension: D, weights, bias }, neighbours, counts };
}

/** The in-process classifier over a trained or loaded model. */
export class EngineClassifier implements IntentClassifier {
  readonly thresholds: RejectThresholds;
  readonly version: string;
  private readonly margins: Float64Array;
  private readonly probabilities: Float64Array;

  private readonly logits: Float64Array;
  private readonly classes: readonly string[];
  private readonly calibration: Calibration;
  private readonly scorer: NeighbourScorer | null;
  private readonly candidates: Int32Array;
  private readonly similarity: Float64Array;
  private readonly neighbourWeight: number;
  private readonly rejector: { settings: RejectorSettings; context: SignalContext; signals: Float64Array } | null;
  private readonly facts: VectorFacts = { chunks: 0, unknownUnigrams: 0 };

  constructor(
    private readonly space: FeatureSpace,
    private readonly linear: LinearModel,
    /** Training facts: intents hash, classes, seed, validation metrics, thresholds. */
    readonly info: ModelDescription,
    modelDigest: string,
    neighbours: NeighbourIndex | null = null,
    /** Layout version of the file the model came from (loaded version 1 files report 1). */
    fileFormatVersion: number = FORMAT_VERSION,
    /** Per-intent word counts for the learnt rejector (version 3; null: no rejector). */
    counts: IntentCounts | null = null,
  ) {
    this.classes = info.classes;
    this.calibration = { scale: info.softmaxScale, noneLogit: info.noneLogit };
    this.thresholds = { minConfidence: info.thresholds.minConfidence, minMargin: info.thresholds.minMargin };
    const hash = info.intentsHash.slice('sha256:'.length, 'sha256:'.length + 12);
    const settings = info.neighbours ?? null;
    const rejector = info.rejector ?? null;
    this.version = `${ENGINE_NAME}@${fileFormatVersion}:${hash}:${modelDigest.slice(0, 12)}`;
    this.margins = new Float64Array(info.classes.length);
    this.logits = new Float64Array(info.classes.length);
    this.probabilities = new Float64Array(info.classes.length);
    const useRejector = rejector !== null && counts !== null && neighbours !== null && settings !== null;
    this.neighbourWeight = settings !== null && neighbours !== null ? settings.weight : 0;
    // The neighbour similarities feed the bonus (weight > 0) and the rejector's signals.
    this.scorer =
      settings !== null && neighbours !== null && (settings.weight > 0 || useRejector) ? new NeighbourScorer(neighbours, space.data.wordCount, settings.normaliser) : null;
    this.candidates = new Int32Array(Math.min(settings?.candidates ?? 1, info.classes.length));
    this.similarity = new Float64Array(this.candidates.length);
    this.rejector = useRejector
      ? {
          settings: rejector,
          context: signalContext(linear, counts, space.data, null),
          signals: new Float64Array(REJECTOR_SIGNAL_COUNT),
        }
      : null;
  }

  /**
   * Logits before calibration: SVM margins, plus (version 2 models) weight x best similarity to the
   * training phrases of each of the few best-margin intents. Null when the vector has no known feature.
   */
  private logitsOf(vector: SparseVector): Float64Array | null {
    if (vector.indices.length === 0) return null;
    scoreInto(this.linear, vector.indices, vector.values, this.margins);
    this.logits.set(this.margins);
    const scorer = this.scorer;
    if (scorer !== null) {
      topCandidates(this.margins, this.candidates);
      scorer.load(vector);
      for (let c = 0; c < this.candidates.length; c++) {
        const k = this.candidates[c] as number;
        const similarity = k >= 0 ? scorer.best(k) : 0;
        this.similarity[c] = similarity;
        if (k >= 0) this.logits[k] = (this.logits[k] as number) + this.neighbourWeight * similarity;
      }
      scorer.clear(vector);
    }
    return this.logits;
  }

  /**
   * The rejector's probability that the top intent is right for `vector`, read from the logits,
   * similarities and facts its classification just filled (after calibrateInto); null without a rejector.
   */
  private inScopeProbability(vector: SparseVector): number | null {
    const rejector = this.rejector;
    if (rejector === null) return null;
    rejectorSignals(rejector.context, vector, this.facts, this.logits, this.probabilities, this.candidates, this.similarity, rejector.signals);
    return rejectorProbability(rejector.settings, rejector.signals);
  }

  classify(text: string, language: Language, limit?: number): ScoredIntent[] {
    if (normaliseText(text).length === 0) return [];
    const K = this.classes.length;
    const vector = this.space.vectorize(text, language, this.facts);
    const margins = this.logitsOf(vector);
    if (margins === null) {
      // Nothing known in the text: no evidence for any intent.
      const all = this.classes.map((intent) => ({ intent, confidence: 1 / K }));
      return limit !== undefined && limit < K ? all.slice(0, Math.max(0, limit)) : all;
    }
    calibrateInto(margins, this.calibration, this.probabilities);
    const q = this.inScopeProbability(vector);
    if (q !== null) applyRejector(this.probabilities, argmax(this.probabilities), q);
    if (limit !== undefined && limit < K) return this.best(Math.max(0, Math.floor(limit)));
    const result: ScoredIntent[] = new Array(K);
    for (let k = 0; k < K; k++) result[k] = { intent: this.classes[k] as string, confidence: this.probabilities[k] as number };
    result.sort((a, b) => b.confidence - a.confidence || (a.intent < b.intent ? -1 : 1));
    return result;
  }

  /**
   * The first `n` of what the full sort gives (higher confidence first, ties by intent id), found in
   * one pass instead of sorting every class: the bot reads only its top three guesses.
   */
  private best(n: number): ScoredIntent[] {
    const p = this.probabilities;
    const classes = this.classes;
    // The full sort's comparator, as "i sorts before j".
    const ahead = (i: number, j: number) => ((p[j] as number) - (p[i] as number) || ((classes[i] as string) < (classes[j] as string) ? -1 : 1)) < 0;
    const top: number[] = [];
    for (let k = 0; k < classes.length; k++) {
      if (top.length === n && !ahead(k, top[n - 1] as number)) continue;
      let at = top.length === n ? n - 1 : top.length;
      while (at > 0 && ahead(k, top[at - 1] as number)) {
        top[at] = top[at - 1] as number;
        at--;
      }
      top[at] = k;
    }
    return top.map((k) => ({ intent: classes[k] as string, confidence: p[k] as number }));
  }
}
