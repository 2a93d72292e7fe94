/**
 * Agent console fuzzing (socket.io namespace /agents), spoken raw (engine.io 4 over a WebSocket)
 * so payloads JSON.stringify could not build (deep nesting, `__proto__` keys) reach the server.
 * Handshakes without a valid session must end in connect_error; for a signed-in agent every
 * ack must be {ok:false, code, message} or a valid ok answer.
 */
import WebSocket from 'ws';
import * as z from 'zod/mini';
import { ERROR_CATALOGUE } from '../server/errors.js';
import { AGENT_REQUEST_NAMES, agentPushSchemas, handoffSummarySchema, type AgentPushName, type AgentRequestName } from '../server/transport/agent-protocol.js';
import { conversationEventSchema, MAX_FRAME_BYTES } from '../server/transport/protocol.js';
import { encodeAny, remember, runWorkers, sleep, stillAlive, type FuzzContext, type ReplayEnv } from './fuzz-context.js';
import { clip } from './fuzz-findings.js';
import { deepNesting, describe, protoPollution, toJson, weirdString, weirdValue, type Rng } from './fuzz-rng.js';

const NS = '/agents';

/** What a successful ack must hold, per request. */
const okSchemas: Record<AgentRequestName, z.ZodMiniType> = {
  'presence.set': z.object({ ok: z.literal(true) }),
  'queue.list': z.object({ ok: z.literal(true), items: z.array(handoffSummarySchema) }),
  'chat.claim': z.object({ ok: z.literal(true), chat: z.nullable(handoffSummarySchema) }),
  'chat.claimNext': z.object({ ok: z.literal(true), chat: z.nullable(handoffSummarySchema) }),
  'chat.open': z.object({ ok: z.literal(true), chat: z.nullable(handoffSummarySchema), events: z.array(conversationEventSchema) }),
  'chat.send': z.object({ ok: z.literal(true), seq: z.number(), messageId: z.string(), duplicate: z.boolean() }),
  'chat.typing': z.object({ ok: z.literal(true) }),
  'chat.close': z.object({ ok: z.literal(true) }),
  'chat.transfer': z.object({ ok: z.literal(true) }),
  'chat.returnToBot': z.object({ ok: z.literal(true) }),
  'messages.list': z.object({ ok: z.literal(true), items: z.array(z.unknown()) }),
  'cannedReplies.list': z.object({ ok: z.literal(true), replies: z.array(z.object({ intent: z.string(), label: z.string(), text: z.string() })) }),
};
const failSchema = z.object({ ok: z.literal(false), code: z.string(), message: z.string() });

export interface RawSocketIo {
  ws: WebSocket;
  /** 'connected', or the connect_error message, or 'closed' when the server dropped the socket. */
  outcome: Promise<string>;
  emit(packet: string): void;
  /** Sends an event with an ack id and resolves with the ack's arguments (raw JSON), or null on timeout/close. */
  request(name: string, payloadJson: string | null, timeoutMs?: number): Promise<string | null>;
  close(): void;
  closed(): boolean;
  pushes: { name: string; payload: unknown }[];
}

