import { bundle, runAsCli, type BundleResult } from './bundle.js';

/** The dashboard is for analysts on a desktop; Chart.js (tree-shaken) is most of it. */
export const ANALYTICS_BUDGET_GZIP_BYTES = 120 * 1024;

/** Bundles analytics/index.ts (with Chart.js) into dist/analytics/analytics.js; returns the sizes. */
export function buildAnalytics(root?: string): Promise<BundleResult> {
  return bundle('analytics/index.ts', 'dist/analytics/analytics.js', root);
}

await runAsCli(import.meta.url, 'analytics', ANALYTICS_BUDGET_GZIP_BYTES, () => buildAnalytics());
