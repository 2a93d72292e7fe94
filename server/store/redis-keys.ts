/**
 * Every Redis key and channel name, built in one place. All keys of one deployment share
 * the `{tenant}` hash tag, so every Lua script touches one Cluster slot.
 */
export interface RedisKeys {
  readonly prefix: string;
  conversation(conversationId: string): string;
  events(conversationId: string): string;
  dedupe(conversationId: string): string;
  eventsChannel(conversationId: string): string;
}

export function createRedisKeys(namespace: string, tenant: string): RedisKeys {
  const prefix = `${namespace}:{${tenant}}`;
  return {
    prefix,
    conversation: (id) => `${prefix}:conv:${id}`,
    events: (id) => `${prefix}:conv:${id}:events`,
    dedupe: (id) => `${prefix}:conv:${id}:dedupe`,
    eventsChannel: (id) => `${prefix}:events:${id}`,
  };
}
