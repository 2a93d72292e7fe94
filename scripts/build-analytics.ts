import { build } from 'esbuild';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../server/paths.js';

/** The dashboard is for analysts on a desktop; Chart.js (tree-shaken) is most of it. */
export const ANALYTICS_BUDGET_GZIP_BYTES = 120 * 1024;

/** Bundles analytics/index.ts (with Chart.js) into dist/analytics/analytics.js; returns the sizes. */
export async function buildAnalytics(root = projectRoot()): Promise<{ file: string; bytes: number; gzipBytes: number }> {
  const file = path.join(root, 'dist/analytics/analytics.js');
  await mkdir(path.dirname(file), { recursive: true });
  await build({
    entryPoints: [path.join(root, 'analytics/index.ts')],
    outfile: file,
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const bytes = await readFile(file);
  return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await buildAnalytics();
  const ok = result.gzipBytes <= ANALYTICS_BUDGET_GZIP_BYTES;
  console.error(`analytics: ${path.relative(process.cwd(), result.file)} ${(result.bytes / 1024).toFixed(1)} KB, ${(result.gzipBytes / 1024).toFixed(1)} KB gzipped (budget ${ANALYTICS_BUDGET_GZIP_BYTES / 1024} KB)`);
  if (!ok) process.exit(1);
}
