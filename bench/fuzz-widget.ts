/**
 * Widget protocol fuzzing (/ws): random, malformed and out-of-order frames on many connections.
 * Every server frame must parse with parseServerFrame; after refusals a connection must still
 * answer a ping, unless the server closed it with a documented code (1009, 4008, 1012).
 */
import WebSocket from 'ws';
import { ERROR_CATALOGUE } from '../server/errors.js';
import { CLIENT_FRAME_TYPES, MAX_FRAME_BYTES, parseClientFrame, parseServerFrame } from '../server/transport/protocol.js';
import { remember, runWorkers, sleep, stillAlive, type FuzzContext } from './fuzz-context.js';
import { clip } from './fuzz-findings.js';
import { deepNesting, describe, protoPollution, randomUnits, Raw, toJson, unicodeEdge, weirdString, weirdValue, type Rng } from './fuzz-rng.js';

export interface Outgoing {
  data: string | Buffer;
  binary: boolean;
  /** How to rebuild it: the JSON itself when short, an expression otherwise. */
  label: string;
  /** The close code this frame must cause: 1009 over 16 KiB, 1007 not UTF-8 (RFC 6455). */
  closes?: number;
}


const SAMPLE_TEXTS = [
  'I was charged twice',
  'how do I cancel my subscription?',
  'my playlist disappeared',
  'the app crashes when I open it',
  'I want to talk to a person',
  'hola, me cobraron dos veces',
  'quiero hablar con una persona',
  'thanks',
  'yes',
  'no',
  'asdfghjkl',
  '?',
] as const;
const QUICK_REPLIES = ['handoff', 'confirm:yes', 'confirm:no', 'intent:billing.charged_twice', 'intent:nope', 'intent:', 'x'.repeat(120), 'x'.repeat(121), '__proto__'];
const DOCUMENTED_CLOSES = new Set([1009, 4008, 1012]);
const REFUSAL_CODES = new Set(['MALFORMED_JSON', 'UNKNOWN_TYPE', 'VALIDATION_FAILED', 'TEXT_TOO_LONG', 'BINARY_NOT_SUPPORTED', 'RATE_LIMITED']);

interface ConnState {
  started: boolean;
  token: string | null;
  conversationId: string | null;
  clientIds: string[];
}

