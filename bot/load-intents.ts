import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { intentFileSchema, type IntentDefinition } from './intent-schema.js';
import type { ZodError } from 'zod';

export class IntentFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field ? `field "${field}"` : 'file'}: ${problem}`);
    this.name = 'IntentFileError';
  }
}

function firstIssue(file: string, error: ZodError): IntentFileError {
  const issue = error.issues[0];
  if (!issue) return new IntentFileError(file, '', 'is not a valid intent file');
  return new IntentFileError(file, issue.path.join('.'), issue.message);
}

/** Parses one intent file's text; throws IntentFileError naming the file and the field. */
export function parseIntentFile(file: string, text: string): IntentDefinition {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new IntentFileError(file, '', `is not valid JSON (${(error as Error).message})`);
  }
  const parsed = intentFileSchema.safeParse(json);
  if (!parsed.success) throw firstIssue(file, parsed.error);
  const expectedName = `${parsed.data.id}.json`;
  if (path.basename(file) !== expectedName) {
    throw new IntentFileError(file, 'id', `the id "${parsed.data.id}" must match the file name (${expectedName})`);
  }
  return parsed.data;
}

/** Intent files are named `<area>.<name>.json`; other files in the folder (the catalogue id list) are not intents. */
export const INTENT_FILE_NAME = /^[a-z]+\.[a-z_]+\.json$/;

/** Loads every intent file of a folder, sorted by id so training is deterministic. */
export async function loadIntents(dir: string): Promise<IntentDefinition[]> {
  const names = (await readdir(dir)).filter((name) => INTENT_FILE_NAME.test(name)).sort();
  const intents: IntentDefinition[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    intents.push(parseIntentFile(file, await readFile(file, 'utf8')));
  }
  if (intents.length === 0) throw new IntentFileError(dir, '', 'holds no intent files');
  return intents;
}
