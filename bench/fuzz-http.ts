/**
 * HTTP fuzzing: random methods, paths, headers and bodies on every route, plus a few raw
 * requests node's HTTP client would refuse to write. A 5xx is a finding; every error body must be
 * {statusCode, code, error, message}.
 */
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { ERROR_CATALOGUE } from '../server/errors.js';
import { encodeAny, remember, runWorkers, sleep, stillAlive, type FuzzContext } from './fuzz-context.js';
import { clip } from './fuzz-findings.js';
import { deepNesting, protoPollution, randomUnits, toJson, weirdString, weirdValue, type Rng } from './fuzz-rng.js';

const ROUTES = ['/', '/console', '/widget.js', '/console.js', '/healthz', '/readyz', '/api/session', '/api/session', '/api/session', '/ws', '/socket.io/', '/metrics', '/analytics', '/analytics.js', '/api/analytics/csat', '/favicon.ico', '/api'];
const METHODS = ['GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'SEARCH', 'TRACE', 'FOO', 'get'];
const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json;;;',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json, text/plain',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '',
  'garbage',
  'application/json; boundary="',
];

export interface HttpCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
  label: string;
}

function fuzzPath(rng: Rng): string {
  let path = rng.pick(ROUTES);
  const op = rng.int(10);
  if (op === 0) path += `/${encodeAny(weirdString(rng)).slice(0, 200)}`;
  else if (op === 1) path += rng.pick(['%', '%zz', '%00', '%E0%A4%A', '%2e%2e/%2e%2e/etc/passwd', '/..', '/../..//', ';jsessionid=1', '#frag', '*', '%2F']);
  else if (op === 2) path += `?${rng.pick(['__proto__[polluted]=1', 'constructor[prototype][x]=1', 'a=1&a=2&a=3', 'x='.padEnd(4000, 'x'), '=', '&&&', '%', 'EIO=4&transport=polling', 'EIO=3&transport=websocket', 'sid=__proto__'])}`;
  else if (op === 3) path = `/${'a'.repeat(rng.pick([100, 2000, 8000]))}`;
  else if (op === 4) path = path.toUpperCase();
  else if (op === 5) path = `//${path}`;
  else if (op === 6) path += '/';
  return path;
}

function fuzzBody(rng: Rng): { body: Buffer | null; label: string } {
  const json = (value: unknown) => Buffer.from(toJson(value));
  return rng.weighted<() => { body: Buffer | null; label: string }>([
    [2, () => ({ body: null, label: 'no body' })],
    [4, () => {
      const body = { email: rng.chance(0.5) ? 'agent@example.com' : weirdValue(rng), password: rng.chance(0.5) ? 'wrong password' : weirdValue(rng) };
      return { body: json(body), label: clip(toJson(body), 200) };
    }],
    [2, () => {
      const text = toJson({ email: 'a@b.co', password: 'x' });
      const cut = text.slice(0, rng.int(text.length));
      return { body: Buffer.from(cut), label: `truncated JSON ${JSON.stringify(cut)}` };
    }],
    [2, () => {
      const raw = rng.pick(['', ' ', 'null', '[]', '1', '"x"', 'true', '{', '{"email":', '{"email":"a@b.co","password":"x"}}', "{'email':'a'}", 'NaN', '\uFEFF{}']);
      return { body: Buffer.from(raw), label: `body ${JSON.stringify(raw)}` };
    }],
    [2, () => {
      const p = protoPollution(rng);
      const text = rng.pick([p.text, `{"email":"a@b.co","password":"pw","__proto__":{"role":"admin"}}`, `{"email":"a@b.co","password":"pw","constructor":{"prototype":{"role":"admin"}}}`]);
      return { body: Buffer.from(text), label: `body ${text}` };
    }],
    [2, () => {
      const n = deepNesting(rng, rng.pick([1000, 5000, 10_000, 20_000]));
      const where = rng.chance(0.5);
      return { body: Buffer.from(where ? n.text : `{"email":${n.text},"password":"x"}`), label: where ? n.label : `{"email": ${n.label}, "password":"x"}` };
    }],
    [2, () => {
      // sizes around the 64 KiB body limit
      const size = rng.pick([65_535, 65_536, 65_537, 70_000, 200_000, 1_100_000]);
      const head = '{"email":"a@b.co","password":"';
      const tail = '"}';
      const fill = Math.max(0, size - head.length - tail.length);
      return { body: Buffer.from(head + 'x'.repeat(fill) + tail), label: `{"email":"a@b.co","password":"x".repeat(${fill})} (${size} bytes)` };
    }],
    [1, () => ({ body: rng.bytes(rng.range(1, 2000)), label: 'random bytes' })],
    [1, () => {
      const text = randomUnits(rng, rng.range(1, 200));
      return { body: Buffer.from(text), label: `random text ${clip(JSON.stringify(text), 100)}` };
    }],
    [1, () => ({ body: Buffer.from('email=a%40b.co&password=x'), label: 'form body email=a%40b.co&password=x' })],
    [1, () => ({ body: Buffer.from('{"email":"\\ud800","password":"\\u0000"}'), label: 'body {"email":"\\ud800","password":"\\u0000"}' })],
  ])();
}

