/**
 * The fuzzer's seeded randomness and its value generators. Everything the fuzzer sends comes
 * from one of these, so `--seed N` replays the same inputs (timing still varies run to run).
 */

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [min, max]. */
  range(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T;
  bytes(n: number): Buffer;
  /** An independent generator derived from this one (for one connection, one worker). */
  fork(): Rng;
}

/** sfc32 seeded through splitmix32: small, fast, and good enough to fuzz with. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  const rng: Rng = {
    next: () => next32() / 4294967296,
    int: (n) => Math.floor(rng.next() * n),
    range: (min, max) => min + rng.int(max - min + 1),
    chance: (p) => rng.next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from nothing');
      return items[rng.int(items.length)] as (typeof items)[number];
    },
    weighted: (items) => {
      const total = items.reduce((sum, [w]) => sum + w, 0);
      let roll = rng.next() * total;
      for (const [w, value] of items) {
        roll -= w;
        if (roll < 0) return value;
      }
      return (items[items.length - 1] as (typeof items)[number])[1];
    },
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = next32() & 0xff;
      return out;
    },
    fork: () => createRng(next32()),
  };
  return rng;
}

/* ---------- JSON text with pieces JSON.stringify cannot produce ---------- */

/** A piece of JSON text inserted verbatim (deep nesting, duplicate keys, raw escapes). */
export class Raw {
  constructor(readonly text: string, readonly label: string) {}
}

/** JSON.stringify that also writes Raw pieces verbatim and keeps `__proto__` as an own key. */
export function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => toJson(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

/** A short, reproducible description of a value (long text is summarised as an expression). */
export function describe(value: unknown): string {
  if (value instanceof Raw) return value.label;
  if (typeof value === 'string') {
    if (value.length <= 80) return JSON.stringify(value);
    const head = value.slice(0, 24);
    const uniform = value === head[0]?.repeat(value.length);
    return uniform ? `${JSON.stringify(head[0])}.repeat(${value.length})` : `${JSON.stringify(head)}…(${value.length} chars)`;
  }
  if (Array.isArray(value)) return `[${value.map(describe).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}:${describe(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

/** Nested arrays or objects as raw JSON text, `depth` levels deep. */
export function deepNesting(rng: Rng, depth: number): Raw {
  const kind = rng.pick(['array', 'object', 'mixed'] as const);
  if (kind === 'array') return new Raw('['.repeat(depth) + ']'.repeat(depth), `'['.repeat(${depth}) + ']'.repeat(${depth})`);
  if (kind === 'object') return new Raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth), `'{"a":'.repeat(${depth}) + '1' + '}'.repeat(${depth})`);
  return new Raw('[{"a":'.repeat(depth) + '0' + '}]'.repeat(depth), `'[{"a":'.repeat(${depth}) + '0' + '}]'.repeat(${depth})`);
}

/* ---------- strings and values ---------- */

const UNICODE_EDGES = [
  '\u0000', // NUL
  'a\u0000b',
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  'x\uDBFF', // high surrogate at the end
  '\uDC00x',
  '\u202Eevil\u202C', // RTL override
  '\u200F\u05E9\u05DC\u05D5\u05DD', // RLM + Hebrew
  '\u0645\u0631\u062D\u0628\u0627', // Arabic
  '\u200B\u200C\u200D\u2060\uFEFF', // zero-width
  '\u200B', // only zero-width (blank?)
  '\u00A0\u2003\u3000', // exotic spaces
  '\t\n\r\u000B\u000C',
  'e\u0301\u0301\u0301\u0301\u0301', // combining marks
  'Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358\u0359\u035A', // zalgo
  '\u{1F600}\u{1F469}\u200D\u{1F4BB}\u{1F3F3}\uFE0F\u200D\u{1F308}', // emoji, ZWJ sequences
  '\uFFFF\uFFFE\uFFFD',
  '\u0085\u2028\u2029', // line separators
  '\u001B[31mred\u001B[0m', // terminal escapes
  '%s%n%x', // format strings
  '${7*7}{{7*7}}', // template injection
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '**bold** [link](javascript:alert(1)) `code`',
  "'; DROP TABLE conversations; --",
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'I was charged twice',
  'quiero hablar con una persona',
  'handoff',
  'confirm:yes',
  'intent:billing.charged_twice',
  'intent:__proto__',
  'intent:',
] as const;

export function unicodeEdge(rng: Rng): string {
  return rng.pick(UNICODE_EDGES);
}

/** A random string of code units, surrogates and controls included. */
export function randomUnits(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const kind = rng.int(6);
    if (kind === 0) out += String.fromCharCode(rng.int(0x20));
    else if (kind === 1) out += String.fromCharCode(0xd800 + rng.int(0x800));
    else if (kind === 2) out += String.fromCharCode(rng.int(0x10000));
    else out += String.fromCharCode(0x20 + rng.int(0x5f));
  }
  return out;
}

export function weirdString(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => unicodeEdge(rng)],
    [2, () => randomUnits(rng, rng.range(1, 40))],
    [1, () => ''],
    [1, () => ' '.repeat(rng.range(1, 20))],
    [1, () => 'a'.repeat(rng.pick([63, 64, 65, 119, 120, 121, 254, 255, 511, 512, 513, 1999, 2000, 2001, 4000]))],
    [1, () => '\u00E9'.repeat(rng.pick([1000, 2000, 2001, 5461, 8191]))], // 2-byte UTF-8
    [1, () => '\u{1F600}'.repeat(rng.pick([500, 1000, 1001, 2000]))], // surrogate pairs: length counts units
    [1, () => String(rng.range(-1e6, 1e6))],
  ])();
}

/** Any JSON value, from harmless to hostile. */
export function weirdValue(rng: Rng, depth = 0): unknown {
  return rng.weighted<() => unknown>([
    [3, () => weirdString(rng)],
    [1, () => null],
    [1, () => rng.chance(0.5)],
    [2, () => rng.pick([0, -0, -1, 1, 1.5, 6, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, 1e21, 0.1 + 0.2])],
    [1, () => new Raw(rng.pick(['1e400', '-1e400', '1E+999', '0.0000000000000000000000001', '123456789012345678901234567890', '-0.0']), 'big number text')],
    [1, () => (depth > 2 ? [] : Array.from({ length: rng.int(4) }, () => weirdValue(rng, depth + 1)))],
    [1, () => (depth > 2 ? {} : Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(['a', '__proto__', 'constructor', 'type', 'text', '']), weirdValue(rng, depth + 1)])))],
    [1, () => deepNesting(rng, rng.pick([100, 1000, 3000, 5000]))],
    [1, () => protoPollution(rng)],
  ])();
}

/** `__proto__` / `constructor.prototype` as own keys (JSON.parse creates them as own properties). */
export function protoPollution(rng: Rng): Raw {
  const text = rng.pick([
    '{"__proto__":{"polluted":true,"type":"ping","isAdmin":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"__proto__":null}',
    '{"__proto__":[]}',
    '{"__proto__":{"__proto__":{"toString":1}}}',
    '{"toString":"x","valueOf":1,"hasOwnProperty":null}',
  ]);
  return new Raw(text, `'${text}'`);
}
