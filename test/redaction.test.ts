import { createRandom } from '../bot/engine/random.js';
import { describe, expect, it } from 'vitest';
import {
  PII_KINDS,
  redactPii,
  redactionEnvSchema,
  redactionPolicySchema,
  type PiiKind,
} from '../server/domain/redaction.js';

function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

function cardNumber(random: () => number, length: number): string {
  let body = String(3 + Math.floor(random() * 4)); // 3, 4, 5 or 6 like real issuers
  while (body.length < length - 1) body += String(Math.floor(random() * 10));
  return body + luhnCheckDigit(body);
}

function group(digits: string, sizes: number[], separator: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= digits.length) break;
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  if (at < digits.length) parts.push(digits.slice(at));
  return parts.join(separator);
}

const redacted = (text: string) => redactPii(text).text;

describe('redactPii: what is masked', () => {
  it.each([
    ['my card 4111 1111 1111 1111 was charged twice', 'my card [card] was charged twice', ['card']],
    ['mi tarjeta es 4111-1111-1111-1111', 'mi tarjeta es [card]', ['card']],
    ['card number: 4111111111111111.', 'card number: [card].', ['card']],
    ['amex 3782 822463 10005 please', 'amex [card] please', ['card']],
    ['escríbeme a maria.lopez+musica@correo.es', 'escríbeme a [email]', ['email']],
    ['Email me at John.Doe@mail.support.example.com, thanks', 'Email me at [email], thanks', ['email']],
    ['llámame al 612 34 56 78', 'llámame al [phone]', ['phone']],
    ['mi móvil es 612 345 678 o el fijo 91 234 56 78', 'mi móvil es [phone] o el fijo [phone]', ['phone']],
    ['call me on +1 (415) 555-0199', 'call me on [phone]', ['phone']],
    ['my number is (415) 555-0199 or 415.555.0199', 'my number is [phone] or [phone]', ['phone']],
    ['llámame al +34 612 345 678 o al +34612345678', 'llámame al [phone] o al [phone]', ['phone']],
    ['UK office 0044 20 7946 0958 or +44 (0)20 7946 0958', 'UK office [phone] or [phone]', ['phone']],
    ['mobile 07700 900123, landline 020 7946 0958', 'mobile [phone], landline [phone]', ['phone']],
    ['IBAN ES91 2100 0418 4502 0005 1332', 'IBAN [iban]', ['iban']],
    ['mi cuenta: ES9121000418450200051332, gracias', 'mi cuenta: [iban], gracias', ['iban']],
    ['mi DNI es 12345678Z', 'mi DNI es [id]', ['national_id']],
    ['NIE X1234567L y DNI 12.345.678-Z', 'NIE [id] y DNI [id]', ['national_id']],
    ['SSN 123-45-6789', 'SSN [id]', ['national_id']],
    ['my IP is 192.168.1.20, port 8080', 'my IP is [ip], port 8080', ['ip']],
    ['two phones 612 345 678 699 111 222', 'two phones [phone] [phone]', ['phone']],
    ['tel 93-123-45-67 or 1-800-555-0199', 'tel [phone] or [phone]', ['phone']],
    ['DNI12345678Z? no: 12345678Z(415) 555-0199', 'DNI12345678Z? no: [id][phone]', ['phone', 'national_id']],
  ])('%s', (input, output, kinds) => {
    expect(redactPii(input)).toEqual({ text: output, found: kinds });
  });

  it('reports every kind once, in a stable order', () => {
    const result = redactPii('card 4111111111111111, mail a@example.com, tel 612345678, 10.0.0.1, b@example.com');
    expect(result.found).toEqual(['card', 'email', 'phone', 'ip']);
    expect(result.text).toBe('card [card], mail [email], tel [phone], [ip], [email]');
  });

  it('handles a mixed Spanish message', () => {
    const text = 'Hola, soy María (DNI 12345678Z). Me cobraron dos veces en la tarjeta 5555 5555 5555 4444; ' +
      'devolvedlo a ES91 2100 0418 4502 0005 1332 y escribidme a maria@correo.es o al 699 123 456.';
    expect(redacted(text)).toBe(
      'Hola, soy María (DNI [id]). Me cobraron dos veces en la tarjeta [card]; devolvedlo a [iban] y escribidme a [email] o al [phone].',
    );
  });
});

