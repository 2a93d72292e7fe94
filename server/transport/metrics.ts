/**
 * Prometheus metrics for one server process, on a registry of its own (never prom-client's
 * global one, so tests and several apps in one process do not share counters).
 *
 * `createMetrics(options)` builds the registry and the typed metrics; `registerMetricsRoute(app,
 * metrics)` serves them at `GET /metrics` in the Prometheus text format. Node's default metrics
 * are on, among them `nodejs_eventloop_lag_seconds`, heap and GC figures and
 * `process_resident_memory_bytes`. Every node exposes its own figures; Prometheus sums them.
 *
 * Where each call belongs (the composition root creates one `Metrics` and passes it down):
 * - `widgetConnections.inc()` when a widget socket is accepted (registerWidgetSocket's handler),
 *   `widgetConnections.dec()` in that socket's `close` handler.
 * - `messagesReceived.inc({author: 'listener', kind})` in the widget socket's `message.send` once the
 *   ack is not a duplicate; `kind` is `quick_reply` when the frame carries `quickReply`, else `text`.
 *   `{author: 'agent', kind: 'text'}` in the agent socket's `chat.send` when not a duplicate.
 * - `botDecisions.inc({outcome: turn.outcome})` in chat-service `botReply`, right after `bot.respond`.
 * - `handoffs.inc({reason})` in chat-service `handOff` once the append returned `appended`
 *   (reason = `turn.handoff.reason`); agent transfers and releases to the queue count with the
 *   reasons `transferred` and `released` where handoff-service moves the conversation.
 * - `queueLength`: nothing to call. Pass `queueLengths` (e.g. one `queueMembers(queue).length`
 *   per language queue, or a cheaper count the store offers) and it is read on every scrape.
 * - `queueWaitSeconds.observe({queue}, waitMs / 1000)` where handoff-service assigns a queued
 *   conversation (beside `store.recordWait`).
 * - `csatAnswers.inc({rating: String(rating)})` where a survey answer is accepted (csat).
 * - `storeErrors.inc({operation})`: wrap the store once with `countStoreErrors(store, metrics)`;
 *   every rejected store call then counts under its method name.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type QueueLengths = () => Promise<Record<string, number>> | Record<string, number>;

export interface MetricsOptions {
  /** Read on every scrape: the number of conversations waiting, per queue. */
  queueLengths?: QueueLengths;
  /** Default metrics (event-loop lag, heap, GC, process); on unless false. */
  defaultMetrics?: boolean;
}

export type MessageAuthor = 'listener' | 'agent';
export type MessageKind = 'text' | 'quick_reply';

export interface Metrics {
  registry: Registry;
  widgetConnections: Gauge<never>;
  slowConsumersDropped: Counter<never>;
  messagesReceived: Counter<'author' | 'kind'>;
  botDecisions: Counter<'outcome'>;
  handoffs: Counter<'reason'>;
  queueLength: Gauge<'queue'>;
  queueWaitSeconds: Histogram<'queue'>;
  csatAnswers: Counter<'rating'>;
  storeErrors: Counter<'operation'>;
  /** Replaces the queue-length source (when the store is opened after the metrics). */
  setQueueLengths(source: QueueLengths): void;
}

export const METRICS_PATH = '/metrics';

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  let queueLengths: QueueLengths | undefined = options.queueLengths;

  const widgetConnections = new Gauge({
    name: 'support_widget_connections',
    help: 'Widget WebSocket connections open on this node.',
    registers: [registry],
  });
  const slowConsumersDropped = new Counter({
    name: 'support_widget_slow_consumers_dropped_total',
    help: 'Widget connections dropped because the client left more than WIDGET_SEND_BUFFER_LIMIT_BYTES unread, or read nothing of a replay for 10 s.',
    registers: [registry],
  });
  const messagesReceived = new Counter({
    name: 'support_messages_received_total',
    help: 'Chat messages stored, by author (listener, agent) and kind (text, quick_reply); resent duplicates are not counted.',
    labelNames: ['author', 'kind'] as const,
    registers: [registry],
  });
  const botDecisions = new Counter({
    name: 'support_bot_decisions_total',
    help: 'Bot turns by outcome (answered, awaiting_confirmation, clarify, not_understood, handoff, resolved, feedback, closed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const handoffs = new Counter({
    name: 'support_handoffs_total',
    help: 'Conversations put in a queue for a person, by reason (requested, policy, not_understood, confirmation_failed, frustrated, released, transferred).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const queueLength = new Gauge({
    name: 'support_queue_length',
    help: 'Conversations waiting for a person, per queue, read from the store at scrape time.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      if (!queueLengths) return;
      this.reset();
      const lengths = await queueLengths();
      for (const [queue, length] of Object.entries(lengths)) this.set({ queue }, length);
    },
  });
  const queueWaitSeconds = new Histogram({
    name: 'support_queue_wait_seconds',
    help: 'Time from joining a queue to a person taking the conversation, in seconds.',
    labelNames: ['queue'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers: [registry],
  });
  const csatAnswers = new Counter({
    name: 'support_csat_answers_total',
    help: 'Satisfaction survey answers, by rating (1 to 5).',
    labelNames: ['rating'] as const,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'support_store_errors_total',
    help: 'Store calls that failed, by store operation (method name).',
    labelNames: ['operation'] as const,
    registers: [registry],
  });

  return {
    registry,
    widgetConnections,
    slowConsumersDropped,
    messagesReceived,
    botDecisions,
    handoffs,
    queueLength,
    queueWaitSeconds,
    csatAnswers,
    storeErrors,
    setQueueLengths(source) {
      queueLengths = source;
    },
  };
}

/**
 * Wraps a store (any object of async methods) so that every rejected call counts in
 * `support_store_errors_total{operation=<method>}`; the rejection itself passes through unchanged.
 */
export function countStoreErrors<T extends object>(store: T, metrics: Pick<Metrics, 'storeErrors'>): T {
  // One wrapper per method (made on first use, remade if the method is replaced), not a new closure on every call.
  const wrappers = new Map<string, { original: unknown; wrapper: (...args: unknown[]) => unknown }>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const known = wrappers.get(property);
      if (known && known.original === value) return known.wrapper;
      const countAndRethrow = (error: unknown) => {
        metrics.storeErrors.inc({ operation: property });
        throw error;
      };
      const wrapper = (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise ? result.catch(countAndRethrow) : result;
      };
      wrappers.set(property, { original: value, wrapper });
      return wrapper;
    },
  });
}

/**
 * Serves `GET /metrics` in the Prometheus text format. Expose it only where Prometheus scrapes
 * (an internal listener or a load balancer rule that keeps it off the public site).
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: Pick<Metrics, 'registry'>): void {
  app.get(METRICS_PATH, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  });
}
