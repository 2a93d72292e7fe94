import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IntentClassifier, LabelledPhrase } from '../bot/classifier.js';
import type { IntentDefinition } from '../bot/intent-schema.js';
import {
  checkAnswers,
  checkCatalogueCopy,
  checkCatalogueIds,
  checkDuplicatePhrases,
  checkIntentFiles,
  checkPhraseCounts,
  crossValidate,
  normalisePhrase,
  parseCatalogueCopy,
  parseCatalogueIds,
  parseIntentFiles,
  type IntentFileText,
  type ParsedIntent,
} from '../bot/intent-checks.js';
import { INTENT_FILE_NAME, parseIntentFile } from '../bot/load-intents.js';

const CATALOGUE = path.join('..', 'shared', 'intent-catalogue.md');
const COPY = path.join('intents', 'catalogue-ids.json');

function shippedFiles(): IntentFileText[] {
  return readdirSync('intents')
    .filter((name) => INTENT_FILE_NAME.test(name))
    .sort()
    .map((name) => ({ file: path.join('intents', name), text: readFileSync(path.join('intents', name), 'utf8') }));
}

function shipped(id: string): IntentDefinition {
  const file = path.join('intents', `${id}.json`);
  return parseIntentFile(file, readFileSync(file, 'utf8'));
}

const parsed = (intent: IntentDefinition): ParsedIntent => ({ file: `intents/${intent.id}.json`, intent });

/** n made-up phrases per language, unique to the intent. */
function synthetic(id: string, n: { en: number; es: number }): IntentDefinition {
  const base = shipped('billing.receipt');
  return {
    ...base,
    id,
    en: { ...base.en, phrases: Array.from({ length: n.en }, (_, i) => `${id} english phrase ${i}`) },
    es: { ...base.es, phrases: Array.from({ length: n.es }, (_, i) => `${id} frase en español ${i}`) },
  };
}

const catalogueIds = (): string[] =>
  existsSync(CATALOGUE) ? parseCatalogueIds(readFileSync(CATALOGUE, 'utf8')) : parseCatalogueCopy(COPY, readFileSync(COPY, 'utf8')).ids;

describe('intent checks on the shipped files', () => {
  it('finds no problem in the shipped intents', () => {
    const { intents, problems } = checkIntentFiles({ files: shippedFiles(), catalogueIds: catalogueIds(), catalogueFile: CATALOGUE });
    expect(problems).toEqual([]);
    expect(intents.length).toBe(catalogueIds().length);
  });

  it.skipIf(!existsSync(CATALOGUE))('keeps intents/catalogue-ids.json equal to the catalogue', () => {
    const copy = parseCatalogueCopy(COPY, readFileSync(COPY, 'utf8'));
    expect(checkCatalogueCopy(copy.ids, catalogueIds(), COPY)).toEqual([]);
    expect([...copy.ids].sort()).toEqual([...catalogueIds()].sort());
  });
});

describe('parseCatalogueIds', () => {
  it('reads the first column of the id table', () => {
    const markdown = ['# Catalogue', '', 'Some text | with a bar.', '', '| id | wants | policy |', '| --- | --- | --- |', '| billing.receipt | a receipt | answer |', '| `meta.thanks` | thanks | answer |', '', 'After.'].join('\n');
    expect(parseCatalogueIds(markdown)).toEqual(['billing.receipt', 'meta.thanks']);
  });

  it('refuses a text without an id table', () => {
    expect(() => parseCatalogueIds('# nothing here')).toThrowError(/no table/);
  });
});