function own(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

function clientId(rng: Rng, st: ConnState): string {
  if (st.clientIds.length > 0 && rng.chance(0.25)) return rng.pick(st.clientIds);
  const id = `c${rng.int(2 ** 31).toString(36)}`;
  st.clientIds.push(id);
  if (st.clientIds.length > 20) st.clientIds.shift();
  return id;
}

function listenerText(rng: Rng): string {
  return rng.weighted<() => string>([
    [5, () => rng.pick(SAMPLE_TEXTS)],
    [3, () => unicodeEdge(rng)],
    [1, () => randomUnits(rng, rng.range(1, 80))],
    [1, () => 'x'.repeat(rng.pick([1999, 2000]))],
    [1, () => `${rng.pick(SAMPLE_TEXTS)} ${unicodeEdge(rng)}`],
  ])();
}

function forgedToken(rng: Rng, ctx: FuzzContext): string {
  const real = ctx.tokens.length > 0 ? rng.pick(ctx.tokens) : 'v1.conv_AAAAAAAAAAAAAAAA.AAAA';
  const [, id = 'conv_x', mac = ''] = real.split('.');
  const other = ctx.tokens.length > 0 ? (rng.pick(ctx.tokens).split('.')[1] ?? id) : id;
  const flip = (s: string) => {
    if (s.length === 0) return 'A';
    const i = rng.int(s.length);
    return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  };
  return rng.pick([
    `v1.${id}.${flip(mac)}`,
    `v1.${other}.${mac}`,
    `v1.${id}.`,
    `v1..${mac}`,
    `v2.${id}.${mac}`,
    `V1.${id}.${mac}`,
    `v1.${id}.${mac}.extra`,
    `v1.${id}.${mac} `,
    `v1.${id}.${mac.toUpperCase()}`,
    `v1.${id}.${mac}==`,
    `v1.${id}.${mac.slice(0, -1)}`,
    `v1.conv_${'a'.repeat(400)}.${mac}`,
    `v1.${id}.${'A'.repeat(512 - 4 - id.length)}`,
    'a'.repeat(512),
    'a'.repeat(513),
    'v1.__proto__.constructor',
    'v1.conv_\u0000\uD800.x',
    '.',
    '...',
    real.slice(0, rng.int(real.length)),
  ]);
}

/** A well-formed frame of a random type (valid for the state most of the time). */
function validFrame(rng: Rng, st: ConnState, ctx: FuzzContext): Record<string, unknown> {
  if (!st.started && rng.chance(0.8)) {
    if (ctx.tokens.length > 0 && rng.chance(0.3)) return { type: 'conversation.resume', token: rng.pick(ctx.tokens), afterSeq: rng.pick([0, 0, 1, 3, 1000, 2 ** 31]) };
    return rng.pick([{ type: 'conversation.start' }, { type: 'conversation.start', language: 'en' }, { type: 'conversation.start', language: 'es' }]);
  }
  return rng.weighted<() => Record<string, unknown>>([
    [8, () => ({ type: 'message.send', clientId: clientId(rng, st), text: listenerText(rng), ...(rng.chance(0.2) ? { quickReply: rng.pick(QUICK_REPLIES) } : {}) })],
    [3, () => ({ type: 'typing', active: rng.chance(0.5) })],
    [3, () => ({ type: 'ping' })],
    [1, () => ({ type: 'conversation.leave' })],
    [1, () => ({ type: 'message.leave', email: rng.pick(['a@b.co', 'listener@example.com', `${'a'.repeat(240)}@b.co`, 'x@y.z']), text: listenerText(rng) })],
    [1, () => ({ type: 'survey.answer', rating: rng.range(1, 5), ...(rng.chance(0.5) ? { comment: listenerText(rng) } : {}), ...(rng.chance(0.5) ? { resolved: rng.chance(0.5) } : {}) })],
  ])();
}

/** A frame of one type with every field valid, as a base for mutations. */
function template(rng: Rng, type: string, st: ConnState, ctx: FuzzContext): Record<string, unknown> {
  switch (type) {
    case 'conversation.start':
      return { type, language: 'en' };
    case 'conversation.resume':
      return { type, token: ctx.tokens[0] ?? 'v1.conv_AAAAAAAAAAAA.x', afterSeq: 0 };
    case 'message.send':
      return { type, clientId: clientId(rng, st), text: 'hello', quickReply: 'handoff' };
    case 'typing':
      return { type, active: true };
    case 'message.leave':
      return { type, email: 'a@b.co', text: 'call me' };
    case 'survey.answer':
      return { type, rating: 5, comment: 'ok', resolved: true };
    default:
      return { type };
  }
}

function mutate(rng: Rng, st: ConnState, ctx: FuzzContext): Record<string, unknown> {
  const frame = template(rng, rng.pick(CLIENT_FRAME_TYPES), st, ctx);
  const keys = Object.keys(frame);
  const ops = rng.range(1, 3);
  for (let i = 0; i < ops; i++) {
    const op = rng.int(5);
    const key = rng.pick(keys);
    if (op === 0 || op === 1) frame[key] = weirdValue(rng);
    else if (op === 2 && key !== 'type') delete frame[key];
    else if (op === 3) own(frame, rng.pick(['__proto__', 'constructor', 'prototype', 'clientId', 'toString', weirdString(rng)]), weirdValue(rng));
    else frame.type = rng.pick([`${String(frame.type).toUpperCase()}`, ` ${String(frame.type)}`, `${String(frame.type)}\u0000`, `${String(frame.type)}\u200B`, String(frame.type).replace('.', '_')]);
  }
  return frame;
}

function textFrame(json: string, label?: string): Outgoing {
  const bytes = Buffer.byteLength(json);
  return { data: json, binary: false, label: label ?? (json.length <= 240 ? json : clip(json, 240)), ...(bytes > MAX_FRAME_BYTES ? { closes: 1009 } : {}) };
}

function objectFrame(frame: unknown): Outgoing {
  const json = toJson(frame);
  return textFrame(json, json.length <= 240 ? json : describe(frame));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One random outgoing frame. */
export function nextFrame(rng: Rng, st: ConnState, ctx: FuzzContext): Outgoing {
  return rng.weighted<() => Outgoing>([
    [30, () => objectFrame(validFrame(rng, st, ctx))],
    [20, () => objectFrame(mutate(rng, st, ctx))],
    [8, () => {
      // valid frames in invalid orders
      const kind = rng.pick(['send', 'typing', 'leave', 'survey', 'message.leave', 'start', 'forged', 'forged', 'real-resume'] as const);
      if (kind === 'forged') return objectFrame({ type: 'conversation.resume', token: forgedToken(rng, ctx), afterSeq: rng.pick([0, 5, 2 ** 53 - 1]) });
      if (kind === 'real-resume') return objectFrame({ type: 'conversation.resume', token: ctx.tokens.length ? rng.pick(ctx.tokens) : 'v1.x.y', afterSeq: 0 });
      if (kind === 'start') return objectFrame({ type: 'conversation.start', language: rng.pick(['en', 'es']) });
      return objectFrame(template(rng, { send: 'message.send', typing: 'typing', leave: 'conversation.leave', survey: 'survey.answer', 'message.leave': 'message.leave' }[kind], st, ctx));
    }],
    [6, () => objectFrame({ type: rng.chance(0.6) ? weirdString(rng) : weirdValue(rng), ...(rng.chance(0.5) ? { clientId: weirdValue(rng) } : {}) })],
    [8, () => {
      // malformed JSON
      const good = toJson(validFrame(rng, st, ctx));
      const text = rng.weighted<() => string>([
        [4, () => good.slice(0, rng.int(good.length))],
        [2, () => randomUnits(rng, rng.range(0, 200))],
        [1, () => `${good}${good}`],
        [1, () => good.replace(/"/g, "'")],
        [1, () => `${good},`],
        [1, () => `\uFEFF${good}`],
        [1, () => rng.pick(['', ' ', 'null', 'undefined', 'NaN', '{', '}', '[', '"', '{"type"', '{"type":}', '{"type":"ping"', '{"type":"ping"}}', '{type:"ping"}', '/*x*/{"type":"ping"}'])],
      ])();
      return textFrame(text);
    }],
    [3, () => objectFrame(rng.pick<unknown>([[], [{ type: 'ping' }], 1, -1, 'ping', null, true, { }, new Raw('"\\ud800"', '"\\ud800"')]))],
    [3, () => {
      const bytes = rng.bytes(rng.pick([0, 1, 16, 200, 4096, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1]));
      return { data: bytes, binary: true, label: `binary frame of ${bytes.length} bytes: ${bytes.subarray(0, 16).toString('hex')}…`, ...(bytes.length > MAX_FRAME_BYTES ? { closes: 1009 } : {}) };
    }],
    [1, () => {
      // a text frame that is not UTF-8: the socket must fail it (RFC 6455: 1007)
      const bytes = Buffer.concat([Buffer.from('{"type":"ping","x":"'), rng.bytes(rng.range(1, 40)), Buffer.from([0xff, 0xc0]), Buffer.from('"}')]);
      let valid = true;
      try {
        utf8.decode(bytes);
      } catch {
        valid = false;
      }
      return { data: bytes, binary: false, label: `text frame with bytes ${bytes.toString('hex')}`, ...(valid ? {} : { closes: 1007 }) };
    }],
    [3, () => {
      // sizes around the 16 KiB frame limit, in 1- to 4-byte characters
      const target = rng.pick([MAX_FRAME_BYTES - 1, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1, MAX_FRAME_BYTES - 100, 15000, 20000, 70000]);
      const unit = rng.pick(['a', '\u00E9', '\u20AC', '\u{1F600}']);
      const field = rng.pick(['text', 'clientId', 'token', 'type', 'junk']);
      const head = `{"type":"${field === 'token' ? 'conversation.resume' : 'message.send'}","clientId":"huge","afterSeq":0,"${field}":"`;
      const tail = '"}';
      const room = Math.max(0, target - Buffer.byteLength(head) - Buffer.byteLength(tail));
      const unitBytes = Buffer.byteLength(unit);
      const filler = unit.repeat(Math.floor(room / unitBytes)) + 'a'.repeat(room % unitBytes);
      return textFrame(head + filler + tail, `${head}' + ${JSON.stringify(unit)}.repeat(${Math.floor(room / unitBytes)}) + 'a'.repeat(${room % unitBytes}) + '${tail}  (${target} bytes)`);
    }],
    [4, () => {
      const depth = rng.pick([500, 2000, 2600, 5000, 7990, 10_000]);
      const nested = deepNesting(rng, depth);
      const where = rng.pick(['top', 'type', 'text', 'clientId', 'extra', 'token'] as const);
      if (where === 'top') return textFrame(nested.text, nested.label);
      if (where === 'type') return textFrame(`{"type":${nested.text}}`, `'{"type":' + ${nested.label} + '}'`);
      if (where === 'extra') return textFrame(`{"type":"ping","x":${nested.text}}`, `'{"type":"ping","x":' + ${nested.label} + '}'`);
      if (where === 'token') return textFrame(`{"type":"conversation.resume","token":${nested.text},"afterSeq":0}`, `'{"type":"conversation.resume","token":' + ${nested.label} + ',"afterSeq":0}'`);
      return textFrame(`{"type":"message.send","clientId":${where === 'clientId' ? nested.text : '"deep"'},"text":${where === 'text' ? nested.text : '"x"'}}`, `message.send with ${where} = ${nested.label}`);
    }],
    [5, () => {
      const pollution = protoPollution(rng);
      const base = toJson(template(rng, rng.pick(CLIENT_FRAME_TYPES), st, ctx));
      const text = rng.pick([
        `${base.slice(0, -1)},"__proto__":${pollution.text}}`,
        `${base.slice(0, -1)},"constructor":{"prototype":{"type":"ping"}}}`,
        `{"__proto__":{"type":"ping"}}`,
        `{"type":"ping","__proto__":{"type":"message.send"}}`,
        `{"type":"message.send","clientId":"p1","text":"x","__proto__":{"quickReply":"handoff"}}`,
        `{"type":"__proto__"}`,
        `{"type":"constructor"}`,
        `{"type":"toString"}`,
        `{"type":"hasOwnProperty"}`,
        pollution.text,
      ]);
      return textFrame(text);
    }],
  ])();
}

function checkServerFrame(ctx: FuzzContext, data: WebSocket.RawData, isBinary: boolean, history: () => string): ReturnType<typeof parseServerFrame> {
  const text = Buffer.isBuffer(data) ? data.toString() : Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString();
  if (isBinary) {
    ctx.findings.add('non-protocol-frame', 'the server sent a binary frame', history());
    return null;
  }
  const frame = parseServerFrame(text);
  if (!frame) {
    ctx.findings.add('non-protocol-frame', `server frame does not parse: ${clip(text, 200)}`, history(), `npf|${text.slice(0, 40)}`);
    return null;
  }
  if (frame.type === 'error') {
    if (!(frame.code in ERROR_CATALOGUE)) ctx.findings.add('undocumented-error-code', `error code ${frame.code}: ${frame.message}`, history());
    if (frame.code === 'INTERNAL') ctx.findings.add('internal-error', `INTERNAL error frame: ${frame.message}`, history());
  }
  return frame;
}

interface OpenConnection {
  socket: WebSocket;
  st: ConnState;
  pongs: number;
  errors: Map<string, number>;
  history: string[];
  closed: Promise<{ code: number; reason: string }>;
  isClosed: () => boolean;
  onFrame: ((frame: NonNullable<ReturnType<typeof parseServerFrame>>) => void) | null;
}

function open(ctx: FuzzContext, url: string): Promise<OpenConnection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { origin: 'http://127.0.0.1' }, handshakeTimeout: 5000 });
    let isClosed = false;
    const history: string[] = [];
    const conn: OpenConnection = {
      socket,
      st: { started: false, token: null, conversationId: null, clientIds: [] },
      pongs: 0,
      errors: new Map(),
      history,
      closed: new Promise((res) =>
        socket.on('close', (code, reason) => {
          isClosed = true;
          res({ code, reason: reason.toString() });
        }),
      ),
      isClosed: () => isClosed,
      onFrame: null,
    };
    const describeHistory = () => `ws ${url}: ${history.length ? history.join('  →  ') : '(nothing sent yet)'}`;
    socket.on('message', (data, isBinary) => {
      const frame = checkServerFrame(ctx, data, isBinary, describeHistory);
      if (!frame) return;
      if (frame.type === 'pong') conn.pongs++;
      if (frame.type === 'error') conn.errors.set(frame.code, (conn.errors.get(frame.code) ?? 0) + 1);
      if (frame.type === 'conversation.ready') {
        conn.st.started = true;
        conn.st.token = frame.token;
        conn.st.conversationId = frame.conversationId;
        if (!ctx.tokens.includes(frame.token)) {
          ctx.tokens.push(frame.token);
          if (ctx.tokens.length > 200) ctx.tokens.shift();
        }
      }
      conn.onFrame?.(frame);
    });
    socket.on('error', (error) => {
      if (!isClosed && socket.readyState === WebSocket.OPEN) {
        const text = describeHistory();
        void stillAlive(ctx).then((alive) => alive && ctx.findings.add('non-protocol-frame', `client socket error: ${error.message}`, text, `wserr|${error.message}`));
      }
    });
    socket.once('open', () => resolve(conn));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)));
    socket.once('error', reject);
  });
}

