import { z } from 'zod';

/**
 * Personal-data redaction for stored chat text (transcripts for analytics, training candidates
 * and exports). Pure, synchronous, linear in the length of the input, never throws.
 *
 * ## What is caught (each replaced by a token)
 *
 * - `card` → `[card]`, or `[card •••• 4242]` with `keepCardLast4`: 13–19 digits, written together
 *   or in groups separated by ONE space, no-break space or dash ("4111 1111 1111 1111",
 *   "4111-1111-1111-1111", "378282246310005", "3782 822463 10005"), and only when the digits pass
 *   the Luhn check. A number standing alone may be grouped any way; one that is only part of a
 *   longer run of digit groups must be grouped as cards are printed (4-4-4-4…, 4-6-5, 4-6-4).
 *   Always masked when it passes, labelled or not ("order 4111…" is masked too).
 * - `email` → `[email]`: `local@domain.tld` with a local part of up to 64 letters, digits and
 *   `. _ % + -` (plus-tags included) and one or more domain labels (subdomains, IDN letters).
 * - `phone` → `[phone]`: digit groups joined by one space, dash, dot or parentheses that match
 *   one of these shapes (group lengths in brackets):
 *   - international: `+` or `00` then a country code not starting with 0, 8–15 digits in all
 *     after the prefix, any grouping ("+34 612 345 678", "+1 (415) 555-0199", "+44 (0)20 7946
 *     0958", "0044 20 7946 0958", "+34612345678");
 *   - Spain: 9 digits starting with 6, 7, 8 or 9 as [9], [3-3-3], [3-2-2-2], [2-3-2-2] or [3-6]
 *     ("612 345 678", "612 34 56 78", "91 234 56 78", "612345678");
 *   - US/Canada: area code and exchange starting 2–9, as [10], [3-3-4] or "(415) 555-0199",
 *     optionally after a leading "1" ("1-800-555-0199");
 *   - UK: 0 then 1–9, 10 or 11 digits, as [11] or 2–3 groups whose first has 2–5 digits
 *     ("020 7946 0958", "07700 900123", "(01632) 960123", "07700900123").
 * - `iban` → `[iban]`: 2 letters, 2 check digits (02–98), 11–30 letters/digits, together or in
 *   groups separated by a space or dash, accepted only when the ISO 13616 mod-97 check passes.
 * - `national_id` → `[id]`: Spanish DNI (8 digits + control letter, also "12.345.678-Z") and
 *   NIE (X/Y/Z + 7 digits + control letter), accepted only when the control letter is right; a
 *   control letter written after a space must be upper case ("tengo 12345678 y…" stays). Also US
 *   SSNs written as `AAA-GG-SSSS` with a valid area (not 000, 666, 900–999), group and serial.
 * - `ip` → `[ip]`: dotted IPv4 addresses with octets 0–255 and no leading zeros, unless written
 *   right after "version", "versión", "ver", "v", "build" or "firmware" (an app version).
 *
 * ## What is deliberately NOT caught (stays as written)
 *
 * - Anything whose check fails: a 16-digit number that fails Luhn, an IBAN that fails mod-97, a
 *   DNI/NIE with the wrong letter.
 * - Prices and amounts (€9.99, $10.99, 17.99, 1.234,56), years, times (10:30), dates
 *   (2026-12-04, 04/12/2026), percentages, short numbers ("iPhone 13", "6 accounts").
 * - Phone-shaped numbers that are **labelled** as something else: the number follows (within
 *   the same clause) "order", "ticket", "case", "invoice", "ref(erence)", "tracking",
 *   "transaction", "booking", "confirmation", "pedido", "caso", "factura", "referencia",
 *   "seguimiento", "transacción", "reserva", "incidencia", "confirmación" or "albarán",
 *   optionally followed by "number/no./nº/núm./número/id/code/código", "is/es" and ":" or "#";
 *   or immediately follows "#". The label rule applies to phones only; cards, IBANs and IDs
 *   are always masked.
 * - Phone-shaped digits inside a longer number grouped like a card (so a 16-digit number that
 *   fails Luhn stays whole), touching a currency sign or code (€ $ £ EUR USD GBP euros
 *   dollars…) or "%", part of a larger number joined by "," ":" or "/", or four dotted groups of
 *   1–3 digits (an IP-like or version string).
 * - Numbers glued to letters ("A612345678", "4111111111111111x"), digits other than ASCII 0–9,
 *   spelled-out or obfuscated data ("maria at correo dot es", "six one two…"), local 7-digit US
 *   numbers ("555-0199"), other countries' national phone formats (use +CC to be caught), IPv6,
 *   postal addresses, names, and other national identifiers.
 *
 * A bare 9-digit number starting 6–9 or a bare 10-digit number whose 1st and 4th digits are 2–9
 * is treated as a phone unless labelled (see above): over-masking is the safer error.
 *
 * ## Policy
 *
 * Detection always runs for every kind so that a span is classified once (a disabled IBAN is not
 * then half-masked as a card); `kinds` only decides which classes are replaced. `found` lists the
 * kinds that were replaced, each once, in {@link PII_KINDS} order.
 *
 * Idempotent: output tokens are never matched again, and a pass is repeated (up to 4 times, in
 * practice once) until the text stops changing, since a replacement can unglue a neighbour.
 * Linear time: the patterns have bounded quantifiers and can only start at the beginning of a
 * run, and digits are grouped by one hand-written scan; about 10 µs for a chat message and at
 * most 1–2 µs per character on hostile input. Never throws: should anything unexpected fail, the
 * result fails closed as `{ text: '[redacted]', found: [] }`.
 */