export function nextHttpCase(rng: Rng, agentCookie: string | null): HttpCase {
  const method = rng.pick(METHODS);
  const path = fuzzPath(rng);
  const headers: Record<string, string> = {};
  const { body, label } = method === 'GET' && rng.chance(0.7) ? { body: null, label: 'no body' } : fuzzBody(rng);
  if (rng.chance(0.8)) {
    const type = rng.pick(CONTENT_TYPES);
    if (type !== '') headers['content-type'] = type;
  }
  if (rng.chance(0.3)) {
    headers.cookie = rng.pick([
      agentCookie ?? 'sid=x',
      'sid=garbage',
      'sid=%E0%A4%A',
      `sid=${'a'.repeat(300)}`,
      'sid=',
      '=;=;',
      `sid=${encodeAny(weirdString(rng))}`,
      'sid=__proto__',
    ]);
  }
  if (rng.chance(0.1)) headers.origin = rng.pick(['null', 'http://evil.example', '']);
  if (rng.chance(0.1)) headers['x-forwarded-for'] = rng.pick(['1.2.3.4', 'garbage', '::1, ::1, ::1', 'x'.repeat(2000)]);
  if (rng.chance(0.1)) headers['content-encoding'] = rng.pick(['gzip', 'br', 'deflate', 'identity', 'x']);
  if (rng.chance(0.1)) headers.accept = rng.pick(['application/json', 'text/html', '*/*;q=x', '']);
  if (rng.chance(0.05)) headers.expect = '100-continue';
  return { method, path, headers, body, label };
}

function describeCase(c: HttpCase): string {
  const headers = Object.entries(c.headers)
    .map(([k, v]) => `${k}: ${clip(v, 80)}`)
    .join('; ');
  return `${c.method} ${clip(c.path, 200)}${headers ? ` [${headers}]` : ''} body: ${c.label}`;
}

/** Judges one answer: a 5xx is a finding, an error must be {statusCode, code, error, message}. */
export function judgeHttp(ctx: FuzzContext, status: number, body: string, method: string, path: string, repro: string, level = ''): void {
  const route = path.split('?')[0]?.split('/').slice(0, 3).join('/') ?? path;
  if (status >= 500 && !level) return; // HTTP-client cases: judged (and minimised) by httpCase
  if (status >= 500) ctx.findings.add('http-5xx', `${level}${method} ${clip(route, 60)} answered ${status}: ${clip(body, 200)}`, repro, `5xx|raw|${status}|${body.slice(0, 60)}`);
  if (status < 400 || method === 'HEAD') return;
  if (path.startsWith('/socket.io')) {
    ctx.findings.note(`engine.io answers errors under /socket.io/ in its own shape {code, message} (e.g. ${status} ${clip(body, 80)})`);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    ctx.findings.add('http-error-shape', `${level}${method} ${clip(route, 60)} → ${status} with a body that is not JSON: ${JSON.stringify(clip(body, 120))}`, repro, `shape|nonjson|${status}|${body.slice(0, 20)}`);
    return;
  }
  const record = parsed as Record<string, unknown>;
  const ok =
    record !== null &&
    typeof record === 'object' &&
    record.statusCode === status &&
    typeof record.code === 'string' &&
    record.code in ERROR_CATALOGUE &&
    typeof record.error === 'string' &&
    typeof record.message === 'string';
  if (!ok) ctx.findings.add('http-error-shape', `${level}${method} ${clip(route, 60)} → ${status} ${clip(body, 200)}`, repro, `shape|${status}|${Object.keys(record ?? {}).sort().join(',')}|${typeof record?.code === 'string' ? record.code : String(record?.message ?? '').slice(0, 12)}`);
}