/** A minimal engine.io 4 / socket.io 5 client over a raw WebSocket. */
export function connectRaw(baseUrl: string, options: { cookie?: string; connectPayload?: string; onPush?: (name: string, payload: unknown) => void } = {}): RawSocketIo {
  const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url, { headers: options.cookie === undefined ? {} : { cookie: options.cookie }, handshakeTimeout: 5000 });
  let nextId = 1;
  let isClosed = false;
  const acks = new Map<number, (args: string | null) => void>();
  const pushes: { name: string; payload: unknown }[] = [];
  let settle: (outcome: string) => void = () => {};
  const outcome = new Promise<string>((resolve) => (settle = resolve));
  const prefix = `${NS},`;
  ws.on('error', () => {});
  ws.on('close', () => {
    isClosed = true;
    settle('closed');
    for (const resolve of acks.values()) resolve(null);
    acks.clear();
  });
  ws.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('0')) {
      ws.send(`40${prefix}${options.connectPayload ?? ''}`);
      return;
    }
    if (text === '2') {
      ws.send('3');
      return;
    }
    if (!text.startsWith('4')) return;
    const packet = text.slice(1);
    if (!packet.startsWith(packet[0] + prefix)) return;
    const type = packet[0];
    const body = packet.slice(1 + prefix.length);
    if (type === '0') settle('connected');
    else if (type === '4') {
      try {
        settle(String((JSON.parse(body) as { message?: unknown }).message));
      } catch {
        settle(`connect_error ${body}`);
      }
    } else if (type === '1') settle('disconnected');
    else if (type === '3') {
      const match = /^(\d+)(.*)$/s.exec(body);
      if (!match) return;
      const resolve = acks.get(Number(match[1]));
      acks.delete(Number(match[1]));
      resolve?.(match[2] ?? '');
    } else if (type === '2') {
      try {
        const [name, payload] = JSON.parse(body.replace(/^\d+/, '')) as [string, unknown];
        pushes.push({ name, payload });
        if (pushes.length > 50) pushes.shift();
        options.onPush?.(name, payload);
      } catch {
        options.onPush?.('(unparsable push)', body);
      }
    }
  });
  return {
    ws,
    outcome,
    pushes,
    emit(packet) {
      if (!isClosed && ws.readyState === WebSocket.OPEN) ws.send(packet);
    },
    request(name, payloadJson, timeoutMs = 5000) {
      const id = nextId++;
      return new Promise((resolve) => {
        if (isClosed || ws.readyState !== WebSocket.OPEN) return resolve(null);
        const timer = setTimeout(() => {
          acks.delete(id);
          resolve(null);
        }, timeoutMs);
        acks.set(id, (args) => {
          clearTimeout(timer);
          resolve(args);
        });
        ws.send(`42${prefix}${id}[${JSON.stringify(name)}${payloadJson === null ? '' : `,${payloadJson}`}]`);
      });
    },
    close() {
      ws.terminate();
    },
    closed: () => isClosed,
  };
}

/** Sends one raw socket.io packet again on a fresh agent connection (or a fresh unauthenticated one). */
async function replayPacket(env: ReplayEnv, packet: string, signedIn: boolean): Promise<void> {
  const client = connectRaw(env.server.url, signedIn ? { cookie: env.agentCookie } : {});
  await Promise.race([client.outcome, sleep(2000)]);
  client.emit(packet);
  await sleep(300);
  client.close();
}

function rememberPacket(ctx: FuzzContext, packet: string, label: string, signedIn = true): void {
  remember(ctx, { transport: 'socket.io', key: `sio|${label}`, label, replay: (env) => replayPacket(env, packet, signedIn) });
}

/* ---------- handshakes ---------- */

function garbageCookie(rng: Rng, analystCookie: string | null): { cookie?: string; connectPayload?: string; label: string; expect: string[] } {
  const unauthorized = ['UNAUTHORIZED', 'closed'];
  return rng.weighted<() => { cookie?: string; connectPayload?: string; label: string; expect: string[] }>([
    [2, () => ({ label: 'no cookie', expect: unauthorized })],
    [3, () => {
      const value = rng.pick([
        'sid=',
        'sid=garbage',
        `sid=${'A'.repeat(43)}`,
        `sid=${'A'.repeat(201)}`,
        `sid=${'x'.repeat(4000)}`,
        'sid=%E0%A4%A',
        'sid=%00',
        'sid=__proto__',
        'sid=constructor',
        'sid=toString',
        'sid',
        '=;;;=',
        'sid=a; sid=b',
        `sid=${encodeAny(weirdString(rng))}`,
        `other=1; sid=${rng.bytes(32).toString('base64url')}`,
      ]);
      return { cookie: value, label: `cookie ${clip(value, 80)}`, expect: unauthorized };
    }],
    [2, () => {
      const payload = rng.pick([
        '{"token":"garbage"}',
        '{"token":""}',
        `{"token":"${'a'.repeat(300)}"}`,
        '{"token":123}',
        '{"token":{"__proto__":{"x":1}}}',
        '{"__proto__":{"token":"x"}}',
        '{"status":"online","token":null}',
        `{"token":${deepNesting(rng, 2000).text}}`,
        '[1,2]',
        '"token"',
        '{',
        'null',
      ]);
      return { connectPayload: payload, label: `connect payload ${clip(payload, 80)}`, expect: unauthorized };
    }],
    [analystCookie ? 1 : 0, () => ({ cookie: analystCookie ?? '', label: 'an analyst session cookie', expect: ['FORBIDDEN'] })],
  ])();
}