export const PII_KINDS = ['card', 'email', 'phone', 'iban', 'national_id', 'ip'] as const;
export type PiiKind = (typeof PII_KINDS)[number];
export const piiKindSchema = z.enum(PII_KINDS);

export interface RedactionPolicy {
  /** Kinds to mask; default all of {@link PII_KINDS}. */
  kinds?: readonly PiiKind[];
  /** Cards become `[card •••• 4242]` instead of `[card]`; default false. */
  keepCardLast4?: boolean;
}

export interface RedactionResult {
  text: string;
  found: PiiKind[];
}

const booleanish = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
]);

/**
 * A list of kinds as an array or as comma-separated text ("card,email,phone"); "all" (or empty
 * text) means every kind, "none"/"off" means none. Unknown names are refused.
 */
export const piiKindListSchema = z.union([z.array(z.string()), z.string()]).transform((value, ctx): PiiKind[] => {
  const names = typeof value === 'string' ? value.split(',') : value;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text === '' || text === 'all') return [...PII_KINDS];
  if (text === 'none' || text === 'off') return [];
  const kinds: PiiKind[] = [];
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    const parsed = piiKindSchema.safeParse(name);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `unknown kind "${name}" (expected ${PII_KINDS.join(', ')}, all or none)` });
      return z.NEVER;
    }
    if (!kinds.includes(parsed.data)) kinds.push(parsed.data);
  }
  return kinds;
});

/** A policy from config: `{ kinds?: PiiKind[] | "card,email", keepCardLast4?: boolean | "true" }`. */
export const redactionPolicySchema = z.object({
  kinds: piiKindListSchema.default([...PII_KINDS]),
  keepCardLast4: booleanish.default(false),
});
export type ResolvedRedactionPolicy = z.output<typeof redactionPolicySchema>;

/** The same from environment variables: `PII_REDACTION=card,email,…` and `PII_KEEP_CARD_LAST4=true`. */
export const redactionEnvSchema = z
  .object({
    PII_REDACTION: piiKindListSchema.optional(),
    PII_KEEP_CARD_LAST4: booleanish.optional(),
  })
  .transform((env): ResolvedRedactionPolicy => ({
    kinds: env.PII_REDACTION ?? [...PII_KINDS],
    keepCardLast4: env.PII_KEEP_CARD_LAST4 ?? false,
  }));

// ---------------------------------------------------------------------------------------------

