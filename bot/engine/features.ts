import type { Language } from '../language.js';
import { analyse } from './text.js';

/** What the feature extractor does; stored in the model file so loading reproduces it exactly. */
export interface FeatureConfig {
  /** Word n-gram orders over stems, e.g. [1, 2]. */
  wordNgrams: number[];
  /** Smallest and largest character n-gram inside word boundaries (each chunk padded with spaces). */
  charMin: number;
  charMax: number;
  /** Relative weight of the word block and of the character block (each block is L2-normalised first). */
  wordWeight: number;
  charWeight: number;
  /** Features seen in fewer training phrases are dropped. */
  minDf: number;
  /**
   * Unknown n-grams still count in the L2 norm (with the largest idf), so a message made mostly of
   * never-seen text gets a short vector, small margins and a low confidence.
   */
  unknownInNorm: boolean;
}

export const DEFAULT_FEATURES: FeatureConfig = {
  wordNgrams: [1, 2],
  charMin: 2,
  charMax: 5,
  wordWeight: 1,
  charWeight: 1,
  minDf: 1,
  unknownInNorm: true,
};

/** A sparse vector: parallel arrays of feature index and value. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

/** What vectorize can report besides the vector (for the learnt rejector's signals). */
export interface VectorFacts {
  /** Whitespace chunks of the normalised text. */
  chunks: number;
  /** Occurrences of stem unigrams that are not in the vocabulary. */
  unknownUnigrams: number;
}

interface RawFeatures {
  word: string[];
  char: string[];
}

/** Word-block terms are `${n}|` and the n stems joined by spaces; this says whether one is a stem unigram. */
export function isUnigramTerm(term: string): boolean {
  return term.charCodeAt(0) === 49 && term.charCodeAt(1) === 124; // "1|"
}

function wordTerms(stems: readonly string[], config: FeatureConfig): string[] {
  const word: string[] = [];
  for (const n of config.wordNgrams) {
    for (let i = 0; i + n <= stems.length; i++) {
      // `${n}|` and the n stems joined by spaces (built directly: this runs for every message).
      let term = `${n}|${stems[i] as string}`;
      for (let j = i + 1; j < i + n; j++) term += ` ${stems[j] as string}`;
      word.push(term);
    }
  }
  return word;
}

/** Character n-grams of one whitespace chunk, padded with a space on both sides, in a fixed order. */
function chunkGrams(chunk: string, config: FeatureConfig, into: string[]): void {
  const padded = ` ${chunk} `;
  for (let n = config.charMin; n <= config.charMax; n++) {
    if (padded.length < n) break;
    for (let i = 0; i + n <= padded.length; i++) into.push(padded.slice(i, i + n));
    if (padded.length === n) break;
  }
}

function rawFeatures(text: string, language: Language, config: FeatureConfig): RawFeatures {
  const { stems, chunks } = analyse(text, language);
  const char: string[] = [];
  for (const chunk of chunks) chunkGrams(chunk, config, char);
  return { word: wordTerms(stems, config), char };
}

/**
 * A chunk's character n-grams, looked up once: `terms[i]` is a feature index (>= 0), or -(u + 1)
 * for the chunk's u-th unknown n-gram, whose text is `unknown[u]`.
 */
interface ChunkLookup {
  terms: Int32Array;
  unknown: string[];
}

/** Chunks (words with their punctuation) whose look-ups are kept; listeners reuse few words, so most hit. */
const CHUNK_CACHE_LIMIT = 50_000;

/** The learnt vocabulary and idf of both blocks. */
export interface FeatureSpaceData {
  config: FeatureConfig;
  /** Word-block vocabulary then character-block vocabulary; index = position. */
  vocabulary: string[];
  /** Number of word-block features (they come first). */
  wordCount: number;
  idf: Float32Array;
  maxIdfWord: number;
  maxIdfChar: number;
}

export class FeatureSpace {
  private readonly wordIndex = new Map<string, number>();
  private readonly charIndex = new Map<string, number>();
  /** Scratch for vectorize: occurrences of each known feature in the message (all zero between calls). */
  private counts: Int32Array | null = null;
  private readonly chunkCache = new Map<string, ChunkLookup>();

  constructor(readonly data: FeatureSpaceData) {
    const { vocabulary, wordCount } = data;
    for (let i = 0; i < vocabulary.length; i++) {
      const term = vocabulary[i] as string;
      if (i < wordCount) this.wordIndex.set(term, i);
      else this.charIndex.set(term, i);
    }
  }

  get dimension(): number {
    return this.data.vocabulary.length;
  }

  /** Learns vocabulary and idf from training phrases, in their order (deterministic). */
  static fit(phrases: readonly { text: string; language: Language }[], config: FeatureConfig): FeatureSpace {
    const wordDf = new Map<string, number>();
    const charDf = new Map<string, number>();
    for (const phrase of phrases) {
      const raw = rawFeatures(phrase.text, phrase.language, config);
      for (const term of new Set(raw.word)) wordDf.set(term, (wordDf.get(term) ?? 0) + 1);
      for (const term of new Set(raw.char)) charDf.set(term, (charDf.get(term) ?? 0) + 1);
    }
    const n = phrases.length;
    const idfOf = (df: number) => Math.log((1 + n) / (1 + df)) + 1;
    const vocabulary: string[] = [];
    const idf: number[] = [];
    for (const [term, df] of wordDf) {
      if (df < config.minDf) continue;
      vocabulary.push(term);
      idf.push(idfOf(df));
    }
    const wordCount = vocabulary.length;
    for (const [term, df] of charDf) {
      if (df < config.minDf) continue;
      vocabulary.push(term);
      idf.push(idfOf(df));
    }
    return new FeatureSpace({
      config,
      vocabulary,
      wordCount,
      idf: Float32Array.from(idf),
      maxIdfWord: idfOf(0),
      maxIdfChar: idfOf(0),
    });
  }