describe('redactPii: what stays', () => {
  it.each([
    'order ref 1234 5678 9012 3456 is late', // 16 digits failing Luhn
    'number 1234567890123456',
    'it costs €9.99 or $10.99 a month',
    'renews on 2026-12-04 at 10:30',
    'renueva el 04/12/2026 a las 10:30',
    'order 123456 never arrived',
    'I paid 17.99 on the 3rd',
    'my iPhone 13 will not play offline',
    'Premium Family plan 6 accounts',
    'I was charged 45% more in 2026',
    'pagué 1.234,56 € el año pasado',
    'ticket 4815 1623 42',
    'order 612345678 is missing', // labelled: not a phone
    'pedido nº 612 345 678',
    'número de pedido: 612345678',
    'my case number is 4155550199',
    'invoice #07700900123',
    'reference #415-555-0199',
    'total 612.345.678 €',
    'I use version 10.2.1.4 of the app',
    'not an IP 999.10.10.10',
    'DNI 12345678A', // wrong control letter
    'IBAN GB00 WEST 1234 5698 7654 32', // check digits out of range
    'tengo 12345678 y 87654321 entradas',
    'call 555-0199', // local US number, too short to tell
    'a@b is not an address, nor is user@localhost',
  ])('%s', (input) => {
    expect(redactPii(input)).toEqual({ text: input, found: [] });
  });

  it('does not treat an IBAN with a wrong check as an IBAN', () => {
    const result = redactPii('IBAN ES92 2100 0418 4502 0005 1332');
    expect(result.found).not.toContain('iban');
    expect(result.text).toContain('ES92');
  });
});