describe('parseIntentFiles (schema)', () => {
  it('an empty Spanish answer fails the schema with the file and the field', () => {
    const intent = shipped('billing.receipt');
    const text = JSON.stringify({ ...intent, es: { ...intent.es, answer: '' } });
    const { intents, problems } = parseIntentFiles([{ file: 'intents/billing.receipt.json', text }]);
    expect(intents).toEqual([]);
    expect(problems).toEqual([{ file: 'intents/billing.receipt.json', field: 'es.answer', message: expect.stringMatching(/must not be empty/) }]);
  });

  it('a missing Spanish block, or broken JSON, names the file', () => {
    const { es: _dropped, ...withoutSpanish } = shipped('billing.receipt');
    const result = parseIntentFiles([
      { file: 'intents/billing.receipt.json', text: JSON.stringify(withoutSpanish) },
      { file: 'intents/meta.thanks.json', text: '{oops' },
    ]);
    expect(result.problems[0]).toMatchObject({ file: 'intents/billing.receipt.json', field: 'es' });
    expect(result.problems[1]).toMatchObject({ file: 'intents/meta.thanks.json', field: '', message: expect.stringMatching(/not valid JSON/) });
  });

  it('a file that fails to parse is not also reported as a missing id', () => {
    const files = shippedFiles().map((f) => (f.file.endsWith('billing.receipt.json') ? { ...f, text: '{}' } : f));
    const { problems } = checkIntentFiles({ files, catalogueIds: catalogueIds(), catalogueFile: CATALOGUE });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file).toBe(path.join('intents', 'billing.receipt.json'));
  });
});

describe('checkCatalogueIds', () => {
  const intents = [parsed(shipped('billing.receipt')), parsed(shipped('meta.thanks'))];

  it('reports a catalogue id with no file as missing', () => {
    const problems = checkCatalogueIds(intents, ['billing.receipt', 'meta.thanks', 'meta.goodbye'], CATALOGUE);
    expect(problems).toEqual([{ file: CATALOGUE, field: 'id', message: expect.stringMatching(/missing intent.*"meta\.goodbye"/) }]);
  });

  it('reports a file whose id the catalogue lacks as unknown', () => {
    const problems = checkCatalogueIds([...intents, parsed(synthetic('billing.crypto_refund', { en: 40, es: 25 }))], ['billing.receipt', 'meta.thanks'], CATALOGUE);
    expect(problems).toEqual([{ file: 'intents/billing.crypto_refund.json', field: 'id', message: expect.stringMatching(/unknown id "billing\.crypto_refund"/) }]);
  });

  it('notices a stale catalogue copy', () => {
    const problems = checkCatalogueCopy(['billing.receipt', 'meta.old'], ['billing.receipt', 'meta.thanks'], COPY);
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/lacks "meta\.thanks"/), expect.stringMatching(/has "meta\.old"/)]);
  });
});

describe('checkDuplicatePhrases', () => {
  it('catches one phrase under two intents (case, punctuation and spaces ignored), naming both files', () => {
    const greeting = shipped('meta.greeting');
    const thanks = shipped('meta.thanks');
    const withCopy = { ...thanks, en: { ...thanks.en, phrases: [...thanks.en.phrases, '  HELLO,   there!! '] } };
    const problems = checkDuplicatePhrases([parsed(greeting), parsed(withCopy)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'intents/meta.thanks.json', field: `en.phrases.${thanks.en.phrases.length}` });
    expect(problems[0]?.message).toMatch(/meta\.greeting/);
    expect(problems[0]?.message).toMatch(/intents\/meta\.greeting\.json/);
  });

  it('compares within one language only', () => {
    const a = synthetic('billing.receipt', { en: 40, es: 25 });
    const b = synthetic('meta.thanks', { en: 40, es: 25 });
    const shared = { ...b, es: { ...b.es, phrases: [...b.es.phrases, a.en.phrases[0] ?? ''] } };
    expect(checkDuplicatePhrases([parsed(a), parsed(shared)])).toEqual([]);
  });

  it('normalises phrases', () => {
    expect(normalisePhrase('  ¿Cómo   CANCELO?  ')).toBe('cómo cancelo');
    expect(normalisePhrase('hello {brand}!')).toBe('hello {brand}');
  });
});

describe('checkPhraseCounts', () => {
  it('asks for at least 40 English and 25 Spanish phrases', () => {
    expect(checkPhraseCounts([parsed(synthetic('billing.receipt', { en: 40, es: 25 }))])).toEqual([]);
    const problems = checkPhraseCounts([parsed(synthetic('billing.receipt', { en: 39, es: 10 }))]);
    expect(problems).toEqual([
      { file: 'intents/billing.receipt.json', field: 'en.phrases', message: expect.stringMatching(/too few phrases: 39.*40/) },
      { file: 'intents/billing.receipt.json', field: 'es.phrases', message: expect.stringMatching(/too few phrases: 10.*25/) },
    ]);
  });

  it('counts duplicates within an intent once', () => {
    const intent = synthetic('billing.receipt', { en: 39, es: 25 });
    const padded = { ...intent, en: { ...intent.en, phrases: [...intent.en.phrases, intent.en.phrases[0] ?? ''] } };
    expect(checkPhraseCounts([parsed(padded)])).toHaveLength(1);
  });
});

