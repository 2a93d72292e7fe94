/**
 * Checks the intent files: npm run intents:check [-- --json] [--intents DIR] [--catalogue FILE] [--seed N] [--folds N] [--skip-cv]
 *
 * (a) every file parses, (b) the ids are exactly the catalogue's, (c) no phrase under two intents,
 * (d) at least 40 English and 25 Spanish phrases per intent, (e) answers in both languages, then
 * (f) the shipped model's stratified k-fold accuracy per language, per intent, with the most confused
 * pairs. The logic lives in bot/intent-checks.ts; this file reads files and prints.
 * Exit code 0 when there are no problems, 1 when there are, 2 on a usage error.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CATALOGUE_COPY_NAME,
  checkCatalogueCopy,
  checkIntentFiles,
  crossValidate,
  formatProblem,
  parseCatalogueCopy,
  parseCatalogueIds,
  type CrossValidationReport,
  type IntentFileText,
  type IntentProblem,
} from '../bot/intent-checks.js';
import { INTENT_FILE_NAME, IntentFileError } from '../bot/load-intents.js';
import { trainClassifier } from '../bot/train-classifier.js';

export const USAGE = 'usage: check-intents [--json] [--intents DIR] [--catalogue FILE] [--seed N] [--folds N] [--skip-cv]';

export interface CheckReport {
  ok: boolean;
  intentsDir: string;
  /** Where the ids came from: the catalogue, or the copy when the catalogue could not be read. */
  idsFrom: string;
  files: number;
  intents: number;
  problems: IntentProblem[];
  crossValidation: CrossValidationReport | null;
}

class UsageError extends Error {}

/** The folder holding package.json, walking up from this file (works from scripts/ and dist/scripts/). */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${value}"\n${USAGE}`);
  return n;
}

export async function runCheck(argv: readonly string[]): Promise<CheckReport> {
  let values: { json?: boolean; intents?: string; catalogue?: string; seed?: string; folds?: string; 'skip-cv'?: boolean };
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        json: { type: 'boolean' },
        intents: { type: 'string' },
        catalogue: { type: 'string' },
        seed: { type: 'string' },
        folds: { type: 'string' },
        'skip-cv': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const seed = integer('seed', values.seed, 42);
  const folds = integer('folds', values.folds, 5);
  if (folds < 2) throw new UsageError(`--folds must be at least 2\n${USAGE}`);

  const root = projectRoot();
  const relative = (file: string) => path.relative(process.cwd(), file) || file;
  const intentsDir = path.resolve(root, values.intents ?? 'intents');
  const catalogueFile = path.resolve(root, values.catalogue ?? '../shared/intent-catalogue.md');
  const copyFile = path.join(intentsDir, CATALOGUE_COPY_NAME);
  const problems: IntentProblem[] = [];

  // The catalogue's ids, checked against the copy; the copy alone when the catalogue is unreadable.
  let catalogueIds: string[] | null = null;
  let idsFrom = relative(catalogueFile);
  try {
    catalogueIds = parseCatalogueIds(await readFile(catalogueFile, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'EACCES') {
      problems.push({ file: relative(catalogueFile), field: '', message: (error as Error).message });
    }
  }
  let copyIds: string[] | null = null;
  try {
    copyIds = parseCatalogueCopy(relative(copyFile), await readFile(copyFile, 'utf8')).ids;
  } catch (error) {
    if (error instanceof IntentFileError) problems.push({ file: error.file, field: error.field, message: error.problem });
    else problems.push({ file: relative(copyFile), field: '', message: `cannot be read (${(error as Error).message})` });
  }
  if (catalogueIds && copyIds) problems.push(...checkCatalogueCopy(copyIds, catalogueIds, relative(copyFile)));
  if (!catalogueIds && copyIds) {
    catalogueIds = copyIds;
    idsFrom = relative(copyFile);
  }

  const jsonNames = (await readdir(intentsDir)).filter((name) => name.endsWith('.json') && name !== CATALOGUE_COPY_NAME).sort();
  const names = jsonNames.filter((name) => INTENT_FILE_NAME.test(name));
  for (const name of jsonNames.filter((n) => !INTENT_FILE_NAME.test(n))) {
    problems.push({ file: relative(path.join(intentsDir, name)), field: '', message: 'is not named like an intent file (<area>.<name>.json), so the bot never loads it' });
  }
  const files: IntentFileText[] = [];
  for (const name of names) {
    const file = path.join(intentsDir, name);
    files.push({ file: relative(file), text: await readFile(file, 'utf8') });
  }
  if (files.length === 0) problems.push({ file: relative(intentsDir), field: '', message: 'holds no intent files' });

  const checked = checkIntentFiles({ files, catalogueIds: catalogueIds ?? [], catalogueFile: idsFrom });
  problems.push(...checked.problems);
  if (!catalogueIds) problems.push({ file: relative(catalogueFile), field: '', message: `cannot be read, and neither can ${relative(copyFile)}: the ids were not checked` });

  const intents = checked.intents.map((parsed) => parsed.intent);
  const crossValidation =
    values['skip-cv'] || intents.length < 2 ? null : await crossValidate(intents, { folds, seed, train: async (phrases) => (await trainClassifier(phrases)).classifier });

  return { ok: problems.length === 0, intentsDir: relative(intentsDir), idsFrom, files: files.length, intents: intents.length, problems, crossValidation };
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The human-readable report. */
export function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  lines.push(`intents:check: ${report.files} files in ${report.intentsDir}, ${report.intents} parsed; ids from ${report.idsFrom}`);
  if (report.problems.length === 0) lines.push('no problems: files parse, ids match the catalogue, no duplicate phrases, counts and answers fine');
  else {
    lines.push(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`);
    for (const problem of report.problems) lines.push(`  - ${formatProblem(problem)}`);
  }
  const cv = report.crossValidation;
  if (cv) {
    lines.push('', `cross-validated accuracy of the shipped model (${cv.version}), ${cv.folds}-fold stratified, seed ${cv.seed}:`);
    for (const language of cv.languages) {
      lines.push('', `[${language.language}] accuracy ${percent(language.accuracy)} (${language.correct}/${language.n})`);
      const width = Math.max(...language.perIntent.map((row) => row.intent.length));
      for (const row of language.perIntent) {
        lines.push(`  ${row.intent.padEnd(width)}  ${percent(row.accuracy).padStart(6)}  (${row.correct}/${row.n})`);
      }
      if (language.confusedPairs.length > 0) {
        lines.push(`  most confused (expected -> predicted: count):`);
        for (const pair of language.confusedPairs) lines.push(`    ${pair.expected} -> ${pair.predicted}: ${pair.count}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  try {
    const report = await runCheck(argv);
    process.stdout.write(argv.includes('--json') ? `${JSON.stringify(report)}\n` : formatReport(report));
    process.exitCode = report.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`check-intents: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
