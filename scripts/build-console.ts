import { build } from 'esbuild';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../server/paths.js';

/** The console is for agents on a desktop, not for every visitor, so its budget is looser than the widget's. */
export const CONSOLE_BUDGET_GZIP_BYTES = 60 * 1024;

/** Bundles console/index.ts (with the socket.io client) into dist/console/console.js; returns the sizes. */
export async function buildConsole(root = projectRoot()): Promise<{ file: string; bytes: number; gzipBytes: number }> {
  const file = path.join(root, 'dist/console/console.js');
  await mkdir(path.dirname(file), { recursive: true });
  await build({
    entryPoints: [path.join(root, 'console/index.ts')],
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
  const result = await buildConsole();
  const ok = result.gzipBytes <= CONSOLE_BUDGET_GZIP_BYTES;
  console.error(`console: ${path.relative(process.cwd(), result.file)} ${(result.bytes / 1024).toFixed(1)} KB, ${(result.gzipBytes / 1024).toFixed(1)} KB gzipped (budget ${CONSOLE_BUDGET_GZIP_BYTES / 1024} KB)`);
  if (!ok) process.exit(1);
}
