import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../server/store/redis-store.js';
import { startPrivateRedis } from '../bench/private-redis.js';
import { startApp, uniqueNamespace, type RunningApp } from './support/harness.js';

let server: RunningApp;
beforeAll(async () => {
  server = await startApp();
});
afterAll(async () => {
  await server.stop();
});

describe('HTTP', () => {
  it('serves liveness and readiness', async () => {
    await request(server.app.server).get('/healthz').expect(200, { status: 'ok' });
    await request(server.app.server).get('/readyz').expect(200, { status: 'ready' });
  });

  it('serves the demo help page with the widget script and the bundle', async () => {
    const page = await request(server.app.server).get('/').expect(200).expect('content-type', /text\/html/);
    expect(page.text).toContain('Melodrift');
    expect(page.text).toContain('<script src="/widget.js"');
    const bundle = await request(server.app.server).get('/widget.js').expect(200).expect('content-type', /javascript/);
    expect(bundle.text).toContain('support-chat');
  });

  it('answers unknown routes with the error body {statusCode, code, error, message}', async () => {
    const response = await request(server.app.server).get('/nope').expect(404);
    expect(response.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'Not found.' });
  });

  it('reports not ready while draining', async () => {
    const draining = await startApp();
    draining.startDraining();
    const response = await request(draining.app.server).get('/readyz').expect(503);
    expect(response.body.code).toBe('SERVER_DRAINING');
    await draining.stop();
  });
});

describe('readiness follows the store', () => {
  it('fails with STORE_UNAVAILABLE while Redis is down and recovers when it is back', async () => {
    const redis = await startPrivateRedis();
    const store = await createRedisStore({ url: redis.url, namespace: uniqueNamespace('ready'), commandTimeoutMs: 500 });
    const app = await startApp({ store });
    try {
      await request(app.app.server).get('/readyz').expect(200);
      await redis.stop();
      const down = await request(app.app.server).get('/readyz').expect(503);
      expect(down.body).toMatchObject({ code: 'STORE_UNAVAILABLE', statusCode: 503 });
      await request(app.app.server).get('/healthz').expect(200);
      const again = await startPrivateRedis({ port: redis.port });
      try {
        await expect.poll(async () => (await request(app.app.server).get('/readyz')).status, { timeout: 10_000, interval: 200 }).toBe(200);
      } finally {
        await app.stop();
        await again.stop();
      }
    } catch (error) {
      await app.stop().catch(() => {});
      throw error;
    }
  });
});

describe('metrics', () => {
  it('counts connections, messages, bot decisions and handoffs at /metrics in Prometheus format', async () => {
    const { TestClient } = await import('./support/harness.js');
    const client = await TestClient.open(server.wsUrl);
    await client.start();
    client.send({ type: 'message.send', clientId: 'm1', text: 'how much is the student plan' });
    await client.waitFor('message.new', (m) => m.author === 'bot' && m.seq > 3);
    client.send({ type: 'message.send', clientId: 'm2', text: 'I want to talk to a human' });
    await client.waitFor('conversation.state', (s) => s.to === 'queued');
    const response = await request(server.app.server).get('/metrics').expect(200).expect('content-type', /text\/plain/);
    expect(response.text).toMatch(/^support_widget_connections [1-9]/m);
    expect(response.text).toMatch(/^support_messages_received_total\{author="listener",kind="text"\} [2-9]/m);
    expect(response.text).toMatch(/^support_bot_decisions_total\{outcome="answered"\} [1-9]/m);
    expect(response.text).toMatch(/^support_handoffs_total\{reason="requested"\} 1/m);
    expect(response.text).toMatch(/^support_queue_length\{queue="en"\} 1/m);
    expect(response.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    client.close();
  });
});
