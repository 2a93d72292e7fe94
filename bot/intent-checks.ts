import path from 'node:path';
import { z } from 'zod';
import type { IntentClassifier, LabelledPhrase } from './classifier.js';
import { intentIdSchema, type IntentDefinition } from './intent-schema.js';
import { LANGUAGES, type Language } from './language.js';
import { detectLanguage } from './language-detect.js';
import { IntentFileError, parseIntentFile } from './load-intents.js';
import { phrasesFromIntents } from './training-data.js';

/**
 * Checks of the intent files beyond their schema (used by scripts/check-intents.ts and the tests).
 * Every check is a pure function returning problems; an empty list means the check passed.
 */
export interface IntentProblem {
  /** The file at fault (an intent file, the catalogue or the catalogue copy). */
  file: string;
  /** Dotted path inside the file ("es.phrases.12"), or "" for the file as a whole. */
  field: string;
  message: string;
}

/** One intent file's text, as read from disk. */
export interface IntentFileText {
  file: string;
  text: string;
}

/** A parsed intent together with the file it came from. */
export interface ParsedIntent {
  file: string;
  intent: IntentDefinition;
}

/** The catalogue copy kept beside the intents, for when the catalogue itself cannot be read. */
export const CATALOGUE_COPY_NAME = 'catalogue-ids.json';

export const catalogueCopySchema = z
  .object({
    description: z.string().optional(),
    ids: z.array(intentIdSchema).min(1),
  })
  .strict();
export type CatalogueCopy = z.infer<typeof catalogueCopySchema>;

export interface PhraseMinimums {
  en: number;
  es: number;
}
export const DEFAULT_MINIMUMS: PhraseMinimums = { en: 40, es: 25 };

// --- (a) parsing ------------------------------------------------------------------------------

/** Parses every file with parseIntentFile; a file that fails becomes a problem naming file and field. */
export function parseIntentFiles(files: readonly IntentFileText[]): { intents: ParsedIntent[]; problems: IntentProblem[] } {
  const intents: ParsedIntent[] = [];
  const problems: IntentProblem[] = [];
  for (const { file, text } of files) {
    try {
      intents.push({ file, intent: parseIntentFile(file, text) });
    } catch (error) {
      if (!(error instanceof IntentFileError)) throw error;
      problems.push({ file: error.file, field: error.field, message: error.problem });
    }
  }
  return { intents, problems };
}

// --- (b) catalogue ids ------------------------------------------------------------------------

/**
 * The intent ids of the catalogue's Markdown table: the first column of the table whose header's
 * first cell is "id". Throws when no such table (or no id in it) is found.
 */
export function parseCatalogueIds(markdown: string): string[] {
  const ids: string[] = [];
  let inTable = false;
  for (const line of markdown.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('|')) {
      if (inTable && ids.length > 0) break;
      inTable = false;
      continue;
    }
    const first = trimmed.slice(1).split('|')[0]?.trim().replace(/^`|`$/g, '') ?? '';
    if (!inTable) {
      inTable = first.toLowerCase() === 'id';
      continue;
    }
    if (/^:?-+:?$/.test(first)) continue;
    if (!intentIdSchema.safeParse(first).success) throw new Error(`the catalogue table has a row whose id "${first}" is not an intent id`);
    ids.push(first);
  }
  if (ids.length === 0) throw new Error('no table with an "id" column was found');
  return ids;
}

/**
 * Missing ids (in the catalogue, with no file) and unknown ids (a file whose id the catalogue lacks).
 * `unparsedFiles` are files that failed to parse: an id whose `<id>.json` is among them is not
 * reported missing (its parse error is already reported).
 */
export function checkCatalogueIds(
  intents: readonly ParsedIntent[],
  catalogueIds: readonly string[],
  catalogueFile: string,
  unparsedFiles: readonly string[] = [],
): IntentProblem[] {
  const problems: IntentProblem[] = [];
  const wanted = new Set(catalogueIds);
  const present = new Set<string>();
  for (const { file, intent } of intents) {
    if (present.has(intent.id)) problems.push({ file, field: 'id', message: `the id "${intent.id}" is used by more than one file` });
    present.add(intent.id);
    if (!wanted.has(intent.id)) {
      problems.push({ file, field: 'id', message: `unknown id "${intent.id}": it is not in the catalogue (add it there first, then to ${CATALOGUE_COPY_NAME})` });
    }
  }
  const unparsed = new Set(unparsedFiles.map((file) => path.basename(file)));
  for (const id of catalogueIds) {
    if (!present.has(id) && !unparsed.has(`${id}.json`)) problems.push({ file: catalogueFile, field: 'id', message: `missing intent: the catalogue lists "${id}" but there is no ${id}.json` });
  }
  return problems;
}

