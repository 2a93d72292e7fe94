import { createHash } from 'node:crypto';

/**
 * Every Redis key and channel name, built in one place. All keys of one deployment share
 * the `{tenant}` hash tag, so every Lua script touches one Cluster slot.
 */
export function createRedisKeys(namespace: string, tenant: string) {
  const prefix = `${namespace}:{${tenant}}`;
  return {
    prefix,
    conversation: (id: string) => `${prefix}:conv:${id}`,
    events: (id: string) => `${prefix}:conv:${id}:events`,
    dedupe: (id: string) => `${prefix}:conv:${id}:dedupe`,
    eventsChannel: (id: string) => `${prefix}:events:${id}`,
    queue: (name: string) => `${prefix}:queue:${name}`,
    agentChats: (agentId: string) => `${prefix}:agent:${agentId}:chats`,
    waits: (queue: string) => `${prefix}:waits:${queue}`,
    agents: () => `${prefix}:agents`,
    agentEmails: () => `${prefix}:agents:email`,
    /** Sessions are keyed by a hash of the token, so the key space does not hold usable tokens. */
    session: (token: string) => `${prefix}:session:${createHash('sha256').update(token).digest('hex')}`,
    presence: () => `${prefix}:presence`,
    agentSessions: (agentId: string) => `${prefix}:agent:${agentId}:sessions`,
    counter: (key: string) => `${prefix}:counter:${key}`,
    closed: () => `${prefix}:closed`,
    items: (kind: string) => `${prefix}:items:${kind}`,
    signalChannel: (name: string) => `${prefix}:signal:${name}`,
    survey: (conversationId: string) => `${prefix}:survey:${conversationId}`,
    surveyAnswer: (conversationId: string) => `${prefix}:survey:${conversationId}:answer`,
    records: (kind: string) => `${prefix}:records:${kind}`,
    model: (version: string) => `${prefix}:model:${version}`,
    /** Survey ids by end time (ms). */
    surveys: () => `${prefix}:surveys`,
  };
}

export type RedisKeys = ReturnType<typeof createRedisKeys>;
