import { bundle, runAsCli, type BundleResult } from './bundle.js';

/** The console is for agents on a desktop, not for every visitor, so its budget is looser than the widget's. */
export const CONSOLE_BUDGET_GZIP_BYTES = 60 * 1024;

/** Bundles console/index.ts (with the socket.io client) into dist/console/console.js; returns the sizes. */
export function buildConsole(root?: string): Promise<BundleResult> {
  return bundle('console/index.ts', 'dist/console/console.js', root);
}

await runAsCli(import.meta.url, 'console', CONSOLE_BUDGET_GZIP_BYTES, () => buildConsole());
