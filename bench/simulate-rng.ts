/**
 * The CSAT simulation's seeded randomness: xoshiro128** seeded through a 32-bit mixer.
 * Every random choice of the simulation comes from one of these generators.
 */

export interface SimRng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** A 32-bit finaliser (murmur3's), used to spread a seed over the generator's state. */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Combines several integers (seed, round, index) into one seed. */
export function seedOf(...parts: number[]): number {
  let h = 0x2545f491;
  for (const part of parts) h = mix32((h ^ mix32(part >>> 0)) + 0x9e3779b9);
  return h >>> 0;
}

export function createSimRng(seed: number): SimRng {
  let x = seed >>> 0;
  const state = [0, 0, 0, 0].map(() => (x = mix32(x + 0x9e3779b9)));
  let [s0, s1, s2, s3] = state as [number, number, number, number];
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const rotl = (v: number, k: number) => ((v << k) | (v >>> (32 - k))) >>> 0;
  const next32 = () => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const rng: SimRng = {
    next: () => next32() / 4294967296,
    int: (n) => Math.floor(rng.next() * n),
  };
  return rng;
}
