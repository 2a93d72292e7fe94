/**
 * npm run bench:chat — the bot's answer latency for one listener message through the real
 * widget protocol on loopback (a separate server process, embedded store), and the widget size.
 * Prints one JSON line and records it in docs/benchmarks.md.
 */
import WebSocket from 'ws';
import { loadIntents } from '../bot/load-intents.js';
import { buildWidget, WIDGET_BUDGET_GZIP_BYTES } from '../scripts/build-widget.js';
import { parseServerFrame, type ServerFrame } from '../server/transport/protocol.js';
import { recordBenchmark } from './record.js';
import { startServerProcess } from './server-process.js';
import { percentile, round } from './stats.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const WARMUP = 50;

interface BenchListener {
  socket: WebSocket;
  next(match: (frame: ServerFrame) => boolean): Promise<ServerFrame>;
}

async function openConversation(url: string): Promise<BenchListener> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let waiter: ((frame: ServerFrame) => void) | null = null;
  socket.on('message', (data) => {
    const frame = parseServerFrame(data.toString());
    if (frame && waiter) waiter(frame);
  });
  const next = (match: (frame: ServerFrame) => boolean) =>
    new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within 5 s')), 5000);
      waiter = (frame) => {
        if (!match(frame)) return;
        clearTimeout(timer);
        waiter = null;
        resolve(frame);
      };
    });
  const ready = next((f) => f.type === 'conversation.ready');
  socket.send(JSON.stringify({ type: 'conversation.start', language: 'en' }));
  await ready;
  return { socket, next };
}

async function main(): Promise<void> {
  const widget = await buildWidget();
  // Phrases of intents the bot answers and stays on, so every message gets a bot reply.
  const intents = await loadIntents('intents');
  const phrases = intents.filter((i) => i.policy.action === 'answer').flatMap((i) => i.en.phrases.map((p) => p.replaceAll('{brand}', 'Melodrift')));
  const server = await startServerProcess({ WIDGET_MESSAGES_PER_SECOND: '1000', WIDGET_MESSAGE_BURST: '1000' });

  const latencies: number[] = [];
  let conversations = 0;
  let handoffs = 0;
  let listener = await openConversation(server.wsUrl);
  conversations++;
  for (let i = 0; i < MESSAGES + WARMUP; i++) {
    const text = phrases[i % phrases.length] ?? 'hello';
    const started = process.hrtime.bigint();
    const reply = listener.next((f) => (f.type === 'message.new' && f.author === 'bot') || f.type === 'error');
    listener.socket.send(JSON.stringify({ type: 'message.send', clientId: `b${i}`, text }));
    const frame = await reply;
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (frame.type === 'error') throw new Error(`server refused message ${i}: ${frame.code}`);
    if (i >= WARMUP) latencies.push(elapsedMs);
    const outcome = frame.type === 'message.new' ? frame.understanding?.outcome : undefined;
    if (outcome === 'handoff' || outcome === 'closed') {
      // the bot no longer answers this conversation: continue in a new one
      handoffs++;
      listener.socket.close();
      listener = await openConversation(server.wsUrl);
      conversations++;
    }
  }
  listener.socket.close();
  await server.stop();
  const result = {
    benchmark: 'chat',
    messages: latencies.length,
    replyP50Ms: round(percentile(latencies, 50), 3),
    replyP99Ms: round(percentile(latencies, 99), 3),
    replyMaxMs: round(Math.max(...latencies), 3),
    widgetBytes: widget.bytes,
    widgetGzipBytes: widget.gzipBytes,
    widgetBudgetGzipBytes: WIDGET_BUDGET_GZIP_BYTES,
    conversations,
    handoffsOrClosesSeen: handoffs,
  };
  console.log(JSON.stringify(result));
  await recordBenchmark(
    'chat',
    'npm run bench:chat',
    [
      'One listener on loopback sends messages one after another through the widget WebSocket to a separate server process (embedded store); each latency runs from sending `message.send` to receiving the bot\'s first `message.new`. Phrases come from the catalogue\'s answer-only intents; the first 50 messages are warm-up.',
      '',
      '| messages | reply p50 | reply p99 | max | widget | widget gzipped (budget 20 KB) |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${result.messages} | ${result.replyP50Ms} ms | ${result.replyP99Ms} ms | ${result.replyMaxMs} ms | ${(result.widgetBytes / 1024).toFixed(1)} KB | ${(result.widgetGzipBytes / 1024).toFixed(1)} KB |`,
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