/** The copy in intents/catalogue-ids.json must hold exactly the catalogue's ids. */
export function checkCatalogueCopy(copyIds: readonly string[], catalogueIds: readonly string[], copyFile: string): IntentProblem[] {
  const problems: IntentProblem[] = [];
  const copy = new Set(copyIds);
  const catalogue = new Set(catalogueIds);
  const missing = catalogueIds.filter((id) => !copy.has(id));
  const extra = copyIds.filter((id) => !catalogue.has(id));
  if (missing.length > 0) problems.push({ file: copyFile, field: 'ids', message: `out of date: lacks ${missing.map((id) => `"${id}"`).join(', ')} from the catalogue` });
  if (extra.length > 0) problems.push({ file: copyFile, field: 'ids', message: `out of date: has ${extra.map((id) => `"${id}"`).join(', ')}, which the catalogue does not list` });
  if (copy.size !== copyIds.length) problems.push({ file: copyFile, field: 'ids', message: 'lists an id more than once' });
  return problems;
}

/** Parses the text of intents/catalogue-ids.json; a bad copy throws IntentFileError naming the field. */
export function parseCatalogueCopy(file: string, text: string): CatalogueCopy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new IntentFileError(file, '', `is not valid JSON (${(error as Error).message})`);
  }
  const parsed = catalogueCopySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IntentFileError(file, issue?.path.join('.') ?? '', issue?.message ?? 'is not a valid catalogue copy');
  }
  return parsed.data;
}

// --- (c) duplicate phrases --------------------------------------------------------------------

/** Lower case, punctuation dropped, spaces collapsed: two phrases equal under this are duplicates. */
export function normalisePhrase(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}{}]+/gu, ' ')
    .trim();
}

/**
 * A phrase (normalised) under two intents of the same language is an error naming both files; the
 * same phrase twice inside one intent is reported too (it only skews training).
 */
export function checkDuplicatePhrases(intents: readonly ParsedIntent[]): IntentProblem[] {
  const problems: IntentProblem[] = [];
  for (const language of LANGUAGES) {
    const seen = new Map<string, { file: string; id: string; field: string }>();
    for (const { file, intent } of intents) {
      intent[language].phrases.forEach((phrase, index) => {
        const key = normalisePhrase(phrase);
        const field = `${language}.phrases.${index}`;
        const first = seen.get(key);
        if (!first) {
          seen.set(key, { file, id: intent.id, field });
          return;
        }
        const where = first.id === intent.id ? `already at ${first.field} of the same intent` : `also under "${first.id}" in ${first.file} (${first.field})`;
        problems.push({ file, field, message: `duplicate ${language} phrase "${phrase}": ${where}` });
      });
    }
  }
  return problems;
}

// --- (d) counts -------------------------------------------------------------------------------

export function checkPhraseCounts(intents: readonly ParsedIntent[], minimums: PhraseMinimums = DEFAULT_MINIMUMS): IntentProblem[] {
  const problems: IntentProblem[] = [];
  for (const { file, intent } of intents) {
    for (const language of LANGUAGES) {
      const count = new Set(intent[language].phrases.map(normalisePhrase)).size;
      if (count < minimums[language]) {
        problems.push({ file, field: `${language}.phrases`, message: `too few phrases: ${count} distinct, at least ${minimums[language]} are needed` });
      }
    }
  }
  return problems;
}

// --- (e) answers ------------------------------------------------------------------------------

/**
 * Every answer present in both languages. The schema already refuses an empty answer (with file and
 * field); this also catches an answer left untranslated: the same text in both languages, or an
 * answer that reads as the other language.
 */
export function checkAnswers(intents: readonly ParsedIntent[]): IntentProblem[] {
  const problems: IntentProblem[] = [];
  for (const { file, intent } of intents) {
    for (const language of LANGUAGES) {
      const answer = intent[language].answer.trim();
      if (answer.length === 0) {
        problems.push({ file, field: `${language}.answer`, message: 'the answer is missing' });
        continue;
      }
      const other: Language = language === 'en' ? 'es' : 'en';
      if (language === 'es' && answer === intent.en.answer.trim()) {
        problems.push({ file, field: 'es.answer', message: 'the Spanish answer is the English one: translate it' });
      } else if (detectLanguage(answer.replace(/\{brand\}/g, ' '), language) === other) {
        problems.push({ file, field: `${language}.answer`, message: `the ${language === 'en' ? 'English' : 'Spanish'} answer does not read as ${language === 'en' ? 'English' : 'Spanish'}` });
      }
    }
  }
  return problems;
}

// --- (f) cross-validation ---------------------------------------------------------------------

export interface IntentAccuracy {
  intent: string;
  n: number;
  correct: number;
  accuracy: number;
}

export interface ConfusedPair {
  /** The intent the phrase belongs to. */
  expected: string;
  /** The intent the model chose instead ("(none)" when it returned nothing). */
  predicted: string;
  count: number;
}

export interface LanguageCrossValidation {
  language: Language;
  n: number;
  correct: number;
  accuracy: number;
  perIntent: IntentAccuracy[];
  confusedPairs: ConfusedPair[];
}

export interface CrossValidationReport {
  folds: number;
  seed: number;
  version: string;
  languages: LanguageCrossValidation[];
}

export interface CrossValidationOptions {
  folds?: number;
  seed?: number;
  brand?: string;
  /** How many confused pairs to keep per language. */
  topPairs?: number;
  /** The trainer (the shipped one, trainClassifier, in the script). */
  train: (phrases: readonly LabelledPhrase[]) => Promise<IntentClassifier>;
}

