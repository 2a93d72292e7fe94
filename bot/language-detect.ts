import type { Language } from './language.js';

/**
 * English-or-Spanish detection for one chat message, built from hand-written evidence only (no
 * model is learned from the intent files; the word lists were written by hand and checked against
 * the catalogue's misses, so the held-out fixtures are the honest measure):
 *
 * 1. Spanish orthography: `¿` or `¡` (+3 once), a word with `ñ` (+2), a word with an accented vowel
 *    (á é í ó ú ü, +1), for words in no word list; half as much for a capitalised word, which is often a
 *    name ("Beyoncé").
 * 2. English contractions (`don't`, `I'm`, `it's`, `you're`... +2 each).
 * 3. Word lists: frequent function words and common help-desk words of each language (+1 each,
 *    +0.5 for the weaker ones). Words shared by both languages ("no", "me", "a", "app", "premium",
 *    "plan", "error"...) count for neither.
 * 4. Word shapes, for words found in no list, one per word: endings that hardly occur in the other
 *    language (`-ing`, `-tion`, `-ly`, `-ed` / `-ción`, `-mente`, `-ado`, `-aron`, `-arme`..., +1, words
 *    of 5+ letters) and weaker hints (`th`, `w`, `k`, `-ment` / `rr`, `ll`, `qu`, infinitive `-ar`...,
 *    +0.5). Words with digits or inner capitals (`iPhone`, `PayPal`) and words of one or two letters
 *    are not judged by shape.
 *
 * The language with more points wins when it leads by at least 1 point; otherwise the evidence is
 * too weak ("ok", "Premium", "iPhone 13", "123", an emoji) and `fallback` (normally the language of the
 * conversation so far) is returned. Pure, deterministic, a few microseconds per message.
 */
export function detectLanguage(text: string, fallback: Language): Language {
  const score = languageScore(text);
  if (score >= MIN_LEAD) return 'es';
  if (score <= -MIN_LEAD) return 'en';
  return fallback;
}