const TOKENS: Record<PiiKind, string> = {
  card: '[card]',
  email: '[email]',
  phone: '[phone]',
  iban: '[iban]',
  national_id: '[id]',
  ip: '[ip]',
};

interface Hit {
  start: number;
  end: number;
  kind: PiiKind;
  replacement: string;
}

/** Which characters are already classified; every detector skips claimed text. */
class Claims {
  readonly hits: Hit[] = [];
  private readonly mask: Uint8Array;
  constructor(length: number) {
    this.mask = new Uint8Array(length);
  }
  free(start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (this.mask[i]) return false;
    return true;
  }
  claim(start: number, end: number, kind: PiiKind, replacement: string = TOKENS[kind]): void {
    this.mask.fill(1, start, end);
    this.hits.push({ start, end, kind, replacement });
  }
}

const isDigitCode = (c: number) => c >= 48 && c <= 57;
const WORD_CHAR = /[\p{L}\p{M}\p{N}_]/u;
const isWordChar = (ch: string | undefined) => ch !== undefined && WORD_CHAR.test(ch);

// ---- regular-expression detectors ------------------------------------------------------------
// Every quantifier is bounded and every pattern starts behind a negative look-behind that only
// lets it start at the beginning of a run, so the work per position is a small constant.

const EMAIL = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.){1,10}\p{L}{2,24}(?![\p{L}\p{N}-])/gu;
const IBAN = /(?<![\p{L}\p{N}])[A-Za-z]{2}\d{2}(?:[ \u00A0-]?[A-Za-z0-9]){11,30}/gu;
const DNI = /(?<![\p{L}\p{N}.])(\d{8}|\d{2}\.\d{3}\.\d{3})([ -]?)([A-Za-z])(?![\p{L}\p{N}])/gu;
const NIE = /(?<![\p{L}\p{N}])([XYZxyz])[ -]?(\d{7})([ -]?)([A-Za-z])(?![\p{L}\p{N}])/gu;
const SSN = /(?<![\p{L}\p{N}-])(\d{3})-(\d{2})-(\d{4})(?![\p{L}\p{N}]|-\d)/gu;
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\p{L}\\p{N}.])(?:${OCTET}\\.){3}${OCTET}(?!\\p{N}|\\.\\p{N})`, 'gu');
const VERSION_BEFORE = /(?:^|[^\p{L}])(?:version|versi[oó]n|ver|v|build|firmware)\.?\s*$/iu;

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

function detectEmails(text: string, claims: Claims): void {
  for (const m of text.matchAll(EMAIL)) {
    const start = m.index;
    const end = start + m[0].length;
    if (claims.free(start, end)) claims.claim(start, end, 'email');
  }
}

function ibanChecks(compact: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const check = Number(compact.slice(2, 4));
  if (check < 2 || check > 98) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    rest = isDigitCode(c) ? (rest * 10 + (c - 48)) % 97 : (rest * 100 + (c - 55)) % 97;
  }
  return rest === 1;
}

function detectIbans(text: string, claims: Claims): void {
  const pattern = new RegExp(IBAN.source, IBAN.flags);
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const start = m.index;
    const candidate = m[0];
    // Rescan just after the start: the match may have run on into a following IBAN.
    pattern.lastIndex = start + 1;
    // Possible ends, longest first: the whole match if nothing alphanumeric is glued to it,
    // then every group boundary (the match may have run on into the next word).
    const ends: number[] = [];
    if (!isWordChar(text[start + candidate.length])) ends.push(candidate.length);
    for (let i = candidate.length - 1; i > 4; i--) {
      const ch = candidate[i];
      if (ch === ' ' || ch === '\u00A0' || ch === '-') ends.push(i);
    }
    for (const length of ends) {
      const compact = candidate.slice(0, length).replace(/[ \u00A0-]/g, '').toUpperCase();
      if (ibanChecks(compact)) {
        if (claims.free(start, start + length)) claims.claim(start, start + length, 'iban');
        pattern.lastIndex = start + length;
        break;
      }
    }
  }
}

function detectNationalIds(text: string, claims: Claims): void {
  const accept = (start: number, end: number, number: number, separator: string, letter: string) => {
    if (separator === ' ' && letter !== letter.toUpperCase()) return;
    if (DNI_LETTERS[number % 23] !== letter.toUpperCase()) return;
    if (claims.free(start, end)) claims.claim(start, end, 'national_id');
  };
  for (const m of text.matchAll(DNI)) {
    accept(m.index, m.index + m[0].length, Number((m[1] ?? '').replace(/\./g, '')), m[2] ?? '', m[3] ?? '');
  }
  for (const m of text.matchAll(NIE)) {
    const prefix = 'XYZ'.indexOf((m[1] ?? 'X').toUpperCase());
    accept(m.index, m.index + m[0].length, Number(`${prefix}${m[2] ?? ''}`), m[3] ?? '', m[4] ?? '');
  }
  for (const m of text.matchAll(SSN)) {
    const area = Number(m[1]);
    if (area === 0 || area === 666 || area >= 900 || m[2] === '00' || m[3] === '0000') continue;
    const start = m.index;
    const end = start + m[0].length;
    if (claims.free(start, end)) claims.claim(start, end, 'national_id');
  }
}

function detectIps(text: string, claims: Claims): void {
  for (const m of text.matchAll(IPV4)) {
    const start = m.index;
    const end = start + m[0].length;
    if (VERSION_BEFORE.test(text.slice(Math.max(0, start - 12), start))) continue;
    if (claims.free(start, end)) claims.claim(start, end, 'ip');
  }
}

// ---- digit spans (cards and phones) -----------------------------------------------------------
// A hand-written scanner groups digits joined by one separator or parentheses into spans, in
// one pass; cards and phones then test bounded windows of consecutive groups.

interface Group {
  /** Digits only. */
  start: number;
  end: number;
  /** Including a '(' … ')' around the digits and, for the first group, a leading '+'. */
  outerStart: number;
  outerEnd: number;
  paren: boolean;
  /** Text between the previous group's outerEnd and this outerStart ('' for the first). */
  sep: string;
}

interface Span {
  groups: Group[];
  plus: boolean;
  /** A letter/underscore touches the first group (before) or the last group (after). */
  leftGlued: boolean;
  rightGlued: boolean;
}

const JOINERS = new Set([' ', '\u00A0', '-', '.']);

function digitsEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isDigitCode(text.charCodeAt(i))) i++;
  return i;
}

function scanSpans(text: string): Span[] {
  const spans: Span[] = [];
  let i = 0;
  while (i < text.length) {
    if (!isDigitCode(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // i starts a group, and is not preceded by a digit (spans are consumed whole).
    let end = digitsEnd(text, i);
    let paren = text[i - 1] === '(' && text[end] === ')';
    let outerStart = paren ? i - 1 : i;
    const plus = text[outerStart - 1] === '+';
    if (plus) outerStart--;
    // A '(' is a boundary of its own; otherwise a letter or digit touching the start glues.
    const span: Span = { groups: [], plus, leftGlued: !paren && isWordChar(text[outerStart - 1]), rightGlued: false };
    let start = i;
    let sep = '';
    for (;;) {
      const outerEnd = paren ? end + 1 : end;
      span.groups.push({ start, end, outerStart, outerEnd, paren, sep });
      // Try to join the next group.
      let k = outerEnd;
      sep = '';
      if (JOINERS.has(text[k] ?? '')) {
        sep = text[k] ?? '';
        k++;
      }
      if (text[k] === '(' && isDigitCode(text.charCodeAt(k + 1))) {
        const e = digitsEnd(text, k + 1);
        if (text[e] !== ')') break;
        outerStart = k;
        start = k + 1;
        end = e;
        paren = true;
      } else if (isDigitCode(text.charCodeAt(k)) && (sep !== '' || paren)) {
        outerStart = k;
        start = k;
        end = digitsEnd(text, k);
        paren = false;
      } else {
        break;
      }
    }
    const last = span.groups[span.groups.length - 1];
    if (last) {
      span.rightGlued = isWordChar(text[last.outerEnd]);
      i = last.outerEnd;
    } else {
      i = end;
    }
    spans.push(span);
  }
  return spans;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const CARD_SEPARATORS = new Set([' ', '\u00A0', '-']);

/** The groupings printed on cards: one block, 4-4-4-4(-…), 4-6-5 and 4-6-4. */
function isCardShape(lengths: readonly number[]): boolean {
  const count = lengths.length;
  if (count === 1) return true;
  if (count === 3 && lengths[0] === 4 && lengths[1] === 6 && (lengths[2] === 5 || lengths[2] === 4)) return true;
  for (let k = 0; k < count - 1; k++) if (lengths[k] !== 4) return false;
  const last = lengths[count - 1] ?? 0;
  return last >= 1 && last <= 4;
}

function detectCards(text: string, spans: Span[], claims: Claims, keepLast4: boolean): void {
  for (const span of spans) {
    const groups = span.groups;
    if (groups.length === 1 && (groups[0]?.end ?? 0) - (groups[0]?.start ?? 0) < 13) continue;
    const candidates: { i: number; j: number; digits: string; shaped: boolean }[] = [];
    for (let i = 0; i < groups.length; i++) {
      if (i === 0 && span.leftGlued) continue;
      let digits = '';
      const lengths: number[] = [];
      for (let j = i; j < groups.length; j++) {
        const g = groups[j];
        if (!g || g.paren || (j > i && !CARD_SEPARATORS.has(g.sep))) break;
        digits += text.slice(g.start, g.end);
        lengths.push(g.end - g.start);
        if (digits.length > 19) break;
        if (digits.length < 13 || (j === groups.length - 1 && span.rightGlued)) continue;
        // Any grouping is accepted for a number written on its own; a part of a longer run of
        // digits must be grouped the way cards are printed (so "612 345 678 699 111 222" stays
        // two phones even if its last 15 digits happen to pass Luhn).
        const shaped = isCardShape(lengths);
        if ((shaped || (i === 0 && j === groups.length - 1)) && luhnValid(digits)) candidates.push({ i, j, digits, shaped });
      }
    }
    if (candidates.length === 0) continue;
    candidates.sort((a, b) => Number(b.shaped) - Number(a.shaped) || b.digits.length - a.digits.length || a.i - b.i);
    const used = new Uint8Array(groups.length);
    for (const c of candidates) {
      if (used.subarray(c.i, c.j + 1).some((u) => u === 1)) continue;
      const start = groups[c.i]?.start ?? 0;
      const end = groups[c.j]?.end ?? 0;
      if (!claims.free(start, end)) continue;
      used.fill(1, c.i, c.j + 1);
      claims.claim(start, end, 'card', keepLast4 ? `[card •••• ${c.digits.slice(-4)}]` : TOKENS.card);
    }
  }
}

const PHONE_LABEL =
  /(?:^|[^\p{L}])(?:order|ticket|case|invoice|ref|reference|tracking|transaction|booking|confirmation|pedido|caso|factura|referencia|seguimiento|transacci[oó]n|reserva|incidencia|confirmaci[oó]n|albar[aá]n)s?\s*(?:(?:number|num|no|nr|n[º°o]|n\.[º°o]|n[uú]m|n[uú]mero|id|code|c[oó]digo)\.?\s*)?(?:(?:is|was|es|era)\s+)?[:#=-]?\s*#?\s*$|#\s*$/iu;
const CURRENCY_BEFORE = /(?:[€$£¥]|(?:^|[^\p{L}])(?:eur|usd|gbp|euros?|d[oó]lares|dollars?|pounds?|libras?))\s?$/iu;
const CURRENCY_AFTER = /^\s?(?:[€$£¥%]|(?:eur|usd|gbp|euros?|d[oó]lares|dollars?|pounds?|libras?|percent|por\s?ciento)(?![\p{L}]))/iu;
const NUMBER_BEFORE = /\d[,:/]$/;
const NUMBER_AFTER = /^[,:/]\d/;

function samePlainSeparators(seps: string[]): boolean {
  const plain = seps.filter((s) => s !== '');
  const hasDot = plain.includes('.');
  return !hasDot || plain.every((s) => s === '.');
}

/** Whether groups i..j (already known to be joined) have one of the documented phone shapes. */
function isPhoneShape(text: string, span: Span, i: number, j: number): boolean {
  const groups = span.groups.slice(i, j + 1);
  const first = groups[0];
  if (!first) return false;
  const lengths = groups.map((g) => g.end - g.start);
  const parts = groups.map((g) => text.slice(g.start, g.end));
  const all = parts.join('');
  const seps = groups.slice(1).map((g) => g.sep);
  const parenAt = groups.map((g) => g.paren);
  if (lengths.some((n) => n > 15)) return false;

  // International: "+CC …" or "00CC …".
  if (i === 0 && span.plus) {
    if (all[0] === '0') return false;
    const counted = groups.filter((g, k) => !(g.paren && parts[k] === '0' && k > 0)).reduce((n, g) => n + g.end - g.start, 0);
    return counted >= 8 && counted <= 15 && groups.every((g) => !g.paren || g.end - g.start <= 4);
  }
  if (all.startsWith('00') && (first.end - first.start >= 2) && !first.paren) {
    const counted = all.length - 2;
    return all[2] !== '0' && counted >= 8 && counted <= 15 && groups.every((g) => !g.paren || g.end - g.start <= 4);
  }

  if (!samePlainSeparators(seps)) return false;
  // Four dotted groups of 1-3 digits read as an IPv4 address or a version, never a phone.
  if (groups.length === 4 && seps.every((sep) => sep === '.') && lengths.every((n) => n <= 3)) return false;
  const shape = lengths.join('-');
  const noParens = parenAt.every((p) => !p);

  // Spain.
  if (noParens && all.length === 9 && /^[6-9]/.test(all) && ['9', '3-3-3', '3-2-2-2', '2-3-2-2', '3-6'].includes(shape)) return true;

  // US / Canada (NANP).
  const parenOnlyAt = (k: number) => parenAt.every((p, idx) => !p || idx === k);
  if (all.length === 10 && /^[2-9]\d\d[2-9]/.test(all)) {
    if (shape === '10' && noParens) return true;
    if (shape === '3-3-4' && parenOnlyAt(0)) return true;
  }
  if (all.length === 11 && shape === '1-3-3-4' && /^1[2-9]\d\d[2-9]/.test(all) && parenOnlyAt(1)) return true;

  // UK.
  if (/^0[1-9]/.test(all) && (all.length === 10 || all.length === 11) && parenOnlyAt(0)) {
    if (groups.length === 1) return all.length === 11;
    if (groups.length <= 3 && (lengths[0] ?? 0) >= 2 && (lengths[0] ?? 0) <= 5 && lengths.slice(1).every((n) => n >= 3 && n <= 8)) return true;
  }
  return false;
}

/**
 * For each group index i, the furthest group j such that some run of two or more groups starting
 * at or before i and ending at j is laid out like a card (13-19 digits in card groupings, joined by
 * card separators) and is still unclaimed; -1 when none. A phone window inside such a run is
 * part of a longer number (a card number that failed Luhn), not a phone.
 */
function cardLikeReach(groups: Group[], claims: Claims): Int32Array {
  const reach = new Int32Array(groups.length).fill(-1);
  let best = -1;
  for (let i = 0; i < groups.length; i++) {
    let digits = 0;
    const lengths: number[] = [];
    for (let j = i; j < groups.length; j++) {
      const g = groups[j];
      if (!g || g.paren || (j > i && !CARD_SEPARATORS.has(g.sep))) break;
      digits += g.end - g.start;
      lengths.push(g.end - g.start);
      if (digits > 19) break;
      if (j > i && digits >= 13 && j > best && isCardShape(lengths) && claims.free(groups[i]?.start ?? 0, g.end)) best = j;
    }
    reach[i] = best >= i ? best : -1;
  }
  return reach;
}

function detectPhones(text: string, spans: Span[], claims: Claims): void {
  for (const span of spans) {
    const groups = span.groups;
    const reach = groups.length > 1 ? cardLikeReach(groups, claims) : undefined;
    let i = 0;
    while (i < groups.length) {
      const first = groups[i];
      if (!first) break;
      const start = first.outerStart;
      let best = -1;
      if (!(i === 0 && span.leftGlued)) {
        let digits = 0;
        for (let j = i; j < groups.length && j < i + 8; j++) {
          const last = groups[j];
          if (!last) break;
          digits += last.end - last.start;
          if (digits > 17) break; // the longest shape: "00" + 15 digits
          if (digits < 8 || (j === groups.length - 1 && span.rightGlued)) continue;
          if (reach && (reach[i] ?? -1) >= j && !(i === 0 && span.plus)) continue;
          if (!isPhoneShape(text, span, i, j)) continue;
          const after = text.slice(last.outerEnd, last.outerEnd + 16);
          if (CURRENCY_AFTER.test(after) || NUMBER_AFTER.test(after)) continue;
          if (claims.free(start, last.outerEnd)) best = j;
        }
      }
      if (best >= 0) {
        // The context before does not depend on where the window ends: test it once.
        const before = text.slice(Math.max(0, start - 48), start);
        if (PHONE_LABEL.test(before) || CURRENCY_BEFORE.test(before) || NUMBER_BEFORE.test(before)) best = -1;
      }
      const chosen = best >= 0 ? groups[best] : undefined;
      if (chosen) {
        claims.claim(start, chosen.outerEnd, 'phone');
        i = best + 1;
      } else {
        i++;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

function resolveKinds(policy: RedactionPolicy | undefined): Set<PiiKind> {
  const kinds = policy?.kinds;
  if (!Array.isArray(kinds)) return new Set(PII_KINDS);
  return new Set((kinds as unknown[]).filter((k): k is PiiKind => (PII_KINDS as readonly unknown[]).includes(k)));
}

/**
 * One pass over the text. A replacement can change what its neighbours look like (a number glued
 * to a DNI's letter is no longer glued once the DNI is a token), so {@link redactPii} repeats
 * passes until nothing changes.
 */
function redactOnce(input: string, enabled: Set<PiiKind>, keepLast4: boolean): RedactionResult {
  if (!/[\d@]/.test(input)) return { text: input, found: [] };
  const claims = new Claims(input.length);
  if (input.includes('@')) detectEmails(input, claims);
  detectIbans(input, claims);
  const spans = scanSpans(input);
  detectCards(input, spans, claims, keepLast4);
  detectNationalIds(input, claims);
  detectIps(input, claims);
  detectPhones(input, spans, claims);

  const hits = claims.hits.filter((h) => enabled.has(h.kind)).sort((a, b) => a.start - b.start);
  if (hits.length === 0) return { text: input, found: [] };
  const pieces: string[] = [];
  let at = 0;
  const found = new Set<PiiKind>();
  for (const hit of hits) {
    pieces.push(input.slice(at, hit.start), hit.replacement);
    at = hit.end;
    found.add(hit.kind);
  }
  pieces.push(input.slice(at));
  return { text: pieces.join(''), found: PII_KINDS.filter((k) => found.has(k)) };
}

/** At most this many passes; each pass that changes the text removes digits or '@' for good. */
const MAX_PASSES = 4;

/** Masks personal data in `text` (see the module comment for exactly what). Never throws. */
export function redactPii(text: string, policy?: RedactionPolicy): RedactionResult {
  try {
    let current = typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
    const enabled = resolveKinds(policy);
    if (enabled.size === 0) return { text: current, found: [] };
    const keepLast4 = policy?.keepCardLast4 === true;
    const found = new Set<PiiKind>();
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const result = redactOnce(current, enabled, keepLast4);
      for (const kind of result.found) found.add(kind);
      if (result.text === current) break;
      current = result.text;
    }
    return { text: current, found: PII_KINDS.filter((k) => found.has(k)) };
  } catch {
    return { text: '[redacted]', found: [] };
  }
}
