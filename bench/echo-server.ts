/**
 * The baseline for bench/load.ts: a bare WebSocket echo server (Fastify + @fastify/websocket,
 * the same stack and frame limit as ours, nothing else), run as its own process on loopback.
 * Every text frame is sent back unchanged. `GET /readyz` answers 200 once it listens.
 *
 *   PORT=4000 node dist/bench/echo-server.js
 */
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { MAX_FRAME_BYTES } from '../server/transport/protocol.js';

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.get('/readyz', async () => ({ ok: true }));
  app.get('/ws', { websocket: true }, (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
