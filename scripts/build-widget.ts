import { bundle, runAsCli, type BundleResult } from './bundle.js';

export const WIDGET_BUDGET_GZIP_BYTES = 20 * 1024;

/** Bundles widget/index.ts into dist/widget/widget.js; returns the sizes. */
export function buildWidget(root?: string): Promise<BundleResult> {
  return bundle('widget/index.ts', 'dist/widget/widget.js', root);
}

await runAsCli(import.meta.url, 'widget', WIDGET_BUDGET_GZIP_BYTES, () => buildWidget());
