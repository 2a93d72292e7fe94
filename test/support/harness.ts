import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { loadBot, type LoadedBot } from '../../bot/load-bot.js';
import type { Bot } from '../../bot/bot.js';
import type { IntentDefinition } from '../../bot/intent-schema.js';
import { loadIntents } from '../../bot/load-intents.js';
import { buildApp, type App } from '../../server/app.js';
import { loadConfig, type Config } from '../../server/config.js';
import { PATHS } from '../../server/paths.js';
import type { ChatStore } from '../../server/store/chat-store.js';
import { createMemoryStore } from '../../server/store/memory-store.js';
import { createRedisStore } from '../../server/store/redis-store.js';
import { parseServerFrame, type ServerFrame } from '../../server/transport/protocol.js';
import { TEST_MODEL_FILE } from './model-file.js';

let sharedIntents: Promise<IntentDefinition[]> | undefined;
export function shippedIntents(): Promise<IntentDefinition[]> {
  sharedIntents ??= loadIntents('intents');
  return sharedIntents;
}

/** The shipped bot with its own swappable classifier, from the model the global setup trained. */
export function loadShippedBot(): Promise<LoadedBot> {
  return loadBot({ intentsDir: 'intents', brand: 'Melodrift', modelFile: TEST_MODEL_FILE });
}

let sharedBot: Promise<Bot> | undefined;
/** The shipped bot, loaded once per test file. */
export function shippedBot(): Promise<Bot> {
  sharedBot ??= loadShippedBot().then((loaded) => loaded.bot);
  return sharedBot;
}

/** A key namespace no other test uses, so tests never see each other's data. */
export function uniqueNamespace(label = 't'): string {
  return `test-${label}-${randomBytes(5).toString('hex')}`;
}

export function redisUrl(): string {
  return inject('redisUrl');
}

export async function redisStore(namespace = uniqueNamespace()): Promise<ChatStore> {
  return createRedisStore({ url: redisUrl(), namespace, tenant: 'test' });
}

export interface RunningApp extends App {
  url: string;
  wsUrl: string;
  store: ChatStore;
  config: Config;
  stop(): Promise<void>;
}

/** buildApp listening on a free loopback port, with real sockets. */
export async function startApp(options: { store?: ChatStore; env?: Record<string, string>; bot?: Bot; loaded?: LoadedBot } = {}): Promise<RunningApp> {
  // Many tests sign in from one address within a minute; the limits themselves have their own tests.
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', SIGNIN_RATE_LIMIT_PER_MINUTE: '10000', ...options.env });
  const store = options.store ?? createMemoryStore();
  const bot = options.loaded?.bot ?? options.bot ?? (await shippedBot());
  const model = options.loaded ? { classifier: options.loaded.classifier, phrases: options.loaded.phrases, shippedModel: options.loaded.shippedModel } : undefined;
  const built = await buildApp({ config, store, bot, ...(model ? { model } : {}), widgetBundlePath: PATHS.widgetBundle(), consoleBundlePath: PATHS.consoleBundle(), publicDir: PATHS.publicDir() });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = built.app.server.address() as AddressInfo;
  return Object.assign(built, {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    store,
    config,
    async stop() {
      await built.app.close();
      await store.close();
    },
  });
}

/** A real WebSocket client that records every frame and can wait for one. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly raw: string[] = [];
  closeCode: number | undefined;
  private waiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      const frame = parseServerFrame(text);
      if (!frame) throw new Error(`server sent a frame outside the protocol: ${text}`);
      this.frames.push(frame);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
    socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    const socket = new WebSocket(url, { headers });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
    });
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (already received or future) that matches. */
  waitFor<T extends ServerFrame['type']>(type: T, match: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true, timeoutMs = 5000): Promise<Extract<ServerFrame, { type: T }>> {
    const test = (frame: ServerFrame) => frame.type === type && match(frame as Extract<ServerFrame, { type: T }>);
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen as Extract<ServerFrame, { type: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => f.type))}`)), timeoutMs);
      this.waiters.push({ match: test, resolve: (frame) => { clearTimeout(timer); resolve(frame as Extract<ServerFrame, { type: T }>); } });
    });
  }

  /** Waits for the n-th frame (counting from 1) of a type. */
  async waitForCount(type: ServerFrame['type'], count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.filter((f) => f.type === type).length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} ${type} frames within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  waitClosed(timeoutMs = 5000): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.socket.once('close', (code) => { clearTimeout(timer); resolve(code); });
    });
  }

  close(): void {
    this.socket.close();
  }

  /** Starts a conversation and waits until the welcome message has arrived. */
  async start(language: 'en' | 'es' = 'en') {
    this.send({ type: 'conversation.start', language });
    const ready = await this.waitFor('conversation.ready');
    await this.waitFor('message.new', (m) => m.seq === ready.lastSeq);
    return ready;
  }

  messages(author?: string) {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: 'message.new' }> => f.type === 'message.new' && (author === undefined || f.author === author));
  }
}
