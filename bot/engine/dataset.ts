import { readFile } from 'node:fs/promises';
import type { LabelledPhrase } from '../classifier.js';
import { languageSchema } from '../language.js';
import { EngineError } from './errors.js';

/** Crude Spanish detector for JSONL lines without a "language" field: accents, ¿ ¡ or common Spanish words. */
export function guessLanguage(text: string): 'en' | 'es' {
  const lower = text.toLowerCase();
  if (/[¿¡ñ]|[áéíóú]/.test(lower)) return 'es';
  const words = lower.split(/[^\p{L}]+/u);
  const spanish = new Set(['el', 'la', 'los', 'las', 'que', 'mi', 'por', 'para', 'con', 'una', 'es', 'cuenta', 'tarjeta', 'pago', 'quiero', 'como', 'cómo', 'qué', 'no', 'me', 'de']);
  const english = new Set(['the', 'my', 'i', 'is', 'to', 'a', 'and', 'of', 'you', 'it', 'do', 'how', 'what', 'can', 'on', 'for', 'me', 'no']);
  let es = 0;
  let en = 0;
  for (const w of words) {
    if (spanish.has(w)) es++;
    if (english.has(w)) en++;
  }
  return es > en ? 'es' : 'en';
}

/**
 * Parses JSONL text of `{"text", "intent", "language"?}` lines. Blank lines are skipped; every
 * problem throws EngineError DATASET_INVALID naming the file and the 1-based line.
 */
export function parseJsonl(file: string, content: string, options: { detectLanguage?: boolean } = {}): LabelledPhrase[] {
  const phrases: LabelledPhrase[] = [];
  const lines = content.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new EngineError('DATASET_INVALID', `${where}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EngineError('DATASET_INVALID', `${where}: expected a JSON object`);
    const record = value as Record<string, unknown>;
    if (typeof record.text !== 'string') throw new EngineError('DATASET_INVALID', `${where}: missing field "text" (a string)`);
    if (typeof record.intent !== 'string' || record.intent.length === 0) throw new EngineError('DATASET_INVALID', `${where}: missing field "intent" (a non-empty string)`);
    let language: LabelledPhrase['language'];
    if (record.language === undefined) language = options.detectLanguage ? guessLanguage(record.text) : 'en';
    else {
      const parsed = languageSchema.safeParse(record.language);
      if (!parsed.success) throw new EngineError('DATASET_INVALID', `${where}: field "language" must be "en" or "es"`);
      language = parsed.data;
    }
    phrases.push({ text: record.text, intent: record.intent, language });
  });
  if (phrases.length === 0) throw new EngineError('DATASET_INVALID', `${file}: file is empty (no JSONL line)`);
  return phrases;
}

export async function readJsonl(file: string, options: { detectLanguage?: boolean } = {}): Promise<LabelledPhrase[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new EngineError('DATASET_INVALID', `${file}: cannot read file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseJsonl(file, content, options);
}