describe('redaction policy', () => {
  it('keeps the last four digits of cards when asked', () => {
    expect(redactPii('my card 4242 4242 4242 4242 was charged', { keepCardLast4: true })).toEqual({
      text: 'my card [card •••• 4242] was charged',
      found: ['card'],
    });
    expect(redacted('my card 4242 4242 4242 4242')).toBe('my card [card]');
  });

  it('masks only the kinds asked for', () => {
    const text = 'card 4111 1111 1111 1111, mail ana@example.com, tel 612 345 678, IBAN ES91 2100 0418 4502 0005 1332';
    expect(redactPii(text, { kinds: ['email'] })).toEqual({
      text: 'card 4111 1111 1111 1111, mail [email], tel 612 345 678, IBAN ES91 2100 0418 4502 0005 1332',
      found: ['email'],
    });
    expect(redactPii(text, { kinds: ['card', 'phone'] }).text).toBe(
      'card [card], mail ana@example.com, tel [phone], IBAN ES91 2100 0418 4502 0005 1332',
    );
    expect(redactPii(text, { kinds: [] })).toEqual({ text, found: [] });
  });

  it('does not half-mask a kind that is switched off as another kind', () => {
    // The IBAN's digits contain windows that pass Luhn; they must not become a card.
    const iban = 'ES91 2100 0418 4502 0005 1332';
    expect(redactPii(`IBAN ${iban}`, { kinds: ['card', 'phone'] }).text).toBe(`IBAN ${iban}`);
    expect(redactPii('card 4111111111111111', { kinds: ['phone'] }).text).toBe('card 4111111111111111');
  });

  it('parses a policy from config values', () => {
    expect(redactionPolicySchema.parse({})).toEqual({ kinds: [...PII_KINDS], keepCardLast4: false });
    expect(redactionPolicySchema.parse({ kinds: 'card, email', keepCardLast4: 'true' })).toEqual({
      kinds: ['card', 'email'],
      keepCardLast4: true,
    });
    expect(redactionPolicySchema.parse({ kinds: ['ip', 'ip'], keepCardLast4: false })).toEqual({ kinds: ['ip'], keepCardLast4: false });
    expect(redactionPolicySchema.safeParse({ kinds: 'card,passport' }).success).toBe(false);
  });

  it('parses PII_REDACTION and PII_KEEP_CARD_LAST4 from the environment', () => {
    expect(redactionEnvSchema.parse({})).toEqual({ kinds: [...PII_KINDS], keepCardLast4: false });
    expect(
      redactionEnvSchema.parse({ PII_REDACTION: 'card,email,phone,iban,national_id,ip', PII_KEEP_CARD_LAST4: 'true' }),
    ).toEqual({ kinds: ['card', 'email', 'phone', 'iban', 'national_id', 'ip'], keepCardLast4: true });
    expect(redactionEnvSchema.parse({ PII_REDACTION: 'none', PII_KEEP_CARD_LAST4: '0' })).toEqual({ kinds: [], keepCardLast4: false });
    expect(redactionEnvSchema.parse({ PII_REDACTION: 'all' }).kinds).toEqual([...PII_KINDS]);
    const bad = redactionEnvSchema.safeParse({ PII_REDACTION: 'card,phones' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/unknown kind "phones"/);
    expect(redactionEnvSchema.safeParse({ PII_KEEP_CARD_LAST4: 'maybe' }).success).toBe(false);
  });

  it('ignores unknown kinds handed in at run time', () => {
    const policy = { kinds: ['email', 'passport'] as unknown as PiiKind[] };
    expect(redactPii('a@example.com 612345678', policy).text).toBe('[email] 612345678');
  });
});

describe('robustness', () => {
  const samples = [
    'my card 4111 1111 1111 1111 was charged twice',
    'mi tarjeta es 4111-1111-1111-1111 y mi DNI 12345678Z',
    'escríbeme a maria.lopez+musica@correo.es o llámame al 612 34 56 78',
    'call me on +1 (415) 555-0199 from 10.1.2.3',
    'IBAN ES91 2100 0418 4502 0005 1332 ABC',
    '4111111111111111 612345678 4242424242424242',
    '12 4111 1111 1111 1111 34',
  ];

  it.each(samples)('is idempotent: %s', (text) => {
    const once = redactPii(text);
    expect(redactPii(once.text).text).toBe(once.text);
    const kept = redactPii(text, { keepCardLast4: true });
    expect(redactPii(kept.text, { keepCardLast4: true }).text).toBe(kept.text);
  });

  it('is idempotent on generated mixtures of data and noise', () => {
    const random = createRandom(7);
    const pieces = [
      () => cardNumber(random, 16),
      () => group(cardNumber(random, 16), [4, 4, 4, 4], ' '),
      () => '612 345 678',
      () => '+34 699 12 34 56',
      () => 'ana+x@example.com',
      () => 'ES91 2100 0418 4502 0005 1332',
      () => '12345678Z',
      () => '192.168.0.1',
      () => String(Math.floor(random() * 1e6)),
      () => '2026-12-04',
      () => '€9.99',
      () => 'order',
      () => '(415) 555-0199',
      () => ' ',
      () => '-',
      () => '.',
      () => 'y',
    ];
    for (let n = 0; n < 300; n++) {
      let text = '';
      const count = 2 + Math.floor(random() * 8);
      for (let k = 0; k < count; k++) text += pieces[Math.floor(random() * pieces.length)]!() + (random() < 0.7 ? ' ' : '');
      for (const keepCardLast4 of [false, true]) {
        const once = redactPii(text, { keepCardLast4 }).text;
        expect(redactPii(once, { keepCardLast4 }).text, text).toBe(once);
      }
    }
  });

  it('returns on a 200 KB random string and on pathological inputs', () => {
    const random = createRandom(42);
    const alphabet = '0123456789          -.+()@abcXYZé€$%:/,#\n';
    let text = '';
    for (let i = 0; i < 200_000; i++) text += alphabet[Math.floor(random() * alphabet.length)];
    const result = redactPii(text);
    expect(typeof result.text).toBe('string');
    expect(redactPii(result.text).text).toBe(result.text);

    const hostile = [
      '1'.repeat(200_000),
      '1 '.repeat(100_000),
      '1-'.repeat(100_000),
      'a.'.repeat(100_000) + '@',
      'a@'.repeat(100_000),
      'x@' + 'a.'.repeat(100_000),
      'ES'.repeat(100_000) + '91',
      '(1) '.repeat(50_000),
      '+1 '.repeat(60_000),
      '192.168.'.repeat(25_000),
      '\uD800'.repeat(1000) + '4111111111111111',
    ];
    for (const input of hostile) expect(typeof redactPii(input).text).toBe('string');
  });

  it('never throws, whatever it is handed', () => {
    const odd: unknown[] = [undefined, null, 4111111111111111, { toString: () => { throw new Error('no'); } }, ''];
    for (const value of odd) expect(() => redactPii(value as string)).not.toThrow();
    expect(redactPii(4111111111111111 as unknown as string).text).toBe('[card]');
    expect(redactPii('', undefined)).toEqual({ text: '', found: [] });
    expect(() => redactPii('612345678', { kinds: 'phone' } as unknown as { kinds: PiiKind[] })).not.toThrow();
  });
});

describe('cards, property style', () => {
  const formats: { name: string; length: number; sizes: number[]; separator: string }[] = [
    { name: '16 together', length: 16, sizes: [16], separator: '' },
    { name: '16 in fours with spaces', length: 16, sizes: [4, 4, 4, 4], separator: ' ' },
    { name: '16 in fours with dashes', length: 16, sizes: [4, 4, 4, 4], separator: '-' },
    { name: '15 as 4-6-5', length: 15, sizes: [4, 6, 5], separator: ' ' },
    { name: '13 together', length: 13, sizes: [13], separator: '' },
    { name: '19 as 4-4-4-4-3', length: 19, sizes: [4, 4, 4, 4, 3], separator: ' ' },
    { name: '14 as 4-6-4 with dashes', length: 14, sizes: [4, 6, 4], separator: '-' },
    { name: '16 in fours with no-break spaces', length: 16, sizes: [4, 4, 4, 4], separator: '\u00A0' },
  ];

  it.each(formats)('masks generated valid numbers: $name', ({ length, sizes, separator }) => {
    const random = createRandom(length * 31 + sizes.length);
    for (let n = 0; n < 60; n++) {
      const digits = cardNumber(random, length);
      const written = group(digits, sizes, separator);
      const sentence = n % 2 === 0 ? `my card ${written} was charged twice` : `mi tarjeta es ${written}, gracias`;
      const expected = sentence.replace(written, '[card]');
      expect(redactPii(sentence), written).toEqual({ text: expected, found: ['card'] });
      expect(redactPii(sentence, { keepCardLast4: true }).text).toBe(sentence.replace(written, `[card •••• ${digits.slice(-4)}]`));

      // One digit changed breaks Luhn: the number is left alone.
      const position = Math.floor(random() * length);
      const changed = digits.slice(0, position) + String((Number(digits[position]) + 1 + Math.floor(random() * 9)) % 10) + digits.slice(position + 1);
      const wrong = group(changed, sizes, separator);
      const result = redactPii(`my card ${wrong} was charged`);
      expect(result.found, wrong).not.toContain('phone');
      if (length <= 16) expect(result.text, wrong).toBe(`my card ${wrong} was charged`);
      // A 19-digit number can start with 16 digits that pass Luhn on their own: those are a card.
      else expect(result.text, wrong).not.toBe('my card [card] was charged');
    }
  });
});
