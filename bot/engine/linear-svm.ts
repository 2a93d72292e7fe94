import type { SparseMatrix } from './features.js';
import { createRandom } from './random.js';

export interface SvmOptions {
  /** Inverse regularisation strength. */
  C: number;
  /** Stopping tolerance on the projected-gradient spread. */
  tolerance: number;
  maxEpochs: number;
  seed: number;
  /** Value of the constant feature that carries the (regularised) bias. */
  biasFeature: number;
}

export const DEFAULT_SVM: SvmOptions = { C: 1, tolerance: 0.1, maxEpochs: 200, seed: 1, biasFeature: 1 };

/** A linear model over K classes: weights stored feature-major (W[j * K + k]) for fast sparse scoring. */
export interface LinearModel {
  classes: number;
  dimension: number;
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * One-vs-rest linear SVM with squared hinge loss and L2 regularisation, trained by dual coordinate
 * descent with shrinking (Hsieh et al., ICML 2008). Deterministic for a given seed and data.
 */
export function trainOneVsRestSvm(x: SparseMatrix, labels: Int32Array, classes: number, options: SvmOptions): LinearModel {
  const { rows, columns, rowStart, indices, values } = x;
  const weights = new Float32Array(columns * classes);
  const bias = new Float32Array(classes);
  const squaredNorm = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = options.biasFeature * options.biasFeature;
    for (let p = rowStart[i] as number; p < (rowStart[i + 1] as number); p++) sum += (values[p] as number) ** 2;
    squaredNorm[i] = sum;
  }
  const diag = 0.5 / options.C;
  const w = new Float64Array(columns);
  const alpha = new Float64Array(rows);
  const order = new Int32Array(rows);
  const y = new Int8Array(rows);
  const B = options.biasFeature;
  for (let k = 0; k < classes; k++) {
    const random = createRandom((options.seed * 1000003 + k) >>> 0);
    w.fill(0);
    alpha.fill(0);
    let wb = 0;
    for (let i = 0; i < rows; i++) {
      order[i] = i;
      y[i] = labels[i] === k ? 1 : -1;
    }
    let active = rows;
    let maxOld = Infinity;
    for (let epoch = 0; epoch < options.maxEpochs; epoch++) {
      let maxNew = -Infinity;
      let minNew = Infinity;
      for (let s = active - 1; s > 0; s--) {
        const j = Math.floor(random() * (s + 1));
        const t = order[s] as number;
        order[s] = order[j] as number;
        order[j] = t;
      }
      for (let s = 0; s < active; s++) {
        const i = order[s] as number;
        const yi = y[i] as number;
        const start = rowStart[i] as number;
        const end = rowStart[i + 1] as number;
        let dot = wb * B;
        for (let p = start; p < end; p++) dot += (w[indices[p] as number] as number) * (values[p] as number);
        const a = alpha[i] as number;
        const g = yi * dot - 1 + diag * a;
        let pg = g;
        if (a === 0) {
          if (g > maxOld) {
            active--;
            order[s] = order[active] as number;
            order[active] = i;
            s--;
            continue;
          }
          if (g > 0) pg = 0;
        }
        if (pg > maxNew) maxNew = pg;
        if (pg < minNew) minNew = pg;
        if (Math.abs(pg) > 1e-12) {
          const next = Math.max(a - g / ((squaredNorm[i] as number) + diag), 0);
          const d = (next - a) * yi;
          alpha[i] = next;
          for (let p = start; p < end; p++) {
            const f = indices[p] as number;
            w[f] = (w[f] as number) + d * (values[p] as number);
          }
          wb += d * B;
        }
      }
      if (maxNew - minNew <= options.tolerance) {
        if (active === rows) break;
        active = rows;
        maxOld = Infinity;
        continue;
      }
      maxOld = maxNew <= 0 ? Infinity : maxNew;
    }
    for (let f = 0; f < columns; f++) weights[f * classes + k] = w[f] as number;
    bias[k] = wb * B;
  }
  return { classes, dimension: columns, weights, bias };
}

/** Margins of one sparse vector for every class, into `out` (length K). */
export function scoreInto(model: LinearModel, indices: Int32Array, values: Float32Array, out: Float64Array): void {
  const K = model.classes;
  const { weights, bias } = model;
  for (let k = 0; k < K; k++) out[k] = bias[k] as number;
  // Two features per pass over `out` halves its loads and stores. JavaScript evaluates
  // `o + a + b` as `(o + a) + b`, so the sums are the same, bit for bit, as one feature per pass.
  const n = indices.length;
  let p = 0;
  for (; p + 1 < n; p += 2) {
    const base = (indices[p] as number) * K;
    const next = (indices[p + 1] as number) * K;
    const v = values[p] as number;
    const u = values[p + 1] as number;
    for (let k = 0; k < K; k++) out[k] = (out[k] as number) + v * (weights[base + k] as number) + u * (weights[next + k] as number);
  }
  if (p < n) {
    const base = (indices[p] as number) * K;
    const v = values[p] as number;
    for (let k = 0; k < K; k++) out[k] = (out[k] as number) + v * (weights[base + k] as number);
  }
}
