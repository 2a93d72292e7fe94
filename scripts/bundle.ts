import { build } from 'esbuild';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../server/paths.js';

export interface BundleResult {
  file: string;
  bytes: number;
  gzipBytes: number;
}

/** Bundles one browser entry into a single minified IIFE file; returns its sizes. */
export async function bundle(entry: string, outfile: string, root = projectRoot()): Promise<BundleResult> {
  const file = path.join(root, outfile);
  await mkdir(path.dirname(file), { recursive: true });
  await build({
    entryPoints: [path.join(root, entry)],
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

/** When `moduleUrl` is the script node was started with: build, print the size, fail over budget. */
export async function runAsCli(moduleUrl: string, name: string, budgetGzipBytes: number, make: () => Promise<BundleResult>): Promise<void> {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const result = await make();
  console.error(`${name}: ${path.relative(process.cwd(), result.file)} ${(result.bytes / 1024).toFixed(1)} KB, ${(result.gzipBytes / 1024).toFixed(1)} KB gzipped (budget ${budgetGzipBytes / 1024} KB)`);
  if (result.gzipBytes > budgetGzipBytes) process.exit(1);
}