/** Points for Spanish minus points for English (see detectLanguage); exposed for tests and tuning. */
export function languageScore(text: string): number {
  const lower = text.normalize('NFC').replace(/[\u2018\u2019\u02bc`´]/g, "'");
  let es = 0;
  let en = 0;
  if (/[¿¡]/.test(lower)) es += 3;
  for (const match of lower.matchAll(WORD)) {
    const raw = match[0];
    const word = lookupForm(raw.toLowerCase());
    if (SHARED_WORDS.has(word)) continue;
    const esWeight = SPANISH_WORDS.get(word);
    const enWeight = ENGLISH_WORDS.get(word);
    if (esWeight !== undefined || enWeight !== undefined) {
      es += esWeight ?? 0;
      en += enWeight ?? 0;
      continue;
    }
    if (word.includes("'")) {
      if (CONTRACTION.test(word)) en += 2;
      continue;
    }
    // A capitalised unknown word is often a name ("Beyoncé"): its letters count half.
    const name = /^\p{Lu}\p{Ll}/u.test(raw) ? 0.5 : 1;
    if (word.includes('ñ')) {
      es += 2 * name;
      continue;
    }
    if (ACCENTED.test(word)) {
      es += name;
      continue;
    }
    if (word.length < 3 || /\d/.test(word) || /\p{Lu}/u.test(raw.slice(1))) continue;
    if (word.length >= 5 && SPANISH_STRONG_SHAPE.test(word)) es += 1;
    else if (word.length >= 5 && ENGLISH_STRONG_SHAPE.test(word)) en += 1;
    else if (SPANISH_SHAPE.test(word)) es += 0.5;
    else if (ENGLISH_SHAPE.test(word)) en += 0.5;
  }
  return es - en;
}

const MIN_LEAD = 1;

/** A word as found in the lists: itself, or with a stretched last letter shortened ("holaaa", "heyy"). */
function lookupForm(word: string): string {
  if (SPANISH_WORDS.has(word) || ENGLISH_WORDS.has(word)) return word;
  const shortened = word.replace(/(\p{L})\1+$/u, '$1');
  return SPANISH_WORDS.has(shortened) || ENGLISH_WORDS.has(shortened) ? shortened : word;
}

/** Letters (with an inner apostrophe for contractions) or digits. */
const WORD = /[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu;
const CONTRACTION = /^[\p{L}]+'(?:t|s|m|re|ve|ll|d)$/u;
const ACCENTED = /[áéíóúü]/;

/** Endings and letter patterns that hardly occur in the other language (+1). */
const SPANISH_STRONG_SHAPE = /ci[oó]n$|ciones$|si[oó]n$|siones$|mente$|[aei]d[oa]s?$|[ai]endo$|ando$|aron$|ieron$|aste$|iste$|amos$|[ae]mos$|(?:ar|er|ir)(?:me|te|lo|la|le|se|nos|los|las|les)$|ísimo$|[íú]a$/;
const ENGLISH_STRONG_SHAPE = /ing$|ings$|tion$|tions$|ness$|[^aeiou]ed$|[^aeiou]ly$|ful$|less$|ough|^th|th$|^wh|sh$/;
/** Weaker hints (+0.5): enough together, never alone. */
const SPANISH_SHAPE = /dad$|dades$|[^aeiou]ar$|[^aeiou]ir$|rr|^ll|qu[eé]|gu[eiéí]|os$|[^aeiou]o$/;
const ENGLISH_SHAPE = /ment$|ments$|able$|th|sh|ck|w|k|ee|oo|ou|[^aeiou]y$|[^aeious]s$/;

/** Words common in both languages' chat messages: no evidence either way. */
const SHARED_WORDS = new Set(
  `no me a o e error app apps premium plan ok okay email mail chat bot wifi bluetooth playlist playlists podcast podcasts
   online offline login link web spam bug radio video videos audio smart tv pc mac ios android
   family duo student hifi`.split(/\s+/),
);

function weights(strong: string, weak = ''): Map<string, number> {
  const map = new Map<string, number>();
  for (const word of strong.split(/\s+/)) if (word) map.set(word, 1);
  for (const word of weak.split(/\s+/)) if (word) map.set(word, 0.5);
  return map;
}

const ENGLISH_WORDS = weights(
  `the an and or but of to in on at for with from by about into onto over under than then
   i i'm im i've ive i'd id my mine myself you your yours you're youre u ur it its it's itself we our us they them their
   he she his her him this that these those there here
   is are was were be been being am do does did done doing don't dont doesn't doesnt didn't didnt
   can can't cant cannot could couldn't would wouldn't will won't wont should shall have has had haven't hasn't get gets got getting
   what whats what's how why when where who whom which whose not just still only all any anyone anything some someone something
   every everything again after before now so if up out off too very much more most also even already yet back
   please thanks thank thanx thnx thx ty hi hello hey hiya bye goodbye yes yeah yep nope
   help want wanted need needed keep keeps kept make made let know tell say said see look looking find found try tried
   way like one two three first last next time times day days week month months year years today yesterday
   song songs track tracks music artist listen listening play playing played plays stop stops stopped skip skips
   account card charge charged charges payment payments pay paid paying money refund cancel cancelled canceled
   free trial subscription subscribed renew renewal price prices cost costs cheaper cheapest bill billed billing receipt invoice
   download downloads downloaded phone car speaker sound quality ads works working work broken wrong issue problem
   sign log password new old change changed update delete remove missing gone disappeared
   agent person human someone talk speak support service customer operator representative
   code codes history order question questions request report reset never else later end close exit quit go going gotta
   invalid expired declined failed double date due yearly monthly compare offer redeem coupon modify country
   see take care cheers greetings howdy sup heya cya ttyl bye farewell brilliant lot says
   good great nice cool awesome perfect morning afternoon evening night day`,
  `own other same each few many album pls plz ya`,
);

const SPANISH_WORDS = weights(
  `el la los las lo le les un una unos unas del al de que qué y en es son está están esta este esto estos estas estoy
   ese esa eso esos esas mi mis tu tus su sus nos os yo él ella ellos usted ustedes mío mía
   por para con sin sobre entre hasta desde hacia pero muy ya sí si también tampoco porque pues
   cómo como cuándo cuando dónde donde cuál cual cuáles quién quien cuánto cuanto cuánta cuanta
   hay ha han había hemos tengo tiene tienen tienes tenía puedo puede pueden puedes podría podrías
   quiero quiere quería necesito necesita hacer hago hace hice sigo sigue siguen dice dicen sale salen aparece
   mucho muchos mucha muchas gracias hola holi holis buenas buenos buen adiós chau chao vale nada algo alguien
   otra otro otros otras ahora hoy ayer mes meses año años día días vez veces dos tres todo todos toda todas
   ningún ninguna ninguno cada mismo misma solo sólo aún todavía nunca siempre ni más menos bien mal
   ayuda ayudar ayúdame ayudas cuenta tarjeta pago pagos pagar pagué pago cobro cobros cobraron cobran cobrado cargo cargos
   precio precios gratis prueba suscripción suscripcion factura facturas recibo planes
   canción canciones cancion musica música lista listas descargar descargas descarga anuncios sonido
   celular móvil movil coche carro correo contraseña iniciar sesión sesion funciona funcionan sirve
   favor hablar persona agente soporte problema problemas cancelar cambiar borrar eliminar quitar poner
   entrar dejar deja dejó pasa pasó salir volver acepta aceptan aceptar código codigo canjear canjea
   reembolso devolución devoluciones reenviar sugerencia poder porfa cerrar bueno suena escucha carga doble
   cobra cobran cobraste modificar humano operador fin chaito saludos wenas eres grax nuevo nueva`,
  `sea ser era fue va van voy soy vas da dan`,
);
