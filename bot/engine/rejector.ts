import { isUnigramTerm, type SparseVector, type VectorFacts } from './features.js';
import type { LinearModel } from './linear-svm.js';

/**
 * The learnt rejector: a small L2-regularised logistic regression over per-message signals that
 * estimates the probability that the top intent is the right answer (in scope and correctly
 * classified). It is fitted on the trainer's cross-validation rows, where a tenth of the intents is
 * held out of each fold and stands in for out-of-scope messages, so it learns what a confident but
 * wrong answer to a sibling intent looks like (words the predicted intent never uses, a runner-up
 * close behind, a weak nearest phrase) instead of relying on the top confidence alone.
 */

/** The signals, in the order the weights are stored. Higher index = later in the vector. */
export const REJECTOR_SIGNALS = [
  /** log of the calibrated top confidence. */
  'logTopConfidence',
  /** Largest logit (margin plus neighbour bonus). */
  'topLogit',
  /** Largest minus second largest logit. */
  'runnerUpGap',
  /** Best similarity to a training phrase of the top intent / of the other neighbour candidate. */
  'similarityTop',
  'similarityOther',
  /** Share of the word / character block's squared norm made of features seen in training. */
  'knownWordShare',
  'knownCharShare',
  /** log of the number of whitespace chunks. */
  'logLength',
  /** Entropy of the calibrated confidences, the "none" mass included. */
  'entropy',
  /** Squared word-block mass of (seen) features that no training phrase of the top intent has. */
  'unseenWordMass',
  /** The same, unigrams only. */
  'unseenUnigramMass',
  /** Largest idf of a unigram the top intent never uses / uses at most once (the largest idf when a unigram is unknown). */
  'maxIdfUnseenUnigram',
  'maxIdfRareUnigram',
  /**
   * Naive-Bayes surprise: over the message's unigrams, the largest log ratio of the word's document
   * frequency in all training phrases to that in the top intent's phrases (add-1 / add-0.1 smoothing).
   */
  'naiveBayesSurprise',
  'naiveBayesSurpriseSharp',
  /** Sum of the negative contributions w_jk x_j of the top intent, word block / character block. */
  'negativeWordEvidence',
  'negativeCharEvidence',
  /** Most negative word-block contribution. */
  'minWordContribution',
  /** 1 when a unigram of the message is unknown (never seen in training), else 0. */
  'unknownUnigram',
] as const;

export const REJECTOR_SIGNAL_COUNT = REJECTOR_SIGNALS.length;

/** L2 penalty on the standardised weights (the intercept is not penalised). Chosen on dev splits of the training file (docs/engine.md). */
export const REJECTOR_L2 = 10;

/**
 * Per-intent document counts of the word-block features: how many training phrases of class k
 * contain feature j. Feature-major CSR, classes ascending within a feature (binary-searchable).
 */
export interface IntentCounts {
  classes: number;
  /** Training phrases per class. */
  classPhrases: Int32Array;
  /** Entries of word feature j are featureStart[j] .. featureStart[j + 1] - 1. */
  featureStart: Int32Array;
  featureClass: Int32Array;
  featureCount: Int32Array;
}

/** Counts of the word block (features below `wordCount`) of labelled vectors; label -1 rows are skipped. */
export function buildIntentCounts(vectors: readonly SparseVector[], labels: ArrayLike<number>, classes: number, wordCount: number): IntentCounts {
  const dense = new Int32Array(wordCount * classes);
  const classPhrases = new Int32Array(classes);
  for (let r = 0; r < vectors.length; r++) {
    const k = labels[r] as number;
    if (k < 0 || k >= classes) continue;
    classPhrases[k] = (classPhrases[k] as number) + 1;
    const v = vectors[r] as SparseVector;
    for (let p = 0; p < v.indices.length; p++) {
      const j = v.indices[p] as number;
      if (j >= wordCount) break;
      dense[j * classes + k] = (dense[j * classes + k] as number) + 1;
    }
  }
  let nnz = 0;
  for (let i = 0; i < dense.length; i++) if ((dense[i] as number) > 0) nnz++;
  const featureStart = new Int32Array(wordCount + 1);
  const featureClass = new Int32Array(nnz);
  const featureCount = new Int32Array(nnz);
  let at = 0;
  for (let j = 0; j < wordCount; j++) {
    for (let k = 0; k < classes; k++) {
      const c = dense[j * classes + k] as number;
      if (c === 0) continue;
      featureClass[at] = k;
      featureCount[at] = c;
      at++;
    }
    featureStart[j + 1] = at;
  }
  return { classes, classPhrases, featureStart, featureClass, featureCount };
}

