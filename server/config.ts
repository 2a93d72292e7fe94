import { z } from 'zod';
import { piiKindListSchema, PII_KINDS } from './domain/redaction.js';

const booleanish = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const DEV_SECRET = 'development-only-secret-do-not-use-in-production';

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Unset: the embedded in-memory store. Set: Redis (redis://host:port/db). */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /** Redis Cluster seed nodes, `host:port,host:port`; used instead of REDIS_URL when set. */
    REDIS_CLUSTER_NODES: z
      .string()
      .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'must be host:port,host:port,...')
      .transform((v) => v.split(',').map((node) => ({ host: node.slice(0, node.lastIndexOf(':')), port: Number(node.slice(node.lastIndexOf(':') + 1)) })))
      .optional(),
    /** Tenant (help site) name; every Redis key of a deployment shares it as a hash tag. */
    TENANT: z.string().regex(/^[a-z0-9_-]{1,40}$/, 'lower-case letters, digits, - and _ only').default('default'),
    /** Comma-separated origins allowed to open the widget socket; "*" allows any. */
    WIDGET_ORIGINS: z
      .string()
      .default('*')
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
    /** HMAC secret that signs conversation tokens. Required (32+ characters) in production. */
    CONVERSATION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    BRAND_NAME: z.string().min(1).max(60).default('Melodrift'),
    /** A conversation token expires this long after it was issued (each resume issues a new one). */
    CONVERSATION_TOKEN_TTL_DAYS: z.coerce.number().positive().max(3650).default(30),
    INTENTS_DIR: z.string().min(1).default('intents'),
    /** The trained model; rebuilt at start when missing or when the intents changed. */
    MODEL_FILE: z.string().min(1).default('dist/model/shipped.model'),
    /** Listener messages per second per connection (token bucket refill rate). */
    WIDGET_MESSAGES_PER_SECOND: z.coerce.number().positive().max(1000).default(5),
    /** Bucket size: a burst of this many messages is accepted at once. */
    WIDGET_MESSAGE_BURST: z.coerce.number().int().positive().max(1000).default(10),
    /** A connection that has this many frames refused for rate within 10 s is closed as a flood. */
    WIDGET_FLOOD_LIMIT: z.coerce.number().int().positive().max(10000).default(30),
    /** Unread bytes queued for one widget socket before the server drops it (the widget resumes by seq). */
    WIDGET_SEND_BUFFER_LIMIT_BYTES: z.coerce.number().int().min(524288).max(1073741824).default(4194304),
    /** Drain: how long SIGTERM waits for in-flight work before closing. */
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120000).default(5000),
    TRUST_PROXY: booleanish.default(false),
    /** An agent whose console has not refreshed their presence for this long counts as offline. */
    AGENT_PRESENCE_TTL_MS: z.coerce.number().int().min(300).max(600_000).default(30_000),
    /** An offline agent's chats go back to the front of the queue after this long. */
    AGENT_RELEASE_GRACE_MS: z.coerce.number().int().min(300).max(3_600_000).default(60_000),
    /** How often every node releases dropped agents' chats and auto-assigns waiting ones. */
    HANDOFF_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
    /** How long after a chat ends its survey answer is accepted. */
    SURVEY_WINDOW_MS: z.coerce.number().int().min(1000).max(30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),
    /** Held-out labelled messages (heldout-*.jsonl, never trained on) the tuning loop compares models on. */
    HELDOUT_DIR: z.string().min(1).default('test/fixtures'),
    /** Personal data masked in survey comments, training candidates and exports (and, with PII_REDACT_LIVE, in the live transcript). */
    PII_REDACTION: piiKindListSchema.default([...PII_KINDS]),
    PII_KEEP_CARD_LAST4: booleanish.default(false),
    /** true: listener messages are masked before they are stored at all, so agents see the masked text too. */
    PII_REDACT_LIVE: booleanish.default(false),
    /** Closed conversations are purged after this many days (survey figures are kept, without their comments). */
    RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    /** Requests per minute per address on the HTTP API. */
    HTTP_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().max(100_000).default(600),
    /** Sign-in attempts per minute per address (on top of the lockout after repeated failures). */
    SIGNIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().max(100_000).default(20),
    /** Open widget sockets per address on one node. */
    WIDGET_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().positive().max(100_000).default(50),
    /** New conversations per address per minute. */
    WIDGET_NEW_CONVERSATIONS_PER_MINUTE: z.coerce.number().int().positive().max(100_000).default(30),
    /** CSAT alerts: raised when CSAT (service, bot, or one intent) over the window falls below this level... */
    ALERT_CSAT_BELOW: z.coerce.number().min(0).max(1).default(0.7),
    /** ...with at least this many answered surveys in the window. */
    ALERT_MIN_RESPONSES: z.coerce.number().int().min(1).max(100_000).default(20),
    ALERT_WINDOW_HOURS: z.coerce.number().positive().max(24 * 90).default(24),
    ALERT_CHECK_MS: z.coerce.number().int().min(100).max(24 * 3600 * 1000).default(60_000),
    /** Where alerts are POSTed (JSON); unset: shown on the dashboard only. */
    ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Embedded store only: where agent accounts are kept between starts (the agents CLI writes it). */
    ACCOUNTS_FILE: z.string().min(1).default('data/accounts.json'),
  })
  .transform((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      if (!env.CONVERSATION_SECRET) {
        ctx.addIssue({ code: 'custom', path: ['CONVERSATION_SECRET'], message: 'is required in production' });
        return z.NEVER;
      }
      if (isWeakSecret(env.CONVERSATION_SECRET)) {
        ctx.addIssue({ code: 'custom', path: ['CONVERSATION_SECRET'], message: 'is too weak: use 32+ random characters (e.g. `openssl rand -base64 48`)' });
        return z.NEVER;
      }
    }
    return { ...env, CONVERSATION_SECRET: env.CONVERSATION_SECRET ?? DEV_SECRET };
  });

/** A secret with few distinct characters, or the development default, is guessable. */
export function isWeakSecret(secret: string): boolean {
  return secret.length < 32 || new Set(secret).size < 12 || secret === DEV_SECRET || /^(.{1,8})\1+$/.test(secret);
}

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'is invalid');
}
