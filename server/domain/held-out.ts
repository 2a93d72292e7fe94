import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { LabelledPhrase } from '../../bot/classifier.js';
import { readJsonl } from '../../bot/engine/index.js';

/** Every `heldout-*.{en,es}.jsonl` of a folder; the language comes from the file name. */
export async function readHeldOut(dir: string): Promise<LabelledPhrase[]> {
  const names = (await readdir(dir)).filter((name) => /^heldout-.+\.(en|es)\.jsonl$/.test(name)).sort();
  const phrases: LabelledPhrase[] = [];
  for (const name of names) {
    const language = name.endsWith('.es.jsonl') ? 'es' : 'en';
    phrases.push(...(await readJsonl(path.join(dir, name))).map((p) => ({ ...p, language }) as LabelledPhrase));
  }
  return phrases;
}