// A connection per request: a server that drops a connection after an error must not fail the next request.
const agent = new Agent({ keepAlive: false, maxSockets: 8 });

function send(url: string, c: HttpCase): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const headers = { ...c.headers, ...(c.body ? { 'content-length': String(c.body.length) } : {}) };
    let req;
    try {
      req = request({ host: target.hostname, port: target.port, method: c.method, path: c.path, headers, agent, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size < 256 * 1024) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', (error) => resolve({ error: error.message }));
      });
    } catch (error) {
      resolve({ error: `client refused: ${(error as Error).message}` });
      return;
    }
    req.on('timeout', () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (error) => resolve({ error: error.message }));
    if (c.body) req.write(c.body);
    req.end();
  });
}

const MAX_MINIMISATIONS = 12;
let minimisations = 0;

/** Simplifies a request that got a 5xx while it still gets one: the smallest request that shows the bug. */
async function minimise(ctx: FuzzContext, c: HttpCase): Promise<HttpCase> {
  const fails = async (k: HttpCase) => {
    ctx.counters.httpRequests++;
    const answer = await send(ctx.server.url, k);
    return !('error' in answer) && answer.status >= 500;
  };
  let best = c;
  const steps: ((x: HttpCase) => HttpCase | null)[] = [
    (x) => (x.method !== 'POST' ? { ...x, method: 'POST' } : null),
    (x) => (x.path !== '/' ? { ...x, path: '/' } : null),
    ...['cookie', 'origin', 'x-forwarded-for', 'content-encoding', 'accept', 'expect', 'content-type'].map((name) => (x: HttpCase) => {
      if (!(name in x.headers)) return null;
      const headers = { ...x.headers };
      delete headers[name];
      return { ...x, headers };
    }),
    (x) => (x.body && x.body.length > 2 ? { ...x, body: Buffer.from('{}'), label: 'body {}' } : null),
    (x) => (x.body ? { ...x, body: null, label: 'no body' } : null),
  ];
  for (const step of steps) {
    if (!ctx.server.alive()) break;
    const next = step(best);
    if (next && (await fails(next))) best = next;
  }
  return best;
}

async function httpCase(ctx: FuzzContext, rng: Rng, agentCookie: string | null): Promise<void> {
  const c = nextHttpCase(rng, agentCookie);
  const key = `http|${describeCase(c)}`;
  if (ctx.blocked.has(key)) return;
  remember(ctx, { transport: 'http', key, label: describeCase(c), replay: async (env) => void (await send(env.server.url, c)) });
  ctx.counters.httpRequests++;
  const answer = await send(ctx.server.url, c);
  if ('error' in answer ? !(await stillAlive(ctx)) : !ctx.server.alive()) return;
  const repro = `curl-like: ${describeCase(c)}`;
  if ('error' in answer) {
    if (answer.error.startsWith('client refused')) return;
    if (answer.error === 'timeout') ctx.findings.add('unresponsive', `HTTP ${c.method} ${clip(c.path, 60)}: no answer within 10 s`, repro, `httptimeout|${c.method}|${c.path.slice(0, 30)}`);
    // node answers an oversize body (or a refused one) and drops the connection while the client still writes
    else ctx.findings.note(`HTTP connection ended without an answer (${answer.error})${c.body && c.body.length > 64 * 1024 ? ', body over the 64 KiB limit' : ''}`);
    return;
  }
  if (answer.status >= 500) {
    const method = c.method.toUpperCase();
    if (minimisations < MAX_MINIMISATIONS) {
      minimisations++;
      const small = await minimise(ctx, c);
      ctx.findings.add('http-5xx', `${small.method} ${clip(small.path, 60)} answered ${answer.status}: ${clip(answer.body, 160)}`, `curl-like (minimised): ${describeCase(small)}  — found as: ${describeCase(c)}`, `5xx|${describeCase(small).replace(/\d{3,}/g, '#')}`);
    } else ctx.findings.add('http-5xx', `${method} answered ${answer.status} (not minimised: budget spent)`, repro, `5xx|unminimised|${answer.status}`);
    return;
  }
  judgeHttp(ctx, answer.status, answer.body, c.method.toUpperCase(), c.path, repro);
}

