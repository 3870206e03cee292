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
    ['AVIARY_DB_CONNECT_RETRY_MS', '-1'],
    ['AVIARY_DB_CONNECT_TIMEOUT_MS', '0'],
    ['AVIARY_DB_STATEMENT_TIMEOUT_MS', '1.5'],
    ['AVIARY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'soon'],
    ['AVIARY_PUBLIC_URL', 'flags.example.com'],
    ['AVIARY_SESSION_IDLE_TIMEOUT_MS', '500'],
    ['AVIARY_SESSION_MAX_AGE_MS', 'a week'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });

  it('answers the database limits: defaults, the query timeout above the statement timeout, 0 as no limit', () => {
    expect(loadConfig({})).toMatchObject({ dbConnectRetryMs: 30_000, dbTimeouts: { connectMs: 5000, statementMs: 15_000, queryMs: 20_000, idleInTransactionMs: 10_000 } });
    expect(loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '2000' }).dbTimeouts.queryMs).toBe(7000);
    expect(loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '0' }).dbTimeouts).toMatchObject({ statementMs: 0, queryMs: 0 });
    expect(loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '0', AVIARY_DB_QUERY_TIMEOUT_MS: '60000' }).dbTimeouts.queryMs).toBe(60_000);
  });

  it('refuses a query timeout that is not longer than the statement timeout, naming both', () => {
    expect(() => loadConfig({ AVIARY_DB_STATEMENT_TIMEOUT_MS: '5000', AVIARY_DB_QUERY_TIMEOUT_MS: '5000' })).toThrow(
      /AVIARY_DB_QUERY_TIMEOUT_MS: must be longer than AVIARY_DB_STATEMENT_TIMEOUT_MS \(5000\)/,
    );
  });

  it('answers the people defaults: the public URL from PORT, 12 h idle and 7 d absolute sessions', () => {
    expect(loadConfig({ PORT: '8080' })).toMatchObject({ publicUrl: 'http://localhost:8080', people: { sessionIdleMs: 43_200_000, sessionMaxAgeMs: 604_800_000 } });
    expect(loadConfig({ AVIARY_PUBLIC_URL: 'https://flags.example.com/' }).publicUrl).toBe('https://flags.example.com');
  });

  it('refuses a bootstrap admin missing half, a weak password or one equal to the email, never echoing it', () => {
    expect(() => loadConfig({ AVIARY_ADMIN_EMAIL: 'ada@example.com' })).toThrow(/AVIARY_ADMIN_PASSWORD: must be set together with AVIARY_ADMIN_EMAIL/);
    expect(() => loadConfig({ AVIARY_ADMIN_EMAIL: 'ada@example.com', AVIARY_ADMIN_PASSWORD: 'short-pw' })).toThrow(/AVIARY_ADMIN_PASSWORD: must be at least 12 characters/);
    expect(() => loadConfig({ AVIARY_ADMIN_EMAIL: 'ada@example.com', AVIARY_ADMIN_PASSWORD: 'short-pw' })).not.toThrow(/short-pw/);
    expect(() => loadConfig({ AVIARY_ADMIN_EMAIL: 'ada@example.com', AVIARY_ADMIN_PASSWORD: 'ADA@example.com' })).toThrow(/AVIARY_ADMIN_PASSWORD: must not be the email address/);
    expect(() => loadConfig({ AVIARY_ADMIN_EMAIL: 'not-an-email', AVIARY_ADMIN_PASSWORD: 'long enough password' })).toThrow(/AVIARY_ADMIN_EMAIL: must be an email address/);
  });

  it('reads single sign-on: the role map, the default role (none: refuse), password sign-in on by default', () => {
    const oidc = { AVIARY_OIDC_ISSUER: 'https://login.example.com/realms/main', AVIARY_OIDC_CLIENT_ID: 'aviary' };
    const config = loadConfig({ ...oidc, AVIARY_OIDC_ROLE_CLAIM: 'groups', AVIARY_OIDC_ROLE_MAP: 'admins=admin, platform devs=editor', AVIARY_OIDC_DEFAULT_ROLE: 'none' });
    expect(config.people.passwordLogin).toBe(true);
    expect(config.people.oidc).toMatchObject({ issuer: oidc.AVIARY_OIDC_ISSUER, clientId: 'aviary', roleClaim: 'groups', defaultRole: undefined });
    expect([...config.people.oidc!.roleMap]).toEqual([['admins', 'admin'], ['platform devs', 'editor']]);
    expect(loadConfig(oidc).people.oidc!.defaultRole).toBe('viewer');
    expect(loadConfig({ ...oidc, AVIARY_PASSWORD_LOGIN: 'false' }).people.passwordLogin).toBe(false);
  });

  it('refuses single sign-on settings that do not fit together, naming the variable, never echoing the secret', () => {
    expect(() => loadConfig({ AVIARY_OIDC_ISSUER: 'https://login.example.com' })).toThrow(/AVIARY_OIDC_CLIENT_ID: must be set with AVIARY_OIDC_ISSUER/);
    expect(() => loadConfig({ AVIARY_OIDC_CLIENT_ID: 'aviary' })).toThrow(/AVIARY_OIDC_CLIENT_ID: needs AVIARY_OIDC_ISSUER/);
    expect(() => loadConfig({ AVIARY_OIDC_ISSUER: 'login.example.com', AVIARY_OIDC_CLIENT_ID: 'a' })).toThrow(/AVIARY_OIDC_ISSUER: must be the issuer URL/);
    expect(() => loadConfig({ AVIARY_OIDC_ISSUER: 'https://l.example.com', AVIARY_OIDC_CLIENT_ID: 'a', AVIARY_OIDC_ROLE_CLAIM: 'groups', AVIARY_OIDC_ROLE_MAP: 'admins=owner' })).toThrow(/AVIARY_OIDC_ROLE_MAP: must be a comma-separated list/);
    expect(() => loadConfig({ AVIARY_OIDC_ISSUER: 'https://l.example.com', AVIARY_OIDC_CLIENT_ID: 'a', AVIARY_OIDC_ROLE_MAP: 'admins=admin' })).toThrow(/AVIARY_OIDC_ROLE_MAP: needs AVIARY_OIDC_ROLE_CLAIM/);
    expect(() => loadConfig({ AVIARY_PASSWORD_LOGIN: 'false' })).toThrow(/AVIARY_PASSWORD_LOGIN: false needs single sign-on/);
    expect(() => loadConfig({ AVIARY_PASSWORD_LOGIN: 'no' })).toThrow(/AVIARY_PASSWORD_LOGIN: must be true or false/);
    const secret = 'x'.repeat(2001);
    const tooLong = () => loadConfig({ AVIARY_OIDC_ISSUER: 'https://l.example.com', AVIARY_OIDC_CLIENT_ID: 'a', AVIARY_OIDC_CLIENT_SECRET: secret });
    expect(tooLong).toThrow(/AVIARY_OIDC_CLIENT_SECRET: .*not shown/);
    expect(tooLong).not.toThrow(new RegExp(secret));
  });

  it('refuses an idle timeout longer than the absolute one', () => {
    expect(() => loadConfig({ AVIARY_SESSION_IDLE_TIMEOUT_MS: '5000', AVIARY_SESSION_MAX_AGE_MS: '4000' })).toThrow(/AVIARY_SESSION_IDLE_TIMEOUT_MS: must not be longer than AVIARY_SESSION_MAX_AGE_MS/);
  });
});
