/**
 * Calibration. Confidence of intent k = exp(a * m_k) / (exp(b) + sum_j exp(a * m_j)), where m are the
 * SVM margins, a is the scale (1 / temperature) and b an extra "none of these" logit. With b the
 * confidences of all intents sum to less than 1 and a message whose best margin is low gets a low top
 * confidence even when one intent beats the others. Without out-of-scope validation data b is
 * -Infinity (plain softmax with temperature).
 */
export interface Calibration {
  scale: number;
  /** The "none" logit b, or null for a plain softmax. */
  noneLogit: number | null;
}

/** Confidences of one margin vector into `out` (same length). */
export function calibrateInto(margins: Float64Array, calibration: Calibration, out: Float64Array): void {
  const { scale, noneLogit } = calibration;
  let max = noneLogit ?? -Infinity;
  for (let k = 0; k < margins.length; k++) {
    const z = scale * (margins[k] as number);
    if (z > max) max = z;
  }
  let sum = noneLogit === null ? 0 : Math.exp(noneLogit - max);
  for (let k = 0; k < margins.length; k++) {
    const e = Math.exp(scale * (margins[k] as number) - max);
    out[k] = e;
    sum += e;
  }
  for (let k = 0; k < margins.length; k++) out[k] = (out[k] as number) / sum;
}

interface Moments {
  nll: number;
  /** Gradient and Hessian of the mean negative log-likelihood in (a, b). */
  ga: number;
  gb: number;
  haa: number;
  hab: number;
  hbb: number;
}

function moments(rows: readonly Float64Array[], gold: readonly number[], a: number, b: number | null): Moments {
  let nll = 0;
  let ga = 0;
  let gb = 0;
  let haa = 0;
  let hab = 0;
  let hbb = 0;
  for (let r = 0; r < rows.length; r++) {
    const m = rows[r] as Float64Array;
    const g = gold[r] as number;
    let max = b ?? -Infinity;
    for (let k = 0; k < m.length; k++) max = Math.max(max, a * (m[k] as number));
    let sum = b === null ? 0 : Math.exp(b - max);
    let em = 0;
    let em2 = 0;
    for (let k = 0; k < m.length; k++) {
      const e = Math.exp(a * (m[k] as number) - max);
      sum += e;
      em += e * (m[k] as number);
      em2 += e * (m[k] as number) ** 2;
    }
    em /= sum;
    em2 /= sum;
    const p0 = b === null ? 0 : Math.exp(b - max) / sum;
    const target = g >= 0 ? a * (m[g] as number) : (b as number);
    nll += Math.log(sum) + max - target;
    ga += em - (g >= 0 ? (m[g] as number) : 0);
    gb += p0 - (g >= 0 ? 0 : 1);
    haa += em2 - em * em;
    hab += -em * p0;
    hbb += p0 - p0 * p0;
  }
  const n = Math.max(1, rows.length);
  return { nll: nll / n, ga: ga / n, gb: gb / n, haa: haa / n, hab: hab / n, hbb: hbb / n };
}

/**
 * Fits (a, b) by Newton's method on the mean negative log-likelihood (convex in (a, b)) of validation
 * margins; gold -1 marks an out-of-scope row, whose right answer is the "none" logit. Deterministic.
 */
export function fitCalibration(rows: readonly Float64Array[], gold: readonly number[]): Calibration & { nll: number } {
  if (rows.length === 0) return { scale: 1, noneLogit: null, nll: NaN };
  const withNone = gold.some((g) => g < 0) && gold.some((g) => g >= 0);
  const usable = withNone ? [rows, gold] as const : [rows.filter((_, i) => (gold[i] as number) >= 0), gold.filter((g) => g >= 0)] as const;
  if (usable[0].length === 0) return { scale: 1, noneLogit: null, nll: NaN };
  let a = 1;
  let b: number | null = withNone ? 0 : null;
  let current = moments(usable[0], usable[1], a, b);
  for (let iteration = 0; iteration < 50; iteration++) {
    let da: number;
    let db = 0;
    if (b === null) {
      da = -current.ga / (current.haa + 1e-9);
    } else {
      const haa = current.haa + 1e-9;
      const hbb = current.hbb + 1e-9;
      const det = haa * hbb - current.hab * current.hab;
      da = -(hbb * current.ga - current.hab * current.gb) / det;
      db = -(-current.hab * current.ga + haa * current.gb) / det;
    }
    let step = 1;
    let next = current;
    let accepted = false;
    for (let tries = 0; tries < 30; tries++) {
      const na = a + step * da;
      const nb = b === null ? null : b + step * db;
      if (na > 1e-3 && na < 1e4) {
        next = moments(usable[0], usable[1], na, nb);
        if (next.nll <= current.nll) {
          a = na;
          b = nb;
          accepted = true;
          break;
        }
      }
      step /= 2;
    }
    if (!accepted) break;
    const improvement = current.nll - next.nll;
    current = next;
    if (improvement < 1e-10) break;
  }
  return { scale: a, noneLogit: b, nll: current.nll };
}
