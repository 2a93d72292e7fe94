import type { SparseVector } from './features.js';

/**
 * Nearest-neighbour similarity per intent: the word block (stem uni- and bigrams) of the training
 * vectors grouped by class, so the best dot product of a message with the training phrases of one
 * intent costs one pass over that intent's phrases. Training rows are unit length; the message's word
 * block is used as vectorised (unknown n-grams count in its norm), so the similarity is a cosine in
 * which never-seen words count against the message. The character block is left out: it would make
 * the look-up about ten times slower for the same out-of-scope signal (measured, docs/engine.md).
 */
export interface NeighbourIndex {
  classes: number;
  /** Rows of class k are classStart[k] .. classStart[k + 1] - 1. */
  classStart: Int32Array;
  /** CSR over rows: rowStart[r] .. rowStart[r + 1] - 1 index `indices` / `values`. */
  rowStart: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Features below `limit` (the word block) of one vector. */
function head(vector: SparseVector, limit: number): number {
  let n = 0;
  while (n < vector.indices.length && (vector.indices[n] as number) < limit) n++;
  return n;
}

/**
 * Groups the word-block part (features below `limit`) of training vectors by class (class order,
 * then input order: deterministic), each scaled to unit length; rows without a word feature are left out.
 */
export function buildNeighbourIndex(vectors: readonly SparseVector[], labels: ArrayLike<number>, classes: number, limit: number): NeighbourIndex {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let r = 0; r < vectors.length; r++) {
    const k = labels[r] as number;
    if (k >= 0 && k < classes && head(vectors[r] as SparseVector, limit) > 0) (byClass[k] as number[]).push(r);
  }
  const classStart = new Int32Array(classes + 1);
  let rows = 0;
  let nnz = 0;
  for (let k = 0; k < classes; k++) {
    rows += (byClass[k] as number[]).length;
    classStart[k + 1] = rows;
    for (const r of byClass[k] as number[]) nnz += head(vectors[r] as SparseVector, limit);
  }
  const rowStart = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let row = 0;
  let at = 0;
  for (let k = 0; k < classes; k++) {
    for (const r of byClass[k] as number[]) {
      const v = vectors[r] as SparseVector;
      const n = head(v, limit);
      let norm = 0;
      for (let p = 0; p < n; p++) norm += (v.values[p] as number) ** 2;
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let p = 0; p < n; p++) {
        indices[at] = v.indices[p] as number;
        values[at] = (v.values[p] as number) * scale;
        at++;
      }
      row++;
      rowStart[row] = at;
    }
  }
  return { classes, classStart, rowStart, indices, values };
}

/**
 * Scatters the word block of a message vector into a dense scratch buffer (length = the word block's
 * size), divided by `normaliser` (the word block's weight, so a fully known word block has length 1);
 * `best(k)` then gives the best similarity to the phrases of class k. Call `clear` afterwards to reset
 * the buffer. The character block is skipped: the index holds no character feature.
 */
export class NeighbourScorer {
  private readonly dense: Float64Array;

  constructor(
    readonly index: NeighbourIndex,
    /** Number of word-block features (they come first in every vector). */
    private readonly wordCount: number,
    /** Length of a fully known word block (the word block's weight). */
    private readonly normaliser: number,
  ) {
    this.dense = new Float64Array(wordCount);
  }

  load(vector: SparseVector): void {
    const inverse = this.normaliser > 0 ? 1 / this.normaliser : 0;
    const n = head(vector, this.wordCount);
    for (let p = 0; p < n; p++) this.dense[vector.indices[p] as number] = (vector.values[p] as number) * inverse;
  }

  clear(vector: SparseVector): void {
    const n = head(vector, this.wordCount);
    for (let p = 0; p < n; p++) this.dense[vector.indices[p] as number] = 0;
  }

  /** Best similarity of the loaded message to a training phrase of class k (0 when the class has none). */
  best(k: number): number {
    const { classStart, rowStart, indices, values } = this.index;
    const dense = this.dense;
    let best = 0;
    for (let r = classStart[k] as number; r < (classStart[k + 1] as number); r++) {
      let dot = 0;
      for (let p = rowStart[r] as number; p < (rowStart[r + 1] as number); p++) dot += (dense[indices[p] as number] as number) * (values[p] as number);
      if (dot > best) best = dot;
    }
    return best;
  }
}

/**
 * How many of the best-margin intents get the neighbour bonus (the rest keep their SVM margin). Two:
 * the bonus can then swap the top two intents. With one (the bonus only raises the top intent) the
 * validation objective was lower (BANKING77 oos protocol 0.7785 vs 0.7840; cross-validation 0.7792 vs
 * 0.7820); each candidate costs one pass over that intent's phrases (about 12 µs).
 */
export const NEIGHBOUR_CANDIDATES = 2;

/** Indices of the `top.length` largest margins into `top`, best first (ties: lower index first). */
export function topCandidates(margins: Float64Array, top: Int32Array): void {
  const n = top.length;
  top.fill(-1);
  for (let k = 0; k < margins.length; k++) {
    const m = margins[k] as number;
    let at = n;
    while (at > 0 && (top[at - 1] === -1 || m > (margins[top[at - 1] as number] as number))) at--;
    if (at >= n) continue;
    for (let s = n - 1; s > at; s--) top[s] = top[s - 1] as number;
    top[at] = k;
  }
}
