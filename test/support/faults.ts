/**
 * Helpers for the fault-injection tests: a widget listener driven by the real ChatConnection
 * (with a routable target, as a load balancer would route it), delivery checks that name every
 * problem they find, and a local Redis Cluster.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { REDIS_INSTALL_HINT } from '../../bench/private-redis.js';
import type { ConversationEvent, ReadyFrame } from '../../server/transport/protocol.js';
import { ChatConnection, type ConnectionStatus, type KeyValueStorage } from '../../widget/chat-connection.js';
import type { TestAgent } from './agent-client.js';

export type MessageEvent = Extract<ConversationEvent, { type: 'message.new' }>;

export function memoryStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type Cleanup = () => Promise<void> | void;

/**
 * Runs cleanups newest first; each is bounded, so one that hangs cannot leave the processes
 * the others would stop (private redis-servers, server processes) running.
 */
export async function runCleanups(cleanups: Cleanup[], eachMs = 10_000): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.resolve().then(cleanup).catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, eachMs)))]);
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(everyMs);
  }
}

/**
 * A listener's widget: the real ChatConnection (outbox in storage, resend, resume by sequence,
 * reconnect with backoff) over `ws`. The target URL is a routing decision outside the widget,
 * like a load balancer's: `routeTo(url)` changes where the next (re)connection goes.
 * Every ChatConnection instance (a "session": one page life) records its own events.
 */
export class WidgetListener {
  readonly storage = memoryStorage();
  /** Events delivered to each ChatConnection instance, in delivery order. */
  readonly sessions: ConversationEvent[][] = [];
  /** Every clientId this listener sent, in send order, with its text. */
  readonly sent: { clientId: string; text: string }[] = [];
  readonly acked: string[] = [];
  readonly errors: { code: string; clientId?: string }[] = [];
  readonly readies: ReadyFrame[] = [];
  readonly statuses: ConnectionStatus[] = [];
  /** Every socket the widget opened, and the URL it went to. */
  readonly sockets: { url: string; socket: WebSocket }[] = [];
  private connection: ChatConnection | undefined;

  constructor(private target: string, readonly name = 'listener') {}

  get events(): ConversationEvent[] {
    return this.sessions.at(-1) ?? [];
  }
  get conversationId(): string | undefined {
    return this.readies.at(-1)?.conversationId;
  }
  get pending(): string[] {
    return (this.connection?.pending ?? []).map((m) => m.clientId);
  }
  get lastSocket(): WebSocket | undefined {
    return this.sockets.at(-1)?.socket;
  }

  routeTo(url: string): void {
    this.target = url;
  }

  /** Opens a new ChatConnection on the same storage (first open, or a page reload). */
  open(): void {
    this.connection?.close();
    const events: ConversationEvent[] = [];
    this.sessions.push(events);
    this.connection = new ChatConnection({
      url: this.target,
      language: 'en',
      storage: this.storage,
      // Backoff between 20% and 80% of its ceiling: first reconnect after 100-400 ms.
      random: () => 0.2 + 0.6 * Math.random(),
      createSocket: () => {
        const url = this.target;
        const socket = new WebSocket(url);
        this.sockets.push({ url, socket });
        return socket as never;
      },
      handlers: {
        status: (s) => this.statuses.push(s),
        ready: (frame) => this.readies.push(frame),
        event: (event) => events.push(event),
        acked: (clientId) => this.acked.push(clientId),
        typing: () => {},
        error: (code, _message, clientId) => this.errors.push({ code, ...(clientId === undefined ? {} : { clientId }) }),
        reset: () => {
          throw new Error(`${this.name}: the widget reset its conversation (its token was refused)`);
        },
        queue: () => {},
        surveyAcked: () => {},
        messageLeft: () => {},
      },
    });
    this.connection.connect();
  }

  /** Waits for a conversation.ready beyond the first `seen` ones (0: the first one). */
  async ready(seen = 0, timeoutMs = 10_000): Promise<ReadyFrame> {
    await until(`${this.name}: conversation.ready number ${seen + 1}`, () => this.readies.length > seen, timeoutMs);
    return this.readies.at(-1)!;
  }

