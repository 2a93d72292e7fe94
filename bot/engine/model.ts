import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { IntentClassifier, RejectThresholds, ScoredIntent } from '../classifier.js';
import { languageSchema, type Language } from '../language.js';
import { calibrateInto, type Calibration } from './calibration.js';
import { EngineError } from './errors.js';
import { FeatureSpace, type FeatureConfig } from './features.js';
import { scoreInto, type LinearModel } from './linear-svm.js';
import { normaliseText } from './text.js';

export const ENGINE_NAME = 'tfidf-ovr-svm';
export const FORMAT_VERSION = 1;
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

const headerSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  engine: z.literal(ENGINE_NAME),
  intentsHash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  languages: z.array(languageSchema),
  seed: z.number().int(),
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
});
export type ModelHeader = z.infer<typeof headerSchema>;

/** What a model says about itself (the header without the layout fields). */
export type ModelDescription = Omit<ModelHeader, 'dimension' | 'wordCount' | 'vocabularyBytes' | 'maxIdf' | 'formatVersion' | 'engine'>;

/** Everything a trained model holds; what the file stores. */
export interface ModelParts {
  header: ModelDescription;
  space: FeatureSpace;
  linear: LinearModel;
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
 *   | bias f32[classes] | SHA-256 of every preceding byte (32 bytes).
 */
export function serializeModel(parts: ModelParts): Buffer {
  const { space, linear } = parts;
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
  const floats = (array: Float32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
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
  ]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export interface LoadOptions {
  /** When given, a model trained on other data is refused with MODEL_STALE. */
  expectedIntentsHash?: string;
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
  if (version !== FORMAT_VERSION) {
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
  const K = header.classes.length;
  const D = header.dimension;
  let at = headerStart + headerLength;
  const vocabularyText = buffer.subarray(at, at + header.vocabularyBytes).toString('utf8');
  at += header.vocabularyBytes;
  at += pad4(at);
  const expectedEnd = at + 4 * (D + D * K + K);
  if (expectedEnd !== body.length) throw new EngineError('MODEL_CORRUPT', `model payload has ${body.length - at} bytes, expected ${expectedEnd - at}`);
  const vocabulary = D === 0 ? [] : vocabularyText.split('\n');
  if (vocabulary.length !== D) throw new EngineError('MODEL_CORRUPT', `vocabulary has ${vocabulary.length} terms, header says ${D}`);
  const idf = alignedFloats(buffer, at, D);
  at += 4 * D;
  const weights = alignedFloats(buffer, at, D * K);
  at += 4 * D * K;
  const bias = alignedFloats(buffer, at, K);
  const space = new FeatureSpace({
    config: header.features as FeatureConfig,
    vocabulary,
    wordCount: header.wordCount,
    idf,
    maxIdfWord: header.maxIdf,
    maxIdfChar: header.maxIdf,
  });
  return { header, space, linear: { classes: K, dimension: D, weights, bias } };
}

/** The in-process classifier over a trained or loaded model. */
export class EngineClassifier implements IntentClassifier {
  readonly thresholds: RejectThresholds;
  readonly version: string;
  private readonly margins: Float64Array;
  private readonly probabilities: Float64Array;

  private readonly classes: readonly string[];
  private readonly calibration: Calibration;

  constructor(
    private readonly space: FeatureSpace,
    private readonly linear: LinearModel,
    /** Training facts: intents hash, classes, seed, validation metrics, thresholds. */
    readonly info: ModelDescription,
    modelDigest: string,
  ) {
    this.classes = info.classes;
    this.calibration = { scale: info.softmaxScale, noneLogit: info.noneLogit };
    this.thresholds = { minConfidence: info.thresholds.minConfidence, minMargin: info.thresholds.minMargin };
    const hash = info.intentsHash.slice('sha256:'.length, 'sha256:'.length + 12);
    this.version = `${ENGINE_NAME}@${FORMAT_VERSION}:${hash}:${modelDigest.slice(0, 12)}`;
    this.margins = new Float64Array(info.classes.length);
    this.probabilities = new Float64Array(info.classes.length);
  }

  /** Raw SVM margins (one per class, in class order), or null when the text has no known feature. */
  margin(text: string, language: Language): Float64Array | null {
    const vector = this.space.vectorize(text, language);
    if (vector.indices.length === 0) return null;
    scoreInto(this.linear, vector.indices, vector.values, this.margins);
    return this.margins;
  }

  classify(text: string, language: Language): ScoredIntent[] {
    if (normaliseText(text).length === 0) return [];
    const K = this.classes.length;
    const margins = this.margin(text, language);
    if (margins === null) {
      // Nothing known in the text: no evidence for any intent.
      return this.classes.map((intent) => ({ intent, confidence: 1 / K }));
    }
    calibrateInto(margins, this.calibration, this.probabilities);
    const result: ScoredIntent[] = new Array(K);
    for (let k = 0; k < K; k++) result[k] = { intent: this.classes[k] as string, confidence: this.probabilities[k] as number };
    result.sort((a, b) => b.confidence - a.confidence || (a.intent < b.intent ? -1 : 1));
    return result;
  }
}
