import { L } from './labels.js';

/** A fraction as a percentage with one decimal; a dash when there is nothing to show. */
export function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

export function interval(low: number | null, high: number | null): string {
  return low === null || high === null ? '—' : L.interval(pct(low), pct(high));
}

/** A fraction as a chart value (0..100), null for gaps. */
export function chartValue(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 10;
}

export function intentLabel(intent: string | null): string {
  return intent ?? L.noIntent;
}