const NONE = '(none)';

/**
 * Stratified k-fold: the phrases of each (language, intent) are shuffled with a seeded PRNG and dealt
 * round-robin into k folds, so every fold holds about 1/k of every intent in both languages. Each
 * fold is classified by a model trained on the other k-1 folds (both languages together, as shipped);
 * the prediction is the top intent, whatever its confidence.
 */
export async function crossValidate(intents: readonly IntentDefinition[], options: CrossValidationOptions): Promise<CrossValidationReport> {
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 42;
  const topPairs = options.topPairs ?? 10;
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`folds must be an integer of at least 2, got ${folds}`);
  const phrases = phrasesFromIntents(intents, options.brand ?? 'Melodrift');
  const foldOf = assignFolds(phrases, folds, seed);
  const predicted: string[] = new Array<string>(phrases.length).fill(NONE);
  let version = '';
  for (let fold = 0; fold < folds; fold++) {
    const training = phrases.filter((_, i) => foldOf[i] !== fold);
    const classifier = await options.train(training);
    version = classifier.version;
    phrases.forEach((phrase, i) => {
      if (foldOf[i] !== fold) return;
      predicted[i] = classifier.classify(phrase.text, phrase.language)[0]?.intent ?? NONE;
    });
  }
  const languages = LANGUAGES.map((language) => summarise(language, phrases, predicted, topPairs));
  return { folds, seed, version, languages };
}

function summarise(language: Language, phrases: readonly LabelledPhrase[], predicted: readonly string[], topPairs: number): LanguageCrossValidation {
  const perIntent = new Map<string, { n: number; correct: number }>();
  const pairs = new Map<string, ConfusedPair>();
  let n = 0;
  let correct = 0;
  phrases.forEach((phrase, i) => {
    if (phrase.language !== language) return;
    const guess = predicted[i] ?? NONE;
    const entry = perIntent.get(phrase.intent) ?? { n: 0, correct: 0 };
    perIntent.set(phrase.intent, entry);
    entry.n++;
    n++;
    if (guess === phrase.intent) {
      entry.correct++;
      correct++;
      return;
    }
    const key = `${phrase.intent}\u0000${guess}`;
    const pair = pairs.get(key) ?? { expected: phrase.intent, predicted: guess, count: 0 };
    pair.count++;
    pairs.set(key, pair);
  });
  return {
    language,
    n,
    correct,
    accuracy: n === 0 ? 0 : correct / n,
    perIntent: [...perIntent.entries()]
      .map(([intent, e]) => ({ intent, n: e.n, correct: e.correct, accuracy: e.correct / e.n }))
      .sort((a, b) => a.intent.localeCompare(b.intent)),
    confusedPairs: [...pairs.values()]
      .sort((a, b) => b.count - a.count || a.expected.localeCompare(b.expected) || a.predicted.localeCompare(b.predicted))
      .slice(0, topPairs),
  };
}

function assignFolds(phrases: readonly LabelledPhrase[], folds: number, seed: number): Int32Array {
  const groups = new Map<string, number[]>();
  phrases.forEach((phrase, i) => {
    const key = `${phrase.language}\u0000${phrase.intent}`;
    const group = groups.get(key) ?? [];
    group.push(i);
    groups.set(key, group);
  });
  const random = seededRandom(seed);
  const foldOf = new Int32Array(phrases.length);
  let offset = 0;
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key) ?? [];
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j] as number, group[i] as number];
    }
    // Start each group at a different fold so the remainders do not all land in fold 0.
    group.forEach((index, position) => {
      foldOf[index] = (position + offset) % folds;
    });
    offset += group.length;
  }
  return foldOf;
}

/** A small deterministic PRNG (xorshift32): the same seed gives the same folds everywhere. */
function seededRandom(seed: number): () => number {
  let state = (seed >>> 0) || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

// --- everything -------------------------------------------------------------------------------

export interface StaticCheckInput {
  files: readonly IntentFileText[];
  catalogueIds: readonly string[];
  catalogueFile: string;
  minimums?: PhraseMinimums;
}

/** Checks (a) to (e) in order; returns the parsed intents for the cross-validation. */
export function checkIntentFiles(input: StaticCheckInput): { intents: ParsedIntent[]; problems: IntentProblem[] } {
  const { intents, problems } = parseIntentFiles(input.files);
  const parsed = new Set(intents.map((intent) => intent.file));
  const unparsed = input.files.map((file) => file.file).filter((file) => !parsed.has(file));
  problems.push(
    ...checkCatalogueIds(intents, input.catalogueIds, input.catalogueFile, unparsed),
    ...checkDuplicatePhrases(intents),
    ...checkPhraseCounts(intents, input.minimums),
    ...checkAnswers(intents),
  );
  return { intents, problems };
}

/** "file: field "x": message", the way IntentFileError words it. */
export function formatProblem(problem: IntentProblem): string {
  return `${problem.file}: ${problem.field ? `field "${problem.field}"` : 'file'}: ${problem.message}`;
}