async function handshakeCase(ctx: FuzzContext, rng: Rng, analystCookie: string | null): Promise<void> {
  const attempt = garbageCookie(rng, analystCookie);
  ctx.counters.socketIoRequests++;
  remember(ctx, {
    transport: 'socket.io',
    key: `sio|hs|${attempt.label}`,
    label: `socket.io ${NS} handshake with ${attempt.label}`,
    replay: async (env) => {
      const again = connectRaw(env.server.url, attempt);
      await Promise.race([again.outcome, sleep(2000)]);
      again.close();
    },
  });
  const client = connectRaw(ctx.server.url, attempt);
  const outcome = await Promise.race([client.outcome, sleep(5000).then(() => 'timeout')]);
  client.close();
  if (outcome === 'closed' || outcome === 'timeout' ? !(await stillAlive(ctx)) : !ctx.server.alive()) return;
  const repro = `socket.io ${NS} handshake with ${attempt.label}`;
  if (outcome === 'connected') ctx.findings.add('socketio-handshake', `connected without a valid agent session (${attempt.label})`, repro, `hs|${attempt.label.slice(0, 30)}`);
  else if (!attempt.expect.includes(outcome)) ctx.findings.add('socketio-handshake', `handshake ended with "${outcome}", expected ${attempt.expect.join(' or ')}`, repro, `hs|${outcome}|${attempt.label.slice(0, 20)}`);
}

/** Raw garbage on the engine.io socket: must not hurt the server. */
async function garbagePackets(ctx: FuzzContext, rng: Rng, cookie: string): Promise<void> {
  const client = connectRaw(ctx.server.url, { cookie });
  await Promise.race([client.outcome, sleep(3000)]);
  const packets = [
    '4', '42', '42/agents,', '42/agents,[', '42/agents,["queue.list"', '42/agents,[1]', '42/agents,[null]', '42/agents,[[]]', '42/agents,{}',
    '42/agents,1', '42/agents,99999999999999999999["queue.list",{}]', '42/agents,-1["queue.list",{}]', '45/agents,1-["chat.send",{"_placeholder":true,"num":0}]',
    '43/agents,1[]', '41/agents,', '40/agents,', '40/nope,', '42/nope,["x"]', '6', '5', '1', '9', '', '\u0000',
    `42/agents,${deepNesting(rng, 5000).text}`, `42/agents,["chat.send",${deepNesting(rng, 5000).text}]`,
    '42/agents,["disconnect"]', '42/agents,["connect"]', '42/agents,["error",{}]', '42/agents,["newListener","x"]', '42/agents,["removeListener","x"]',
  ];
  const count = rng.range(1, 6);
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    const packet = rng.chance(0.8) ? rng.pick(packets) : `4${weirdString(rng)}`;
    sent.push(clip(packet, 80));
    if (ctx.blocked.has(`sio|raw packet ${clip(packet, 200)}`)) continue;
    rememberPacket(ctx, packet, `raw packet ${clip(packet, 200)}`);
    ctx.counters.socketIoRequests++;
    client.emit(packet);
  }
  await sleep(100);
  // the namespace, if it is still connected, must still answer
  if (!client.closed() && (await Promise.race([client.outcome, sleep(10)])) === 'connected') {
    const answer = await client.request('queue.list', '{}');
    if (answer === null && !client.closed() && (await stillAlive(ctx))) {
      ctx.findings.add('socketio-ack', 'no answer to queue.list after garbage packets (socket still open)', `socket.io raw packets: ${sent.join('  →  ')}`, 'garbage|noack');
    }
  }
  client.close();
}

