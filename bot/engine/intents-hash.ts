import { createHash } from 'node:crypto';
import type { LabelledPhrase } from '../classifier.js';

/**
 * Content hash of training data: SHA-256 over the sorted lines "language TAB intent TAB text".
 * Independent of phrase order, so reordering intent files does not make a model stale.
 */
export function intentsHash(phrases: readonly LabelledPhrase[]): string {
  const lines = phrases.map((p) => `${p.language}\t${p.intent}\t${p.text}`).sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line).update('\n');
  return `sha256:${hash.digest('hex')}`;
}