  send(text: string, quickReply?: string): string {
    if (!this.connection) throw new Error('open() first');
    const clientId = this.connection.send(text, quickReply);
    this.sent.push({ clientId, text });
    return clientId;
  }

  isAcked(clientId: string): boolean {
    return this.acked.includes(clientId);
  }

  async allAcked(timeoutMs = 10_000): Promise<void> {
    await until(`${this.name}: every sent message acknowledged (pending ${JSON.stringify(this.pending)})`, () => this.sent.every((m) => this.isAcked(m.clientId)) && this.pending.length === 0, timeoutMs);
  }

  /** Cuts the current socket from the client side (a network drop); the widget reconnects by itself. */
  drop(): void {
    this.lastSocket?.terminate();
  }

  close(): void {
    this.connection?.close();
    for (const { socket } of this.sockets) if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  }
}

export function messageEvents(events: readonly ConversationEvent[], author?: string): MessageEvent[] {
  return events.filter((e): e is MessageEvent => e.type === 'message.new' && (author === undefined || e.author === author));
}

/** Problems with a delivered stream: every seq once, strictly consecutive from the first one. */
export function sequenceProblems(label: string, events: readonly ConversationEvent[], firstSeq?: number): string[] {
  const problems: string[] = [];
  const start = firstSeq ?? events[0]?.seq ?? 1;
  events.forEach((event, i) => {
    if (event.seq !== start + i) problems.push(`${label}: position ${i} has seq ${event.seq}, expected ${start + i} (seqs ${JSON.stringify(events.map((e) => e.seq))})`);
  });
  return problems.slice(0, 5);
}

/** Problems between what a side received and what is stored, over the received range (by seq and message id). */
export function matchProblems(label: string, received: readonly ConversationEvent[], stored: readonly ConversationEvent[]): string[] {
  const bySeq = new Map(stored.map((e) => [e.seq, e]));
  const problems: string[] = [];
  for (const event of received) {
    const twin = bySeq.get(event.seq);
    if (!twin) problems.push(`${label}: received seq ${event.seq} that is not stored`);
    else if (twin.type !== event.type || (twin.type === 'message.new' && event.type === 'message.new' && twin.messageId !== event.messageId))
      problems.push(`${label}: seq ${event.seq} differs from the stored event`);
  }
  return problems;
}

/**
 * Exactly-once for one listener: every acknowledged clientId is stored exactly once, the stored
 * listener messages are in the order they were sent, and the stored log has no gap.
 */
export function storedProblems(listener: WidgetListener, stored: readonly ConversationEvent[]): string[] {
  const problems = sequenceProblems(`${listener.name} stored log`, stored, 1);
  const listenerMessages = messageEvents(stored, 'listener');
  const acked = listener.sent.filter((m) => listener.isAcked(m.clientId));
  for (const { clientId, text } of acked) {
    const copies = listenerMessages.filter((m) => m.clientId === clientId);
    if (copies.length !== 1) problems.push(`${listener.name}: acknowledged ${clientId} ("${text}") is stored ${copies.length} times`);
    else if (copies[0]?.text !== text) problems.push(`${listener.name}: ${clientId} is stored with another text`);
  }
  const storedOrder = listenerMessages.map((m) => m.clientId).filter((id): id is string => id !== undefined && acked.some((a) => a.clientId === id));
  const sentOrder = acked.map((m) => m.clientId);
  if (JSON.stringify([...new Set(storedOrder)]) !== JSON.stringify(sentOrder)) problems.push(`${listener.name}: stored order ${JSON.stringify(storedOrder)} is not the send order ${JSON.stringify(sentOrder)}`);
  return problems;
}

/** Exactly-once at the receiving side: each acknowledged clientId arrives once, in send order. */
export function receivedProblems(label: string, listener: WidgetListener, received: readonly ConversationEvent[], clientIds: readonly string[]): string[] {
  const problems: string[] = [];
  const messages = messageEvents(received, 'listener');
  for (const clientId of clientIds) {
    const n = messages.filter((m) => m.clientId === clientId).length;
    if (n !== 1) problems.push(`${label}: ${listener.name}'s acknowledged ${clientId} arrived ${n} times`);
  }
  const order = messages.map((m) => m.clientId).filter((id): id is string => id !== undefined && clientIds.includes(id));
  if (JSON.stringify(order) !== JSON.stringify(clientIds.filter((id) => order.includes(id)))) problems.push(`${label}: ${listener.name}'s messages arrived out of order: ${JSON.stringify(order)}`);
  return problems;
}