describe('checkAnswers', () => {
  it('passes the shipped answers and catches an untranslated one', () => {
    const intent = shipped('billing.receipt');
    expect(checkAnswers([parsed(intent)])).toEqual([]);
    const untranslated = { ...intent, es: { ...intent.es, answer: intent.en.answer } };
    expect(checkAnswers([parsed(untranslated)])).toEqual([{ file: 'intents/billing.receipt.json', field: 'es.answer', message: expect.stringMatching(/translate/) }]);
    const swapped = { ...intent, en: { ...intent.en, answer: intent.es.answer }, es: { ...intent.es, answer: intent.en.answer } };
    expect(checkAnswers([parsed(swapped)]).map((p) => p.field)).toEqual(['en.answer', 'es.answer']);
  });
});

describe('crossValidate', () => {
  /** A stand-in trainer: remembers the training phrases and predicts by exact text, else the first intent seen. */
  const memorising = (seen: LabelledPhrase[][]) => async (phrases: readonly LabelledPhrase[]): Promise<IntentClassifier> => {
    seen.push([...phrases]);
    const byText = new Map(phrases.map((p) => [`${p.language}:${p.text}`, p.intent]));
    const fallback = phrases[0]?.intent ?? 'none';
    return {
      version: 'memorising',
      thresholds: { minConfidence: 0, minMargin: 0 },
      classify: (text, language) => [{ intent: byText.get(`${language}:${text}`) ?? fallback, confidence: 1 }],
    };
  };

  const intents = [synthetic('billing.receipt', { en: 10, es: 5 }), synthetic('meta.thanks', { en: 10, es: 5 })];

  it('tests every phrase once, on a model that never saw it, with stratified folds', async () => {
    const seen: LabelledPhrase[][] = [];
    const report = await crossValidate(intents, { folds: 5, seed: 7, train: memorising(seen) });
    expect(seen).toHaveLength(5);
    // Each fold leaves out 1/5 of every (language, intent): 2 English and 1 Spanish phrase of each intent.
    for (const training of seen) {
      expect(training).toHaveLength(30 - 6);
      for (const intent of ['billing.receipt', 'meta.thanks']) {
        expect(training.filter((p) => p.intent === intent && p.language === 'en')).toHaveLength(8);
        expect(training.filter((p) => p.intent === intent && p.language === 'es')).toHaveLength(4);
      }
    }
    const en = report.languages.find((l) => l.language === 'en');
    expect(en?.n).toBe(20);
    // The memorising model never saw the test phrase, so it always says the first training intent.
    expect(en?.correct).toBe(10);
    expect(en?.confusedPairs).toEqual([{ expected: 'meta.thanks', predicted: 'billing.receipt', count: 10 }]);
    expect(en?.perIntent.map((row) => [row.intent, row.accuracy])).toEqual([
      ['billing.receipt', 1],
      ['meta.thanks', 0],
    ]);
  });

  it('gives the same folds for the same seed', async () => {
    const a: LabelledPhrase[][] = [];
    const b: LabelledPhrase[][] = [];
    await crossValidate(intents, { seed: 3, train: memorising(a) });
    await crossValidate(intents, { seed: 3, train: memorising(b) });
    expect(a).toEqual(b);
  });

  it('runs with the shipped trainer on a few real intents', async () => {
    const { trainClassifier } = await import('../bot/train-classifier.js');
    const real = ['billing.receipt', 'meta.thanks', 'troubleshooting.login_problem'].map(shipped);
    const report = await crossValidate(real, { train: async (phrases) => (await trainClassifier(phrases)).classifier });
    for (const language of report.languages) expect(language.accuracy).toBeGreaterThan(0.8);
  }, 60_000);
});
