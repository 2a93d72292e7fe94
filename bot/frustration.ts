import natural from 'natural';
import type { Language } from './language.js';

/** What assessFrustration found: the verdict, its points and the names of the signals that fired. */
export interface FrustrationAssessment {
  frustrated: boolean;
  score: number;
  signals: FrustrationSignal[];
}

export type FrustrationSignal = 'explicit_phrase' | 'negative_sentiment' | 'repeated' | 'all_caps' | 'exclamations';

/** Points needed to call a listener frustrated. */
export const FRUSTRATION_THRESHOLD = 2;

/**
 * Decides whether a listener sounds frustrated, from one message and the texts they sent before.
 *
 * The rule: add up points, and the listener is frustrated at 2 points or more.
 * - `explicit_phrase` (2): a frustration phrase or a swear word, in English or Spanish whatever the
 *   conversation's language ("this is useless", "you're not helping", "worst service", "waste of
 *   time", "third time I ask"; "esto no sirve", "no me ayudas", "qué asco de servicio", "estoy
 *   harto", "mierda"...). Matched on whole words, ignoring case, accents and punctuation.
 * - `negative_sentiment` (1): natural's SentimentAnalyzer (English: AFINN, no stemmer; Spanish: its
 *   Spanish AFINN list, then SentiCon for words AFINN lacks) scores each word; a negation flips the
 *   next two words only. Words that merely describe a support problem ("problem", "error", "not
 *   working", "failed", "charged", "lost", "crash", "cancel", "help"...) are left out, so a plain
 *   problem report stays neutral. It fires when the mean polarity per word is -0.1 or lower
 *   (polarities scaled to [-1, 1]) and at least one word is clearly negative (-0.4 or lower).
 * - `repeated` (1, or 2 when sent twice before): the same message, normalised, is among `recentTexts`
 *   (the listener's previous texts, not including this one). Texts under 8 characters ("no", "yes",
 *   "ok") do not count: they answer the bot's questions.
 * - `all_caps` (1): at least 10 letters, 2 words and 70 % of the letters upper case.
 * - `exclamations` (1): a run of three or more `!` / `?` ("!!!", "???", "?!?").
 *
 * Sentiment alone, shouting alone or punctuation alone never makes a listener frustrated; two of
 * them together do, and so does an explicit phrase. "My downloads are not working" scores 0;
 * "THIS APP IS USELESS, third time I ask!!!" scores far above 2.
 */
export function assessFrustration(text: string, language: Language, recentTexts: readonly string[]): FrustrationAssessment {
  const signals: FrustrationSignal[] = [];
  let score = 0;
  const folded = foldForPhrases(text);
  if (EXPLICIT_PHRASES.some((phrase) => folded.includes(phrase)) || ANGRY_EMOJI.test(text)) {
    signals.push('explicit_phrase');
    score += 2;
  }
  if (isNegativeSentiment(text, language)) {
    signals.push('negative_sentiment');
    score += 1;
  }
  const repeats = countRepeats(text, recentTexts);
  if (repeats > 0) {
    signals.push('repeated');
    score += Math.min(repeats, 2);
  }
  if (isShouting(text)) {
    signals.push('all_caps');
    score += 1;
  }
  if (/[!?¡¿]{3,}/.test(text)) {
    signals.push('exclamations');
    score += 1;
  }
  return { frustrated: score >= FRUSTRATION_THRESHOLD, score, signals };
}

// --- explicit phrases -------------------------------------------------------------------------