/** Checks the layout of counts read from a file; returns a problem or null. */
export function intentCountsProblem(counts: IntentCounts, wordCount: number): string | null {
  const { classes, classPhrases, featureStart, featureClass, featureCount } = counts;
  if (classPhrases.length !== classes || featureStart.length !== wordCount + 1 || featureStart[0] !== 0) return 'intent counts have the wrong size';
  if (featureStart[wordCount] !== featureClass.length || featureClass.length !== featureCount.length) return 'intent counts have the wrong size';
  for (let k = 0; k < classes; k++) if ((classPhrases[k] as number) < 0) return 'negative phrase count';
  for (let j = 0; j < wordCount; j++) {
    const from = featureStart[j] as number;
    const to = featureStart[j + 1] as number;
    if (to < from) return 'feature starts are not increasing';
    for (let p = from; p < to; p++) {
      const k = featureClass[p] as number;
      if (k < 0 || k >= classes || (p > from && k <= (featureClass[p - 1] as number))) return 'feature classes are out of range or unsorted';
      if ((featureCount[p] as number) < 1 || (featureCount[p] as number) > (classPhrases[k] as number)) return 'feature count out of range';
    }
  }
  return null;
}

/** Phrases of class k that contain word feature j. */
export function countOf(counts: IntentCounts, j: number, k: number): number {
  let lo = counts.featureStart[j] as number;
  let hi = (counts.featureStart[j + 1] as number) - 1;
  const classes = counts.featureClass;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = classes[mid] as number;
    if (c === k) return counts.featureCount[mid] as number;
    if (c < k) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** Everything signal extraction needs about the model that scored the message. */
export interface SignalContext {
  linear: LinearModel;
  counts: IntentCounts;
  /** Document frequency of each word feature over the counted phrases, and their number. */
  df: Int32Array;
  phrases: number;
  wordCount: number;
  /** 1 for word features that are stem unigrams. */
  unigram: Uint8Array;
  idf: Float32Array;
  maxIdfWord: number;
  wordWeight: number;
  charWeight: number;
  /**
   * Features that occur in the model's training rows, or null when all do (a final model). In a
   * cross-validation fold the vocabulary was fitted on all phrases, so the held-out intents' words
   * are in it; counted as known they would make out-of-scope stand-ins look familiar.
   */
  seen: Uint8Array | null;
}

export function signalContext(
  linear: LinearModel,
  counts: IntentCounts,
  space: { vocabulary: readonly string[]; wordCount: number; idf: Float32Array; maxIdfWord: number; config: { wordWeight: number; charWeight: number } },
  seen: Uint8Array | null,
  unigram?: Uint8Array,
): SignalContext {
  const { wordCount } = space;
  const df = new Int32Array(wordCount);
  for (let j = 0; j < wordCount; j++) {
    let sum = 0;
    for (let p = counts.featureStart[j] as number; p < (counts.featureStart[j + 1] as number); p++) sum += counts.featureCount[p] as number;
    df[j] = sum;
  }
  let phrases = 0;
  for (const n of counts.classPhrases) phrases += n;
  return {
    linear,
    counts,
    df,
    phrases,
    wordCount,
    unigram: unigram ?? unigramMask(space.vocabulary, wordCount),
    idf: space.idf,
    maxIdfWord: space.maxIdfWord,
    wordWeight: space.config.wordWeight,
    charWeight: space.config.charWeight,
    seen,
  };
}

/** 1 for the word features that are stem unigrams. */
export function unigramMask(vocabulary: readonly string[], wordCount: number): Uint8Array {
  const mask = new Uint8Array(wordCount);
  for (let j = 0; j < wordCount; j++) if (isUnigramTerm(vocabulary[j] as string)) mask[j] = 1;
  return mask;
}

/** Index of the largest value (the first one on ties): the intent the classifier shows first. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if ((values[k] as number) > (values[best] as number)) best = k;
  return best;
}

/**
 * The signals of one message into `out` (length REJECTOR_SIGNAL_COUNT), for the intent with the
 * largest calibrated confidence. `candidates` / `similarity`: the neighbour candidates (best margins
 * first, -1 when absent) and their best similarity.
 */
export function rejectorSignals(
  ctx: SignalContext,
  vector: SparseVector,
  facts: VectorFacts,
  logits: Float64Array,
  probabilities: Float64Array,
  candidates: Int32Array,
  similarity: Float64Array,
  out: Float64Array,
): void {
  const K = probabilities.length;
  const k = argmax(probabilities);
  out[0] = Math.log(Math.max(1e-12, probabilities[k] as number));
  let first = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i] as number;
    if (l > first) {
      second = first;
      first = l;
    } else if (l > second) second = l;
  }
  out[1] = first;
  out[2] = K > 1 ? first - second : 0;
  let slot = 0;
  for (let c = 0; c < candidates.length; c++) if (candidates[c] === k) slot = c;
  out[3] = slot < similarity.length ? (similarity[slot] as number) : 0;
  out[4] = candidates.length > 1 ? (similarity[1 - slot] as number) : 0;
  let sum = 0;
  let entropy = 0;
  for (let i = 0; i < K; i++) {
    const p = probabilities[i] as number;
    sum += p;
    if (p > 0) entropy -= p * Math.log(p);
  }
  const none = Math.max(1e-12, 1 - sum);
  entropy -= none * Math.log(none);

  const { linear, counts, df, wordCount, unigram, idf, seen } = ctx;
  const weights = linear.weights;
  const Kc = linear.classes;
  const wordScale = ctx.wordWeight > 0 ? 1 / (ctx.wordWeight * ctx.wordWeight) : 1;
  const charScale = ctx.charWeight > 0 ? 1 / (ctx.charWeight * ctx.charWeight) : 1;
  const nk = counts.classPhrases[k] as number;
  const n = ctx.phrases;
  let knownWord = 0;
  let knownChar = 0;
  let unseenMass = 0;
  let unseenUnigramMass = 0;
  let maxIdfUnseen = 0;
  let maxIdfRare = 0;
  let surprise = -Infinity;
  let surpriseSharp = -Infinity;
  let negativeWord = 0;
  let negativeChar = 0;
  let minContribution = 0;
  let unknownUnigram = facts.unknownUnigrams > 0;
  for (let p = 0; p < vector.indices.length; p++) {
    const j = vector.indices[p] as number;
    const x = vector.values[p] as number;
    const contribution = (weights[j * Kc + k] as number) * x;
    const known = seen === null || seen[j] === 1;
    if (j < wordCount) {
      if (contribution < 0) negativeWord += contribution;
      if (contribution < minContribution) minContribution = contribution;
      if (!known) {
        if (unigram[j] === 1) unknownUnigram = true;
        continue;
      }
      knownWord += x * x;
      const dk = countOf(counts, j, k);
      if (dk === 0) unseenMass += x * x;
      if (unigram[j] !== 1) continue;
      const w = idf[j] as number;
      if (dk === 0) {
        unseenUnigramMass += x * x;
        if (w > maxIdfUnseen) maxIdfUnseen = w;
      }
      if (dk <= 1 && w > maxIdfRare) maxIdfRare = w;
      const d = df[j] as number;
      const ratio = Math.log((d + 1) / (n + 2)) - Math.log((dk + 1) / (nk + 2));
      if (ratio > surprise) surprise = ratio;
      const sharp = Math.log((d + 0.1) / (n + 0.2)) - Math.log((dk + 0.1) / (nk + 0.2));
      if (sharp > surpriseSharp) surpriseSharp = sharp;
    } else {
      if (contribution < 0) negativeChar += contribution;
      if (known) knownChar += x * x;
    }
  }
  if (unknownUnigram) {
    maxIdfUnseen = ctx.maxIdfWord;
    maxIdfRare = ctx.maxIdfWord;
  }
  out[5] = knownWord * wordScale;
  out[6] = knownChar * charScale;
  out[7] = Math.log(Math.max(1, facts.chunks));
  out[8] = entropy;
  out[9] = unseenMass * wordScale;
  out[10] = unseenUnigramMass * wordScale;
  out[11] = maxIdfUnseen;
  out[12] = maxIdfRare;
  out[13] = Number.isFinite(surprise) ? surprise : 0;
  out[14] = Number.isFinite(surpriseSharp) ? surpriseSharp : 0;
  out[15] = negativeWord;
  out[16] = negativeChar;
  out[17] = minContribution;
  out[18] = unknownUnigram ? 1 : 0;
}

