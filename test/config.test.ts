import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.js';

describe('configuration from the environment', () => {
  it('has working defaults for a newcomer (embedded store, port 3000)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', NODE_ENV: 'development', WIDGET_ORIGINS: ['*'] });
    expect(config.REDIS_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CONVERSATION_SECRET: 'short' }, 'CONVERSATION_SECRET'],
    [{ NODE_ENV: 'production' }, 'CONVERSATION_SECRET'],
    [{ WIDGET_MESSAGES_PER_SECOND: '0' }, 'WIDGET_MESSAGES_PER_SECOND'],
    [{ TENANT: 'Has Spaces' }, 'TENANT'],
  ])('refuses %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrowError(ConfigError);
    expect(() => loadConfig(env)).toThrowError(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('reads lists and treats empty variables as unset', () => {
    const config = loadConfig({ WIDGET_ORIGINS: 'https://a.example, https://b.example', REDIS_URL: '' });
    expect(config.WIDGET_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(config.REDIS_URL).toBeUndefined();
  });
});
