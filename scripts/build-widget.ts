import { build } from 'esbuild';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../server/paths.js';

export const WIDGET_BUDGET_GZIP_BYTES = 20 * 1024;

/** Bundles widget/index.ts into dist/widget/widget.js; returns the sizes. */
export async function buildWidget(root = projectRoot()): Promise<{ file: string; bytes: number; gzipBytes: number }> {
  const file = path.join(root, 'dist/widget/widget.js');
  await mkdir(path.dirname(file), { recursive: true });
  await build({
    entryPoints: [path.join(root, 'widget/index.ts')],
    outfile: file,
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const bytes = await readFile(file);
  return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await buildWidget();
  const ok = result.gzipBytes <= WIDGET_BUDGET_GZIP_BYTES;
  console.error(`widget: ${path.relative(process.cwd(), result.file)} ${(result.bytes / 1024).toFixed(1)} KB, ${(result.gzipBytes / 1024).toFixed(1)} KB gzipped (budget ${WIDGET_BUDGET_GZIP_BYTES / 1024} KB)`);
  if (!ok) process.exit(1);
}