/** The fitted logistic regression: P(top intent right) = sigmoid(bias + sum_i weights_i (x_i - mean_i) / scale_i). */
export interface RejectorWeights {
  mean: number[];
  scale: number[];
  weights: number[];
  bias: number;
}

export function rejectorProbability(model: RejectorWeights, signals: ArrayLike<number>): number {
  let s = model.bias;
  for (let i = 0; i < model.weights.length; i++) s += (model.weights[i] as number) * (((signals[i] as number) - (model.mean[i] as number)) / (model.scale[i] as number));
  return 1 / (1 + Math.exp(-s));
}

/**
 * L2-regularised logistic regression (penalty `l2` on the standardised weights, none on the intercept)
 * by Newton's method with step halving. Deterministic for the same rows in the same order.
 */
export function fitRejector(rows: readonly Float64Array[], labels: ArrayLike<number>, l2 = REJECTOR_L2): RejectorWeights {
  const d = rows.length === 0 ? REJECTOR_SIGNAL_COUNT : (rows[0] as Float64Array).length;
  const n = rows.length;
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  for (const x of rows) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (x[j] as number) / n;
  for (const x of rows) for (let j = 0; j < d; j++) scale[j] = (scale[j] as number) + ((x[j] as number) - (mean[j] as number)) ** 2 / n;
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j] as number) || 1;
  const D = d + 1;
  const Z = rows.map((x) => {
    const z = new Float64Array(D);
    z[0] = 1;
    for (let j = 0; j < d; j++) z[j + 1] = ((x[j] as number) - (mean[j] as number)) / (scale[j] as number);
    return z;
  });
  const dot = (z: Float64Array, w: Float64Array) => {
    let s = 0;
    for (let a = 0; a < D; a++) s += (z[a] as number) * (w[a] as number);
    return s;
  };
  const loss = (w: Float64Array) => {
    let t = 0;
    for (let i = 0; i < n; i++) {
      const s = dot(Z[i] as Float64Array, w);
      t += (labels[i] as number) === 1 ? softplus(-s) : softplus(s);
    }
    for (let a = 1; a < D; a++) t += 0.5 * l2 * (w[a] as number) ** 2;
    return t;
  };
  let w = new Float64Array(D);
  for (let iteration = 0; iteration < 50 && n > 0; iteration++) {
    const g = new Float64Array(D);
    const H = new Float64Array(D * D);
    for (let i = 0; i < n; i++) {
      const z = Z[i] as Float64Array;
      const p = 1 / (1 + Math.exp(-dot(z, w)));
      const e = p - ((labels[i] as number) === 1 ? 1 : 0);
      const h = p * (1 - p);
      for (let a = 0; a < D; a++) {
        g[a] = (g[a] as number) + e * (z[a] as number);
        const hz = h * (z[a] as number);
        for (let b = a; b < D; b++) H[a * D + b] = (H[a * D + b] as number) + hz * (z[b] as number);
      }
    }
    for (let a = 0; a < D; a++) for (let b = 0; b < a; b++) H[a * D + b] = H[b * D + a] as number;
    for (let a = 1; a < D; a++) {
      g[a] = (g[a] as number) + l2 * (w[a] as number);
      H[a * D + a] = (H[a * D + a] as number) + l2;
    }
    H[0] = (H[0] as number) + 1e-9;
    const step = solve(H, g, D);
    const before = loss(w);
    let factor = 1;
    let next = w;
    let accepted = false;
    for (let tries = 0; tries < 40; tries++) {
      next = w.map((v, a) => v - factor * (step[a] as number));
      if (loss(next) <= before) {
        accepted = true;
        break;
      }
      factor /= 2;
    }
    if (!accepted) break;
    w = next;
    let largest = 0;
    for (const s of step) largest = Math.max(largest, Math.abs(s));
    if (largest * factor < 1e-7) break;
  }
  return { mean, scale, weights: Array.from(w.subarray(1)), bias: w[0] as number };
}