  /**
   * TF-IDF (sublinear tf), each block L2-normalised and weighted; unknown n-grams are skipped.
   * Terms are taken in order of first occurrence, and the norm is summed in that order (the result
   * is the same, bit for bit, as counting the terms in a Map first). Known terms are counted in a
   * scratch array; a chunk's character n-grams are looked up once and the result is cached, so a
   * message mostly costs one look-up per word instead of one per n-gram.
   */
  vectorize(text: string, language: Language, facts?: VectorFacts): SparseVector {
    const { config, idf } = this.data;
    const { stems, chunks } = analyse(text, language);
    let unknownUnigrams = 0;
    const counts = (this.counts ??= new Int32Array(this.dimension));
    const indices: number[] = [];
    const values: number[] = [];
    // First occurrences, in order: a feature index (>= 0), or -(slot + 1) for an unknown term.
    const order: number[] = [];
    let unknown: Map<string, number> | null = null;
    const unknownCounts: number[] = [];
    const countKnown = (i: number) => {
      const seen = counts[i] as number;
      counts[i] = seen + 1;
      if (seen === 0) order.push(i);
    };
    const countUnknown = (term: string) => {
      unknown ??= new Map();
      const slot = unknown.get(term);
      if (slot === undefined) {
        unknown.set(term, unknownCounts.length);
        order.push(-(unknownCounts.length + 1));
        unknownCounts.push(1);
      } else unknownCounts[slot] = (unknownCounts[slot] as number) + 1;
    };
    const finishBlock = (weight: number, unknownIdf: number) => {
      const start = indices.length;
      let norm = 0;
      for (const entry of order) {
        if (entry < 0) {
          const tf = 1 + Math.log(unknownCounts[-entry - 1] as number);
          if (config.unknownInNorm) norm += (tf * unknownIdf) ** 2;
          continue;
        }
        const tf = 1 + Math.log(counts[entry] as number);
        counts[entry] = 0;
        const value = tf * (idf[entry] as number);
        norm += value * value;
        indices.push(entry);
        values.push(value);
      }
      if (norm > 0) {
        const scale = weight / Math.sqrt(norm);
        for (let k = start; k < values.length; k++) values[k] = (values[k] as number) * scale;
      }
      order.length = 0;
      unknown = null;
      unknownCounts.length = 0;
    };
    for (const term of wordTerms(stems, config)) {
      const i = this.wordIndex.get(term);
      if (i !== undefined) countKnown(i);
      else {
        countUnknown(term);
        if (isUnigramTerm(term)) unknownUnigrams++;
      }
    }
    if (facts !== undefined) {
      facts.chunks = chunks.length;
      facts.unknownUnigrams = unknownUnigrams;
    }
    finishBlock(config.wordWeight, this.data.maxIdfWord);
    for (const chunk of chunks) {
      const { terms, unknown: unknownTerms } = this.lookUpChunk(chunk);
      for (let t = 0; t < terms.length; t++) {
        const i = terms[t] as number;
        if (i >= 0) countKnown(i);
        else countUnknown(unknownTerms[-i - 1] as string);
      }
    }
    finishBlock(config.charWeight, this.data.maxIdfChar);
    return { indices: Int32Array.from(indices), values: Float32Array.from(values) };
  }

  private lookUpChunk(chunk: string): ChunkLookup {
    const cached = this.chunkCache.get(chunk);
    if (cached !== undefined) return cached;
    const grams: string[] = [];
    chunkGrams(chunk, this.data.config, grams);
    const terms = new Int32Array(grams.length);
    const unknown: string[] = [];
    grams.forEach((gram, t) => {
      const i = this.charIndex.get(gram);
      if (i !== undefined) terms[t] = i;
      else terms[t] = -(unknown.push(gram) as number);
    });
    const lookup = { terms, unknown };
    if (this.chunkCache.size >= CHUNK_CACHE_LIMIT) this.chunkCache.clear();
    this.chunkCache.set(chunk, lookup);
    return lookup;
  }
}

/** Rows of sparse vectors in compressed sparse row form. */
export interface SparseMatrix {
  rows: number;
  columns: number;
  rowStart: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export function toSparseMatrix(vectors: readonly SparseVector[], columns: number): SparseMatrix {
  let nnz = 0;
  for (const vector of vectors) nnz += vector.indices.length;
  const rowStart = new Int32Array(vectors.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  vectors.forEach((vector, row) => {
    indices.set(vector.indices, at);
    values.set(vector.values, at);
    at += vector.indices.length;
    rowStart[row + 1] = at;
  });
  return { rows: vectors.length, columns, rowStart, indices, values };
}
