import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const BENCHMARKS_FILE = path.resolve(process.cwd(), 'docs/benchmarks.md');
const HEADER = '# Benchmarks\n\nEvery figure below was written by the benchmark that measured it; the command under each heading reproduces it.\n';

/**
 * Replaces (or appends) the section of docs/benchmarks.md that belongs to one benchmark,
 * delimited by HTML comment markers, so several benchmarks can share the file.
 */
export async function recordBenchmark(name: string, command: string, body: string): Promise<void> {
  let current = HEADER;
  try {
    current = await readFile(BENCHMARKS_FILE, 'utf8');
  } catch {
    // first benchmark to run writes the header
  }
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const section = `${begin}\n## ${name}\n\nReproduce: \`${command}\` (last run ${stamp} UTC, node ${process.version}).\n\n${body.trim()}\n${end}`;
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  const next =
    start >= 0 && stop > start
      ? current.slice(0, start) + section + current.slice(stop + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(BENCHMARKS_FILE, next);
}