function softplus(s: number): number {
  return s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
}

/** Solves A x = b (A is D x D, row-major) by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array, b: Float64Array, D: number): Float64Array {
  const m = new Float64Array(D * (D + 1));
  for (let r = 0; r < D; r++) {
    for (let c = 0; c < D; c++) m[r * (D + 1) + c] = A[r * D + c] as number;
    m[r * (D + 1) + D] = b[r] as number;
  }
  const W = D + 1;
  for (let c = 0; c < D; c++) {
    let pivot = c;
    for (let r = c + 1; r < D; r++) if (Math.abs(m[r * W + c] as number) > Math.abs(m[pivot * W + c] as number)) pivot = r;
    if (pivot !== c) {
      for (let k = 0; k < W; k++) {
        const t = m[c * W + k] as number;
        m[c * W + k] = m[pivot * W + k] as number;
        m[pivot * W + k] = t;
      }
    }
    const diagonal = m[c * W + c] as number;
    if (diagonal === 0) continue;
    for (let r = 0; r < D; r++) {
      if (r === c) continue;
      const f = (m[r * W + c] as number) / diagonal;
      if (f === 0) continue;
      for (let k = c; k < W; k++) m[r * W + k] = (m[r * W + k] as number) - f * (m[c * W + k] as number);
    }
  }
  const x = new Float64Array(D);
  for (let r = 0; r < D; r++) {
    const diagonal = m[r * W + r] as number;
    x[r] = diagonal === 0 ? 0 : (m[r * W + D] as number) / diagonal;
  }
  return x;
}

/**
 * Turns calibrated confidences into the ones the bot sees, in place: the top intent (index `top`)
 * gets q, the rejector's probability that it is right; every other intent keeps its ratio to the top
 * (p_k q / p_top) unless that would leave less than nothing for "none of these", in which case the
 * others share 1 - q in proportion to the calibrated mass outside the top, p_k (1 - q) / (1 - p_top).
 * So the ranking never changes, each value is in [0, 1], no other intent exceeds the top and the sum
 * stays at most 1; the clarify margin is read on these values.
 */
export function applyRejector(probabilities: Float64Array, top: number, q: number): void {
  const pTop = probabilities[top] as number;
  let factor = pTop > 0 ? q / pTop : 0;
  const rest = 1 - pTop;
  if (rest > 0) factor = Math.min(factor, (1 - q) / rest);
  for (let k = 0; k < probabilities.length; k++) probabilities[k] = k === top ? q : Math.min(q, (probabilities[k] as number) * factor);
}