/* ---------- requests for a signed-in agent ---------- */

interface AgentState {
  conversations: string[];
}

function conversationId(rng: Rng, st: AgentState): unknown {
  if (st.conversations.length > 0 && rng.chance(0.6)) return rng.pick(st.conversations);
  return rng.pick(['conv_AAAAAAAAAAAAAAAA', 'conv_', 'conv_1234567', `conv_${'a'.repeat(64)}`, `conv_${'a'.repeat(65)}`, 'conv___proto__xx', 'CONV_AAAAAAAA', weirdValue(rng)]);
}

function validPayload(rng: Rng, name: AgentRequestName, st: AgentState): Record<string, unknown> {
  const id = conversationId(rng, st);
  switch (name) {
    case 'presence.set':
      return { status: rng.pick(['online', 'away', 'offline', 'online']) };
    case 'chat.claim':
    case 'chat.open':
    case 'chat.returnToBot':
      return { conversationId: id };
    case 'chat.send':
      return { conversationId: id, clientId: `a${rng.int(1e6)}`, text: rng.pick(['Hi, I can help.', weirdString(rng), 'x'.repeat(2000), 'x'.repeat(2001)]) };
    case 'chat.typing':
      return { conversationId: id, active: rng.chance(0.5) };
    case 'chat.close':
      return { conversationId: id, resolution: { resolved: rng.chance(0.5), intent: rng.pick([null, 'billing.charged_twice', 'nope', 'a.b', '__proto__.x']), ...(rng.chance(0.3) ? { note: rng.pick(['n', 'x'.repeat(1000), 'x'.repeat(1001)]) } : {}) } };
    case 'chat.transfer':
      return { conversationId: id, to: rng.pick<unknown>([{ queue: 'en' }, { queue: 'es' }, { queue: 'fr' }, { agentId: 'agt_nobody' }, { agentId: '' }, { agentId: '__proto__' }, { agentId: 'x', queue: 'en' }]) };
    case 'cannedReplies.list':
      return { language: rng.pick(['en', 'es', 'fr', '__proto__']) };
    default:
      return {};
  }
}

function payloadFor(rng: Rng, name: AgentRequestName, st: AgentState): { json: string | null; label: string } {
  return rng.weighted<() => { json: string | null; label: string }>([
    [5, () => {
      const p = validPayload(rng, name, st);
      return { json: toJson(p), label: describe(p) };
    }],
    [4, () => {
      const p = validPayload(rng, name, st);
      const keys = Object.keys(p);
      const key = keys.length > 0 && rng.chance(0.7) ? rng.pick(keys) : rng.pick(['__proto__', 'constructor', 'x']);
      Object.defineProperty(p, key, { value: weirdValue(rng), enumerable: true, writable: true, configurable: true });
      return { json: toJson(p), label: describe(p) };
    }],
    [2, () => {
      const v = weirdValue(rng);
      return { json: toJson(v), label: describe(v) };
    }],
    [1, () => ({ json: null, label: '(no payload)' })],
    [1, () => {
      const n = deepNesting(rng, rng.pick([1000, 3000, 5000]));
      return { json: n.text, label: n.label };
    }],
    [1, () => {
      const n = protoPollution(rng);
      return { json: n.text, label: n.label };
    }],
    [1, () => {
      const p = validPayload(rng, name, st);
      return { json: `${toJson(p)},${toJson(weirdValue(rng))}`, label: `${describe(p)}, <extra argument>` };
    }],
  ])();
}

