import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('answers the defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({ port: 4000, dataDir: './.aviary', databaseUrl: undefined, dbPoolSize: 10, maxBodyBytes: 16 * 1024 * 1024, schedulerIntervalMs: 1000 });
  });

  it('treats empty variables as unset and ignores unrelated ones', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', HOME: '/root' }).port).toBe(4000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['AVIARY_ADMIN_TOKEN', 'short'],
    ['AVIARY_ADMIN_TOKEN', 'avs_serverkeyserverkeyserverkey'],
    ['AVIARY_DB_POOL_SIZE', '0'],
    ['AVIARY_SCHEDULER_INTERVAL_MS', '5'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });
});