/** Lower case, accents and apostrophes removed, every other non-letter a space, padded with spaces. */
function foldForPhrases(text: string): string {
  const plain = text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['\u2018\u2019`´]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return ` ${plain} `;
}

const ENGLISH_PHRASES = [
  'useless', 'youre not helping', 'you are not helping', 'not helping at all', 'this is not helping', 'thats not helping',
  'not helpful', 'no help at all', 'you are no help', 'youre no help', 'worst service',
  'worst app', 'worst customer service', 'terrible service', 'awful service', 'horrible service', 'pathetic',
  'ridiculous', 'unacceptable', 'this is a joke', 'what a joke', 'such a joke', 'scam', 'rip off', 'ripoff', 'fed up', 'sick of', 'sick and tired',
  'waste of time', 'waste of money', 'so annoying', 'garbage', 'rubbish', 'i already told you', 'already said that',
  'how many times do i have to', 'how many more times', 'third time', 'for the last time', 'the hell', 'you dont understand', 'stupid bot',
  'dumb bot', 'i hate this', 'hate this app', 'disgusting', 'fuck', 'fucking', 'shit', 'crap', 'bullshit', 'wtf',
  'damn it', 'goddamn',
];

const SPANISH_PHRASES = [
  'esto no sirve', 'no sirve para nada', 'no sirves', 'no me ayudas', 'no me estas ayudando', 'no ayudas',
  'no me ayuda en nada', 'que asco', 'un asco', 'pesimo', 'pesima', 'peor servicio', 'el peor', 'la peor',
  'una verguenza', 'que verguenza', 'estoy harto', 'estoy harta', 'me tienen harto', 'me tienen harta',
  'estoy cansado de', 'estoy cansada de', 'ya te lo dije', 'ya lo dije', 'te lo dije', 'otra vez lo mismo',
  'tercera vez', 'cuantas veces tengo que', 'estafa', 'estafadores', 'inutil', 'una porqueria', 'basura', 'ridiculo',
  'ridicula', 'vergonzoso', 'indignante', 'inaceptable', 'una tomadura de pelo', 'perdida de tiempo',
  'no entiendes nada', 'bot inutil', 'que horror', 'odio esta', 'odio este', 'mierda', 'joder', 'carajo', 'me cago', 'hostia', 'maldita sea', 'wtf',
];

const EXPLICIT_PHRASES = [...new Set([...ENGLISH_PHRASES, ...SPANISH_PHRASES].map(foldForPhrases))];

const ANGRY_EMOJI = /[\u{1F620}\u{1F621}\u{1F624}\u{1F92C}\u{1F595}]/u;

// --- sentiment --------------------------------------------------------------------------------

interface WordScorer {
  /** Polarity of one word in [-1, 1]; 0 when unknown or neutral. */
  polarity(word: string): number;
  isNegation(word: string): boolean;
}

function analyzerScorer(analyzers: readonly { analyzer: natural.SentimentAnalyzer; scale: number }[], negations: readonly string[]): WordScorer {
  const negationSet = new Set(negations);
  return {
    polarity(word: string): number {
      for (const { analyzer, scale } of analyzers) {
        const value = analyzer.getSentiment([word]);
        if (Number.isFinite(value) && value !== 0) return Math.max(-1, Math.min(1, value / scale));
      }
      return 0;
    },
    isNegation: (word) => negationSet.has(word),
  };
}

let scorers: Record<Language, WordScorer> | undefined;

/** Built on first use: the Spanish vocabularies take a few milliseconds to load. */
function scorerFor(language: Language): WordScorer {
  scorers ??= {
    en: analyzerScorer([{ analyzer: new natural.SentimentAnalyzer('English', undefined, 'afinn'), scale: 5 }], ['not', 'no', 'never', "don't", 'dont', "doesn't", 'doesnt', "isn't", 'isnt', "won't", 'wont', "can't", 'cant', 'neither', 'nor']),
    es: analyzerScorer(
      [
        { analyzer: new natural.SentimentAnalyzer('Spanish', undefined, 'afinn'), scale: 5 },
        { analyzer: new natural.SentimentAnalyzer('Spanish', undefined, 'senticon'), scale: 1 },
      ],
      ['no', 'nunca', 'jamás', 'ni', 'tampoco'],
    ),
  };
  return scorers[language];
}

/** Words that describe a support problem or request rather than a feeling. */
const SUPPORT_WORDS = new Set(
  `problem problems issue issues error errors fail fails failed failing failure crash crashes crashed crashing broken break
   breaks stop stops stopped stopping lost lose losing missing miss wrong bug bugs declined decline rejected refused
   charged charge charges cancel cancelled canceled cancelling cancellation hacked hack stuck blocked unavailable empty
   offline disappeared forgot stolen urgent help please pay free want like gift smart quality support accepted accept
   saved save fine
   problema problemas error errores fallo falla fallan falló fallando falta cargo cargos cobro cobrado pagar pago cancelar
   cancelado carga detiene perder perdí perdido rechazado denegado bloqueado bloquear urgente ayuda ayudar favor gratis
   un una solo querer aviso olvido bajo medios nunca poco gris oscuro`.split(/\s+/),
);

const WORDS = /[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu;

function isNegativeSentiment(text: string, language: Language): boolean {
  const scorer = scorerFor(language);
  const words = text.toLowerCase().replace(/[\u2018\u2019`´]/g, "'").match(WORDS) ?? [];
  if (words.length === 0) return false;
  let sum = 0;
  let lowest = 0;
  let negatedFor = 0;
  for (const word of words) {
    if (scorer.isNegation(word)) {
      negatedFor = 2;
      continue;
    }
    const polarity = SUPPORT_WORDS.has(word) ? 0 : scorer.polarity(word);
    const value = negatedFor > 0 ? -polarity : polarity;
    if (negatedFor > 0) negatedFor--;
    sum += value;
    lowest = Math.min(lowest, value);
  }
  return sum / words.length <= -0.1 && lowest <= -0.4;
}

// --- repetition, caps -------------------------------------------------------------------------

/** The normalisation of BotContext.recentTexts (lower case, whitespace collapsed), punctuation dropped too. */
function normaliseForRepeat(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]+/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function countRepeats(text: string, recentTexts: readonly string[]): number {
  const mine = normaliseForRepeat(text);
  if (mine.length < 8) return 0;
  return recentTexts.filter((previous) => normaliseForRepeat(previous) === mine).length;
}

function isShouting(text: string): boolean {
  const letters = text.match(/\p{L}/gu) ?? [];
  if (letters.length < 10) return false;
  if ((text.match(/\p{L}+/gu) ?? []).length < 2) return false;
  const upper = letters.filter((letter) => letter !== letter.toLowerCase()).length;
  return upper / letters.length >= 0.7;
}