/* ---------- raw requests ---------- */

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const RAW_CASES: { name: string; text: string }[] = [
  { name: 'header over 16 KiB', text: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n` },
  { name: 'garbage request line', text: 'GARBAGE\r\n\r\n' },
  { name: 'unknown method', text: 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'bad content-length', text: 'POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' },
  { name: 'content-length and chunked', text: 'POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
  { name: 'bad chunk size', text: 'POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n' },
  { name: 'NUL in the path', text: 'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'HTTP/9.9', text: 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n' },
  { name: 'control character in a header name', text: 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A\u0001: b\r\n\r\n' },
  { name: 'CONNECT', text: 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n' },
  { name: 'upgrade on a non-socket route', text: `GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n` },
  { name: 'upgrade on an unknown route', text: `GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n` },
  { name: '/ws upgrade with websocket version 99', text: `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 99\r\n\r\n` },
  { name: '/ws upgrade without a key', text: 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n' },
  { name: 'POST /ws upgrade', text: `POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n` },
  { name: 'body shorter than content-length (client goes away)', text: 'POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":' },
  { name: 'pipelined requests', text: 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n' },
];

function rawRequest(url: string, text: string, waitMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const socket = connect(Number(target.port), target.hostname);
    let received = '';
    const done = () => {
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.length > 256 * 1024) received = received.slice(0, 256 * 1024);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(text);
  });
}

/** Splits raw HTTP/1.1 answers (pipelined answers included). */
function parseRawAnswers(raw: string): { status: number; body: string }[] {
  const out: { status: number; body: string }[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(head)?.[1] ?? 0);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? -1);
    let body: string;
    if (length >= 0) {
      body = rest.slice(end + 4, end + 4 + length);
      rest = rest.slice(end + 4 + length);
    } else {
      body = rest.slice(end + 4);
      rest = '';
    }
    if (status === 101) break;
    out.push({ status, body });
  }
  return out;
}

export async function runRawCases(ctx: FuzzContext): Promise<void> {
  await Promise.all(
    RAW_CASES.map(async (c) => {
      if (ctx.stopped() || ctx.blocked.has(`raw|${c.name}`)) return;
      ctx.counters.httpRequests++;
      remember(ctx, { transport: 'http', key: `raw|${c.name}`, label: `raw HTTP (${c.name}): ${JSON.stringify(clip(c.text, 300))}`, replay: async (env) => void (await rawRequest(env.server.url, c.text, 500)) });
      const raw = await rawRequest(ctx.server.url, c.text, 1000);
      if (!ctx.server.alive()) return;
      const method = c.text.split(' ')[0] ?? '?';
      const path = c.text.split(' ')[1] ?? '/';
      for (const answer of parseRawAnswers(raw)) {
        judgeHttp(ctx, answer.status, answer.body, method, path, `raw HTTP (${c.name}): ${JSON.stringify(clip(c.text, 300))}`, '(raw) ');
      }
    }),
  );
}

export async function runHttpPhase(ctx: FuzzContext, rng: Rng, agentCookie: string | null, concurrency: number): Promise<void> {
  const raw = runRawCases(ctx);
  await runWorkers(ctx, rng, concurrency, async (own) => {
    await httpCase(ctx, own, agentCookie);
    // leave the two shared cores to the widget fuzz
    await sleep(10);
  });
  await raw;
}
