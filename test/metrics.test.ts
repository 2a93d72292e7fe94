import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { countStoreErrors, createMetrics, registerMetricsRoute } from '../server/transport/metrics.js';

const NAMES = [
  'support_widget_connections',
  'support_messages_received_total',
  'support_bot_decisions_total',
  'support_handoffs_total',
  'support_queue_length',
  'support_queue_wait_seconds',
  'support_csat_answers_total',
  'support_store_errors_total',
  'nodejs_eventloop_lag_seconds',
];

async function scrape(metrics: ReturnType<typeof createMetrics>) {
  const app = Fastify({ logger: false });
  registerMetricsRoute(app, metrics);
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  await app.close();
  return response;
}

/** The value of one sample line, e.g. `name{a="b"} 3`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('serves every metric in the Prometheus text format with its content type', async () => {
    const response = await scrape(createMetrics());
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of NAMES) {
      expect(response.body).toContain(`# HELP ${name} `);
      expect(response.body).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
    }
    // Every line is a comment or `name{labels} value` (values parse as Go floats: NaN in any case, ±Inf).
    const comment = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;
    const series = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|nan|[+-]inf)$/i;
    for (const line of response.body.split('\n').filter(Boolean)) {
      expect(comment.test(line) || series.test(line), line).toBe(true);
    }
  });

  it('moves counters, gauges and histograms when they are used', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.widgetConnections.inc();
    metrics.widgetConnections.inc();
    metrics.widgetConnections.dec();
    metrics.messagesReceived.inc({ author: 'listener', kind: 'text' });
    metrics.messagesReceived.inc({ author: 'listener', kind: 'text' });
    metrics.messagesReceived.inc({ author: 'agent', kind: 'text' });
    metrics.botDecisions.inc({ outcome: 'answered' });
    metrics.handoffs.inc({ reason: 'requested' });
    metrics.queueWaitSeconds.observe({ queue: 'en' }, 12);
    metrics.csatAnswers.inc({ rating: '5' });
    metrics.storeErrors.inc({ operation: 'append' });
    const text = (await scrape(metrics)).body;
    expect(sample(text, 'support_widget_connections')).toBe(1);
    expect(sample(text, 'support_messages_received_total{author="listener",kind="text"}')).toBe(2);
    expect(sample(text, 'support_messages_received_total{author="agent",kind="text"}')).toBe(1);
    expect(sample(text, 'support_bot_decisions_total{outcome="answered"}')).toBe(1);
    expect(sample(text, 'support_handoffs_total{reason="requested"}')).toBe(1);
    expect(sample(text, 'support_queue_wait_seconds_count{queue="en"}')).toBe(1);
    expect(sample(text, 'support_queue_wait_seconds_bucket{le="15",queue="en"}')).toBe(1);
    expect(sample(text, 'support_queue_wait_seconds_bucket{le="5",queue="en"}')).toBe(0);
    expect(sample(text, 'support_csat_answers_total{rating="5"}')).toBe(1);
    expect(sample(text, 'support_store_errors_total{operation="append"}')).toBe(1);
  });

  it('reads queue lengths from the callback on every scrape', async () => {
    let waiting = { en: 3, es: 0 };
    const metrics = createMetrics({ defaultMetrics: false, queueLengths: async () => waiting });
    let text = (await scrape(metrics)).body;
    expect(sample(text, 'support_queue_length{queue="en"}')).toBe(3);
    expect(sample(text, 'support_queue_length{queue="es"}')).toBe(0);
    waiting = { en: 1, es: 2 };
    text = (await scrape(metrics)).body;
    expect(sample(text, 'support_queue_length{queue="en"}')).toBe(1);
    expect(sample(text, 'support_queue_length{queue="es"}')).toBe(2);
  });

  it('counts failed store calls by operation and passes results and errors through', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const store = countStoreErrors(
      {
        async getConversation(id: string) {
          return { id };
        },
        async append(): Promise<void> {
          throw new Error('down');
        },
      },
      metrics,
    );
    expect(await store.getConversation('conv_1')).toEqual({ id: 'conv_1' });
    await expect(store.append()).rejects.toThrow('down');
    await expect(store.append()).rejects.toThrow('down');
    const text = (await scrape(metrics)).body;
    expect(sample(text, 'support_store_errors_total{operation="append"}')).toBe(2);
    expect(sample(text, 'support_store_errors_total{operation="getConversation"}')).toBeUndefined();
  });

  it('keeps registries apart', async () => {
    const first = createMetrics({ defaultMetrics: false });
    const second = createMetrics({ defaultMetrics: false });
    first.botDecisions.inc({ outcome: 'handoff' });
    expect(sample((await scrape(second)).body, 'support_bot_decisions_total{outcome="handoff"}')).toBeUndefined();
  });
});