function judgeAck(ctx: FuzzContext, name: string, label: string, args: string): void {
  const repro = `socket.io ${NS} emit(${JSON.stringify(name)}, ${label}, ack)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    ctx.findings.add('socketio-ack', `ack is not JSON: ${clip(args, 120)}`, repro, `ack|json|${name}`);
    return;
  }
  const first = Array.isArray(parsed) ? parsed[0] : undefined;
  if (!Array.isArray(parsed) || parsed.length !== 1) {
    ctx.findings.add('socketio-ack', `ack has ${Array.isArray(parsed) ? parsed.length : 'no'} arguments: ${clip(args, 120)}`, repro, `ack|arity|${name}`);
    return;
  }
  const fail = z.safeParse(failSchema, first);
  if (fail.success) {
    if (!(fail.data.code in ERROR_CATALOGUE)) ctx.findings.add('socketio-ack', `undocumented error code ${fail.data.code}`, repro, `ack|code|${fail.data.code}`);
    if (fail.data.code === 'INTERNAL') ctx.findings.add('internal-error', `${name} answered INTERNAL: ${fail.data.message}`, repro, `ack|internal|${name}`);
    return;
  }
  const schema = (okSchemas as Record<string, z.ZodMiniType | undefined>)[name];
  if (!schema || !z.safeParse(schema, first).success) ctx.findings.add('socketio-ack', `${name}: ack is neither {ok:false, code, message} nor a valid ok: ${clip(args, 200)}`, repro, `ack|shape|${name}`);
}

const UNKNOWN_EVENTS = ['chat.delete', 'admin.promote', 'queue.clear', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'then', '', 'presence.set ', 'Presence.Set', 'chat.send\u0000', 'x'.repeat(1000)];

/** A signed-in agent's console: many requests, each ack judged; unknown events must not break it. */
async function agentSession(ctx: FuzzContext, rng: Rng, cookie: string, st: AgentState): Promise<void> {
  const pushProblems = (name: string, payload: unknown) => {
    const schema = (agentPushSchemas as Record<string, z.ZodMiniType | undefined>)[name as AgentPushName];
    if (!schema) ctx.findings.add('socketio-push', `unknown push ${name}`, `socket.io ${NS}: push ${clip(JSON.stringify(payload) ?? '', 200)}`, `push|${name}`);
    else if (!z.safeParse(schema, payload).success) ctx.findings.add('socketio-push', `push ${name} does not match its schema: ${clip(JSON.stringify(payload) ?? '', 300)}`, `socket.io ${NS}: push ${name}`, `push|shape|${name}`);
    if (name === 'chat.assigned') {
      const id = (payload as { chat?: { conversationId?: unknown } }).chat?.conversationId;
      if (typeof id === 'string' && !st.conversations.includes(id)) {
        st.conversations.push(id);
        if (st.conversations.length > 30) st.conversations.shift();
      }
    }
  };
  const client = connectRaw(ctx.server.url, { cookie, onPush: pushProblems });
  const outcome = await Promise.race([client.outcome, sleep(5000).then(() => 'timeout')]);
  if (outcome !== 'connected') {
    if (await stillAlive(ctx)) ctx.findings.add('socketio-handshake', `a signed-in agent could not connect: ${outcome}`, `socket.io ${NS} with a valid sid cookie`, 'hs|agent');
    client.close();
    await sleep(500);
    return;
  }
  const budget = rng.range(20, 120);
  try {
    for (let i = 0; i < budget && !ctx.stopped() && !client.closed(); i++) {
      if (rng.chance(0.1)) {
        const name = rng.chance(0.7) ? rng.pick(UNKNOWN_EVENTS) : weirdString(rng);
        const value = weirdValue(rng);
        const payload = toJson(value);
        const packetLabel = `emit(${clip(JSON.stringify(name), 60)}, ${clip(describe(value), 200)})`;
        if (ctx.blocked.has(`sio|${packetLabel}`)) continue;
        rememberPacket(ctx, `42${NS},[${JSON.stringify(name)},${payload}]`, packetLabel);
        ctx.counters.socketIoRequests++;
        if (Buffer.byteLength(payload) > MAX_FRAME_BYTES) {
          ctx.findings.note('socket.io packets over maxHttpBufferSize (16 KiB) end the connection (engine.io closes it)');
          client.emit(`42${NS},[${JSON.stringify(name)},${payload}]`);
          return;
        }
        const answer = await client.request(name, payload, 300);
        if (answer !== null) ctx.findings.add('socketio-ack', `an unknown event ${JSON.stringify(name).slice(0, 40)} was acknowledged: ${clip(answer, 100)}`, `socket.io ${NS} emit(${JSON.stringify(name).slice(0, 60)}, …, ack)`, 'ack|unknown');
        continue;
      }
      const name = rng.pick(AGENT_REQUEST_NAMES);
      const { json, label } = payloadFor(rng, name, st);
      const packetLabel = `emit(${JSON.stringify(name)}, ${clip(label, 300)})`;
      if (ctx.blocked.has(`sio|${packetLabel}`)) continue;
      rememberPacket(ctx, `42${NS},[${JSON.stringify(name)}${json === null ? '' : `,${json}`}]`, packetLabel);
      ctx.counters.socketIoRequests++;
      const withAck = rng.chance(0.9);
      if (!withAck) {
        if (Buffer.byteLength(json ?? '') > MAX_FRAME_BYTES) {
          ctx.findings.note('socket.io packets over maxHttpBufferSize (16 KiB) end the connection (engine.io closes it)');
          client.emit(`42${NS},[${JSON.stringify(name)}${json === null ? '' : `,${json}`}]`);
          return;
        }
        client.emit(`42${NS},[${JSON.stringify(name)}${json === null ? '' : `,${json}`}]`);
        continue;
      }
      const answer = await client.request(name, json, 8000);
      if (answer === null && !(await stillAlive(ctx))) return;
      if (!ctx.server.alive()) return;
      const packetBytes = Buffer.byteLength(`42${NS},0[${JSON.stringify(name)},${json ?? ''}]`);
      if (answer === null && packetBytes > MAX_FRAME_BYTES) {
        ctx.findings.note(`socket.io packets over maxHttpBufferSize (16 KiB) end the connection (engine.io closes it)`);
        return;
      }
      if (answer === null) {
        if (!client.closed()) ctx.findings.add('socketio-ack', `${name}: no ack within 8 s`, `socket.io ${NS} emit(${JSON.stringify(name)}, ${clip(label, 600)}, ack)`, `ack|timeout|${name}`);
        else ctx.findings.add('socketio-ack', `${name}: the server dropped the agent's socket`, `socket.io ${NS} emit(${JSON.stringify(name)}, ${clip(label, 600)}, ack)`, `ack|dropped|${name}`);
        return;
      }
      judgeAck(ctx, name, clip(label, 600), answer);
    }
  } finally {
    client.close();
  }
}

/** Conversations waiting for a person, so the agent has chats to work on. */
async function makeHandoff(ctx: FuzzContext, rng: Rng): Promise<void> {
  const socket = new WebSocket(ctx.server.wsUrl, { headers: { origin: 'http://127.0.0.1' }, handshakeTimeout: 3000 });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('message', (data) => {
    if (data.toString().includes('"conversation.ready"')) socket.send(JSON.stringify({ type: 'message.send', clientId: 'h1', text: rng.pick(['I want to talk to a person', 'I was charged twice']) }));
  });
  socket.send(JSON.stringify({ type: 'conversation.start', language: rng.pick(['en', 'en', 'es']) }));
  await sleep(1500);
  socket.terminate();
}

export async function runAgentPhase(ctx: FuzzContext, rng: Rng, cookies: { agent: string; analyst: string | null }): Promise<void> {
  const st: AgentState = { conversations: [] };
  await runWorkers(ctx, rng, 3, async (own, index) => {
    if (index === 0) return agentSession(ctx, own, cookies.agent, st);
    if (index === 1) {
      if (own.chance(0.5)) return makeHandoff(ctx, own);
      return garbagePackets(ctx, own, cookies.agent);
    }
    return handshakeCase(ctx, own, cookies.analyst);
  });
}

