import natural from 'natural';
import type { Language } from '../language.js';

const { PorterStemmer, PorterStemmerEs, RegexpTokenizer } = natural;

/** Splits on anything that is not a letter or a digit, in any script (keeps á, ñ, ü...). */
const tokenizer = new RegexpTokenizer({ pattern: /[^\p{L}\p{N}]+/u });

type StemFn = (token: string) => string;

const STEMMERS: Record<Language, StemFn> = {
  en: (token) => PorterStemmer.stem(token),
  es: (token) => PorterStemmerEs.stem(token),
};

/** Lower case, Unicode-normalised (NFKC), curly apostrophes folded, whitespace collapsed. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[\u2018\u2019\u02bc]/g, "'").replace(/\s+/g, ' ').trim();
}

/** Word tokens of normalised text (stop words are kept: short phrases need them). */
export function tokenize(normalised: string): string[] {
  return tokenizer.tokenize(normalised).filter((token) => token.length > 0);
}

const CACHE_LIMIT = 100_000;
const stemCache: Record<Language, Map<string, string>> = { en: new Map(), es: new Map() };

/** Stems one token with the stemmer of the phrase's language (Porter for English, Spanish Porter for Spanish). */
export function stemToken(token: string, language: Language): string {
  const cache = stemCache[language];
  const cached = cache.get(token);
  if (cached !== undefined) return cached;
  const stem = /^\p{N}+$/u.test(token) ? token : STEMMERS[language](token);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(token, stem);
  return stem;
}

export interface Analysed {
  /** Unstemmed tokens, lower case. */
  tokens: string[];
  /** Stems in the same order. */
  stems: string[];
  /** Whitespace-separated chunks of the normalised text (punctuation kept), for character n-grams. */
  chunks: string[];
}

/** Normalises, tokenises and stems one phrase in its language. */
export function analyse(text: string, language: Language): Analysed {
  const normalised = normaliseText(text);
  const tokens = tokenize(normalised);
  const stems = tokens.map((token) => stemToken(token, language));
  const chunks = normalised.length === 0 ? [] : normalised.split(' ');
  return { tokens, stems, chunks };
}