/** What the server's own parser throws on this frame, if it throws (the same code runs in the server). */
export function localParserError(frame: Outgoing): string | null {
  if (frame.binary || typeof frame.data !== 'string') return null;
  try {
    parseClientFrame(frame.data);
    return null;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

/** A frame the run already knows kills the server (skipped so the run can go on). */
function knownKiller(ctx: FuzzContext, frame: Outgoing): boolean {
  const error = ctx.blockedParserErrors.size > 0 ? localParserError(frame) : null;
  if (ctx.blocked.has(familyOf(frame)) || (error !== null && ctx.blockedParserErrors.has(error))) {
    ctx.suppressed.count++;
    return true;
  }
  return false;
}

/** Frames that differ only in their numbers (depths, sizes, ids) are one family: blocking one blocks them all. */
function familyOf(frame: Outgoing): string {
  return `ws|${frame.label.replace(/\d+/g, '#')}`;
}

function send(ctx: FuzzContext, conn: OpenConnection, frame: Outgoing): Promise<void> {
  ctx.counters.framesSent++;
  conn.history.push(frame.label);
  if (conn.history.length > 8) conn.history.shift();
  const afterStart = conn.st.started;
  remember(ctx, { transport: 'ws', key: familyOf(frame), label: `${afterStart ? '(after conversation.start) ' : ''}${frame.label}`, replay: (env) => replayFrame(env.server.wsUrl, frame, afterStart), parserError: () => localParserError(frame) });
  return new Promise((resolve) => conn.socket.send(frame.data, { binary: frame.binary }, () => resolve()));
}

/** Whether the server will answer this frame with a pong (as the server itself parses it). */
function isPing(frame: Outgoing): boolean {
  if (frame.binary || typeof frame.data !== 'string') return false;
  try {
    const parsed = parseClientFrame(frame.data);
    return parsed.ok && parsed.frame.type === 'ping';
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, abort: () => boolean): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (abort() || Date.now() > end) return condition();
    await sleep(5);
  }
  return true;
}

function historyOf(conn: OpenConnection, url: string): string {
  return `ws ${url}: ${conn.history.join('  →  ')}`;
}

/** Waits for the server's close and judges its code against what was sent. */
async function judgeClose(ctx: FuzzContext, conn: OpenConnection, url: string, expected: number | null, expectedBy = ''): Promise<void> {
  const result = await Promise.race([conn.closed, sleep(5000).then(() => null)]);
  if (!(await stillAlive(ctx))) return;
  if (result === null) {
    if (expected !== null) ctx.findings.add('undocumented-close', `expected close ${expected}, the connection stayed open`, historyOf(conn, url), `noclose|${expected}`);
    conn.socket.terminate();
    return;
  }
  if (expected === 1007 && result.code === 1007) {
    ctx.findings.note('a text frame that is not UTF-8 closes the socket with 1007 (RFC 6455 §8.1; not listed in docs/protocol.md)');
    return;
  }
  if (expected !== null && result.code === expected) return;
  if (result.code === 1012 || result.code === 4008) return;
  if (result.code === 1006) ctx.findings.add('abnormal-close', `connection dropped without a close frame (1006)${expected ? `; expected ${expected} after a ${expectedBy}` : ''}`, historyOf(conn, url), `1006|${expected}|${expectedBy.slice(0, 12)}`);
  else if (DOCUMENTED_CLOSES.has(result.code)) ctx.findings.add('undocumented-close', `closed ${result.code} (${result.reason}) although nothing sent called for it`, historyOf(conn, url), `close|${result.code}`);
  else ctx.findings.add('undocumented-close', `closed with undocumented code ${result.code} (${result.reason})`, historyOf(conn, url), `close|${result.code}`);
}

/** One connection's life in the parser phase: batches of random frames, each followed by a ping check. */
async function parserConnection(ctx: FuzzContext, rng: Rng): Promise<void> {
  const url = ctx.server.wsUrl;
  const conn = await open(ctx, url);
  let expectedPongs = 0;
  let expectedClose: number | null = null;
  let expectedBy = '';
  const budget = rng.range(5, 250);
  let sent = 0;
  try {
    while (sent < budget && !ctx.stopped() && !conn.isClosed() && expectedClose === null) {
      const flood = rng.chance(0.03);
      const batch = flood ? rng.range(50, 300) : rng.range(1, 20);
      for (let i = 0; i < batch && !conn.isClosed(); i++) {
        const frame = flood && rng.chance(0.7) ? textFrame(rng.chance(0.5) ? '{"type":"ping"}' : '{"type":"typing","active":1}') : nextFrame(rng, conn.st, ctx);
        if (knownKiller(ctx, frame)) continue;
        if (isPing(frame)) expectedPongs++;
        await send(ctx, conn, frame);
        sent++;
        if (frame.closes !== undefined) {
          expectedClose = frame.closes;
          const size = typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.length;
          expectedBy = `${size}-byte ${frame.binary ? 'binary' : 'text'} frame (${clip(frame.label, 120)})`;
          break;
        }
      }
      if (expectedClose !== null || conn.isClosed() || ctx.stopped()) break;
      // the ping check: every frame before it has been handled once its pong is back
      const check = textFrame('{"type":"ping"}');
      expectedPongs++;
      await send(ctx, conn, check);
      sent++;
      const answered = await waitUntil(() => conn.pongs >= expectedPongs || conn.isClosed(), 10_000, () => !ctx.server.alive());
      if (!answered && !(await stillAlive(ctx))) return;
      if (!ctx.server.alive()) return;
      if (!answered) {
        ctx.findings.add('unresponsive', `no pong within 10 s after a ping (${conn.pongs}/${expectedPongs} pongs)`, historyOf(conn, url), 'unresponsive');
        return;
      }
      if (conn.isClosed()) break;
    }
    if (expectedClose !== null || conn.isClosed()) await judgeClose(ctx, conn, url, expectedClose, expectedBy);
  } finally {
    if (!conn.isClosed()) conn.socket.close(1000);
  }
}

export async function runParserPhase(ctx: FuzzContext, rng: Rng, concurrency: number): Promise<void> {
  await runWorkers(ctx, rng, concurrency, (own) => parserConnection(ctx, own));
}

/* ---------- the limiter, with the default limits ---------- */

export interface LimiterLimits {
  messagesPerSecond: number;
  burst: number;
  floodLimit: number;
}

function refusals(conn: OpenConnection): number {
  let total = 0;
  for (const [code, count] of conn.errors) if (REFUSAL_CODES.has(code)) total += count;
  return total;
}

/** One connection sending at one pace: steady under the limit, a burst over it, or a flood. */
async function limiterConnection(ctx: FuzzContext, rng: Rng, limits: LimiterLimits): Promise<void> {
  const url = ctx.server.wsUrl;
  const conn = await open(ctx, url);
  const scenario = rng.weighted<'steady' | 'burst' | 'flood' | 'garbage-burst'>([
    [2, 'steady'],
    [3, 'burst'],
    [2, 'flood'],
    [2, 'garbage-burst'],
  ]);
  try {
    if (scenario === 'steady') {
      // under the refill rate: nothing may be refused for rate
      const interval = Math.ceil(1000 / (limits.messagesPerSecond * 0.6));
      const count = rng.range(5, 15);
      for (let i = 0; i < count && !ctx.stopped() && !conn.isClosed(); i++) {
        await send(ctx, conn, i % 3 === 0 ? objectFrame(validFrame(rng, conn.st, ctx)) : textFrame('{"type":"ping"}'));
        await sleep(interval);
      }
      await sleep(300);
      if ((conn.errors.get('RATE_LIMITED') ?? 0) > 0 && ctx.server.alive()) {
        ctx.findings.add('limiter', `RATE_LIMITED at ${(1000 / interval).toFixed(1)} frames/s, under WIDGET_MESSAGES_PER_SECOND=${limits.messagesPerSecond}`, historyOf(conn, url), 'limiter|false-positive');
      }
      return;
    }
    const count = scenario === 'flood' ? rng.range(200, 1000) : rng.range(limits.burst + 1, limits.burst + limits.floodLimit + 15);
    for (let i = 0; i < count && !conn.isClosed(); i++) {
      const frame = scenario === 'garbage-burst' ? nextFrame(rng, conn.st, ctx) : textFrame('{"type":"ping"}');
      if (frame.closes !== undefined || knownKiller(ctx, frame)) continue;
      void send(ctx, conn, frame);
    }
    // let the server work through what was sent
    await waitUntil(() => conn.isClosed(), 2500, () => !ctx.server.alive());
    if (!ctx.server.alive()) return;
    const refused = refusals(conn);
    if (conn.isClosed()) {
      const { code } = await conn.closed;
      if (code === 4008 && refused <= limits.floodLimit) {
        ctx.findings.add('limiter', `closed 4008 after only ${refused} refusals (WIDGET_FLOOD_LIMIT=${limits.floodLimit})`, historyOf(conn, url), 'limiter|early');
      } else if (code !== 4008) await judgeClose(ctx, conn, url, null);
      return;
    }
    if (refused > limits.floodLimit) {
      ctx.findings.add('limiter', `${refused} refusals within 10 s and the connection is still open (WIDGET_FLOOD_LIMIT=${limits.floodLimit})`, historyOf(conn, url), 'limiter|not-closed');
      return;
    }
    // refused for rate but under the flood limit: it must work again once the bucket refills
    await sleep(Math.ceil(1000 / limits.messagesPerSecond) + 300);
    const before = conn.pongs;
    await send(ctx, conn, textFrame('{"type":"ping"}'));
    const answered = await waitUntil(() => conn.pongs > before || conn.isClosed(), 5000, () => !ctx.server.alive());
    if (ctx.server.alive() && !answered) ctx.findings.add('unresponsive', `no pong after the bucket refilled (${refused} refusals before)`, historyOf(conn, url), 'limiter|unresponsive');
  } finally {
    if (!conn.isClosed()) conn.socket.close(1000);
  }
}

export async function runLimiterPhase(ctx: FuzzContext, rng: Rng, concurrency: number, limits: LimiterLimits): Promise<void> {
  await runWorkers(ctx, rng, concurrency, (own) => limiterConnection(ctx, own, limits));
}

/* ---------- a normal conversation, at the end ---------- */

/** Starts a conversation, sends "I was charged twice" and waits for the bot's answer. */
export async function normalConversation(wsUrl: string): Promise<{ ok: boolean; detail: string }> {
  const socket = new WebSocket(wsUrl, { headers: { origin: 'http://127.0.0.1' }, handshakeTimeout: 5000 });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const frames: string[] = [];
    const outcome = await new Promise<{ ok: boolean; detail: string }>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, detail: `no bot answer within 15 s; got ${frames.join(' ').slice(0, 500)}` }), 15_000);
      socket.on('message', (data) => {
        const text = data.toString();
        frames.push(text.slice(0, 120));
        const frame = parseServerFrame(text);
        if (!frame) {
          clearTimeout(timer);
          resolve({ ok: false, detail: `non-protocol frame ${text.slice(0, 200)}` });
          return;
        }
        if (frame.type === 'conversation.ready') socket.send(JSON.stringify({ type: 'message.send', clientId: 'final1', text: 'I was charged twice' }));
        if (frame.type === 'message.new' && frame.author === 'bot' && frame.understanding) {
          clearTimeout(timer);
          resolve({ ok: true, detail: `bot answered (${frame.understanding.intent ?? 'no intent'}, ${frame.understanding.outcome})` });
        }
      });
      socket.send(JSON.stringify({ type: 'conversation.start', language: 'en' }));
    });
    return outcome;
  } catch (error) {
    return { ok: false, detail: `could not talk to the server: ${(error as Error).message}` };
  } finally {
    socket.terminate();
  }
}

/** Replays one frame on a fresh connection (after a start when it was sent on a started one). */
export async function replayFrame(wsUrl: string, frame: Outgoing, afterStart: boolean): Promise<void> {
  const socket = new WebSocket(wsUrl, { headers: { origin: 'http://127.0.0.1' }, handshakeTimeout: 3000 });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  if (afterStart) {
    socket.send('{"type":"conversation.start"}');
    await sleep(150);
  }
  socket.send(frame.data, { binary: frame.binary });
  await sleep(200);
  socket.terminate();
}