/** The events an agent received for one conversation through `chat.event`, in arrival order. */
export function agentEvents(agent: TestAgent, conversationId: string): ConversationEvent[] {
  return agent.pushes
    .filter((p) => p.name === 'chat.event' && (p.payload as { conversationId: string }).conversationId === conversationId)
    .map((p) => (p.payload as { event: ConversationEvent }).event);
}

export async function readAll(store: { readEvents(id: string, after: number): Promise<ConversationEvent[]> }, conversationId: string): Promise<ConversationEvent[]> {
  const all: ConversationEvent[] = [];
  for (;;) {
    const page = await store.readEvents(conversationId, all.at(-1)?.seq ?? 0);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

/* ---------------- a client that never reads ---------------- */

/** Encodes one masked client text frame (RFC 6455), for a raw TCP client. */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return Buffer.concat([header, mask, body]);
}

/**
 * A raw TCP client that upgrades to a WebSocket, writes `frames`, and then never reads again:
 * the server's writes pile up in the kernel and then in the server's own send buffer.
 */
export async function neverReadingClient(port: number, frames: string[]): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  socket.write(
    ['GET /ws HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
  );
  // Read only the upgrade answer, then stop reading for good.
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const timer = setTimeout(() => reject(new Error('no upgrade answer')), 5000);
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      else resolve();
    };
    socket.on('data', onData);
  });
  for (const frame of frames) socket.write(maskedTextFrame(frame));
  return socket;
}

/* ---------------- a local Redis Cluster ---------------- */

export interface RedisCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port whose cluster-bus twin (port + 10000) is free too; both must stay under 65536. */
async function freeClusterPort(taken: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (taken.includes(port) || taken.includes(port + 10_000) || taken.includes(port - 10_000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

function waitForReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`cluster node on ${port} did not start: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.resume();
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cluster node on ${port} exited with ${code}: ${output}`));
    });
  });
}

/** Starts `count` cluster-enabled redis-servers on free loopback ports and joins them into one cluster of primaries. */
export async function startRedisCluster(count = 3): Promise<RedisCluster> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error(REDIS_INSTALL_HINT);
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const nodes: { host: string; port: number }[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      // The cluster bus listens on port + 10000: it must be free as well.
      const port = await freeClusterPort(nodes.map((n) => n.port));
      const dir = mkdtempSync(path.join(tmpdir(), 'redis-cluster-'));
      dirs.push(dir);
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'];
      const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      await waitForReady(child, port);
      nodes.push({ host: '127.0.0.1', port });
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 20_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    const deadline = Date.now() + 15_000;
    for (const node of nodes) {
      const client = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      try {
        await client.connect();
        for (;;) {
          const info = String(await client.cluster('INFO'));
          if (info.includes('cluster_state:ok')) break;
          if (Date.now() > deadline) throw new Error(`cluster did not reach cluster_state:ok: ${info}`);
          await sleep(100);
        }
      } finally {
        client.disconnect();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, stop };
}

/** The slot of each key, asked of a cluster node (CLUSTER KEYSLOT). */
export async function keySlots(node: { host: string; port: number }, keys: readonly string[]): Promise<Map<string, number>> {
  const client = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
  try {
    const slots = new Map<string, number>();
    for (const key of keys) slots.set(key, Number(await client.cluster('KEYSLOT', key)));
    return slots;
  } finally {
    client.disconnect();
  }
}

/** Every key under `pattern` on each node (SCAN), so a test sees where the store really wrote. */
export async function keysByNode(nodes: readonly { host: string; port: number }[], pattern: string): Promise<Map<number, string[]>> {
  const result = new Map<number, string[]>();
  for (const node of nodes) {
    const client = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    await client.connect();
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      result.set(node.port, keys);
    } finally {
      client.disconnect();
    }
  }
  return result;
}
