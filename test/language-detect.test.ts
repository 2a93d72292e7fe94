import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Language } from '../bot/language.js';
import { detectLanguage } from '../bot/language-detect.js';
import { INTENT_FILE_NAME, parseIntentFile } from '../bot/load-intents.js';
import { withBrand } from '../bot/training-data.js';

interface Sample {
  text: string;
  language: Language;
}

const other = (language: Language): Language => (language === 'en' ? 'es' : 'en');

function cataloguePhrases(): Sample[] {
  const samples: Sample[] = [];
  for (const name of readdirSync('intents').filter((n) => INTENT_FILE_NAME.test(n)).sort()) {
    const file = path.join('intents', name);
    const intent = parseIntentFile(file, readFileSync(file, 'utf8'));
    for (const language of ['en', 'es'] as const) {
      for (const text of intent[language].phrases) samples.push({ text: withBrand(text, 'Melodrift'), language });
    }
  }
  return samples;
}

function heldOutMessages(): Sample[] {
  const samples: Sample[] = [];
  for (const name of readdirSync('test/fixtures').filter((n) => /^heldout-.*\.(en|es)\.jsonl$/.test(n)).sort()) {
    const language: Language = name.endsWith('.es.jsonl') ? 'es' : 'en';
    for (const line of readFileSync(path.join('test/fixtures', name), 'utf8').split('\n')) {
      if (line.trim()) samples.push({ text: (JSON.parse(line) as { text: string }).text, language });
    }
  }
  return samples;
}

/** Accuracy with the fallback set to the other language, so a fallback always counts as wrong. */
function accuracy(samples: readonly Sample[], language: Language): number {
  const mine = samples.filter((s) => s.language === language);
  const right = mine.filter((s) => detectLanguage(s.text, other(s.language)) === s.language).length;
  return right / mine.length;
}

describe('detectLanguage', () => {
  it('is right on at least 97% of the catalogue phrases in each language, fallbacks counted as wrong', () => {
    const samples = cataloguePhrases();
    expect(samples.length).toBeGreaterThan(2500);
    expect(accuracy(samples, 'en')).toBeGreaterThanOrEqual(0.97);
    expect(accuracy(samples, 'es')).toBeGreaterThanOrEqual(0.97);
    const all = samples.filter((s) => detectLanguage(s.text, other(s.language)) === s.language).length / samples.length;
    expect(all).toBeGreaterThanOrEqual(0.97);
  });

  it('holds up on the held-out messages too (which its word lists were not written from)', () => {
    const samples = heldOutMessages();
    expect(samples.length).toBeGreaterThan(500);
    expect(accuracy(samples, 'en')).toBeGreaterThanOrEqual(0.95);
    expect(accuracy(samples, 'es')).toBeGreaterThanOrEqual(0.95);
  });

  it.each([
    ['hola', 'es'],
    ['gracias', 'es'],
    ['buenas tardes', 'es'],
    ['¿me ayudas?', 'es'],
    ['no puedo entrar a mi cuenta', 'es'],
    ['cancelar suscripción', 'es'],
    ['me cobraron dos veces', 'es'],
    ['quiero hablar con una persona', 'es'],
    ['la musica se corta', 'es'],
    ['hi', 'en'],
    ['thanks', 'en'],
    ['good morning', 'en'],
    ["I can't log in", 'en'],
    ['cancel my subscription', 'en'],
    ['I was charged twice', 'en'],
    ['talk to a human', 'en'],
    ['my downloads are not working', 'en'],
    ['THE APP KEEPS CRASHING', 'en'],
    ['ESTO NO FUNCIONA', 'es'],
  ] as const)('"%s" is %s whatever the fallback', (text, expected) => {
    expect(detectLanguage(text, 'en')).toBe(expected);
    expect(detectLanguage(text, 'es')).toBe(expected);
  });

  it.each(['ok', 'OK', 'Premium', 'iPhone 13', 'PayPal', '123', '10,99 €', '👍', '😡😡', '???', '', '   ', 'no', 'Melodrift'])(
    'falls back on weak evidence: "%s"',
    (text) => {
      expect(detectLanguage(text, 'en')).toBe('en');
      expect(detectLanguage(text, 'es')).toBe('es');
    },
  );

  it('does not let one accented name decide, but does let Spanish punctuation decide', () => {
    expect(detectLanguage('Beyoncé', 'en')).toBe('en');
    expect(detectLanguage('play Beyoncé please', 'es')).toBe('en');
    expect(detectLanguage('¿?', 'en')).toBe('es');
  });

  it('reads stretched words and contractions', () => {
    expect(detectLanguage('holaaa', 'en')).toBe('es');
    expect(detectLanguage('heyyy', 'es')).toBe('en');
    expect(detectLanguage("it's broken", 'es')).toBe('en');
  });

  it('is deterministic', () => {
    const text = 'no me deja descargar canciones';
    const first = detectLanguage(text, 'en');
    for (let i = 0; i < 100; i++) expect(detectLanguage(text, 'en')).toBe(first);
  });
});
