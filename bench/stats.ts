export { percentile } from '../bot/engine/metrics.js';

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
