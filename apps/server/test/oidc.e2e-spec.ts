import { createServer, type Server } from 'node:http';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@aviary/test-support';
import { auth, createTestDatabase, startApp, type TestApp } from './helpers.js';

const PUBLIC_URL = 'http://localhost:4000';
const CLIENT = { id: 'aviary', secret: 'a-client-secret-for-tests-only' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The provider's people: who signs in is chosen by the test before each flow. */
const accounts = new Map<string, { email: string; name: string; groups: string[] }>([
  ['u-ada', { email: 'ada@example.com', name: 'Ada', groups: ['admins', 'devs'] }],
  ['u-dev', { email: 'dev@example.com', name: 'Dev', groups: ['devs'] }],
  ['u-pm', { email: 'pm@example.com', name: 'Pat', groups: ['product'] }],
]);

/**
 * A real, certified OpenID provider (oidc-provider) on 127.0.0.1. Its login and consent pages are
 * replaced by an answer for the account the test picked; everything else (discovery, keys,
 * authorization codes, tokens, userinfo) is the provider's own.
 */
async function startProvider(redirectUri: string) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const state = { account: 'u-ada', codeTtlS: 60 };
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [redirectUri], token_endpoint_auth_method: 'client_secret_post' }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      return account ? { accountId: sub, claims: () => ({ sub, email: account.email, email_verified: true, name: account.name, groups: account.groups }) } : undefined;
    },
    pkce: { required: () => true },
    ttl: { AuthorizationCode: () => state.codeTtlS },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // Consent is given: the test is about the client, not the provider's consent screen.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      void provider.interactionFinished(req, res, { login: { accountId: state.account } }, { mergeWithLastSubmission: false });
      return;
    }
    callback(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { issuer, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A browser: follows the provider's redirects with its cookies, stops at Aviary's callback. */
async function throughProvider(aviary: TestApp, options: { tamper?: (callback: URL) => void; beforeCallbackMs?: number } = {}) {
  const start = await fetch(`${aviary.url}/api/v1/auth/oidc/login`, { redirect: 'manual' });
  expect(start.status, await start.clone().text()).toBe(302);
  const flowCookie = start.headers.getSetCookie().find((c) => c.startsWith('aviary_oidc='))!;
  expect(flowCookie).toMatch(/HttpOnly/);
  const authorize = new URL(start.headers.get('location')!);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('state')).toBeTruthy();
  expect(authorize.searchParams.get('nonce')).toBeTruthy();
  const jar = new Map<string, string>();
  let location = authorize.href;
  for (let hops = 0; !location.startsWith(PUBLIC_URL); hops++) {
    expect(hops).toBeLessThan(10);
    const res = await fetch(location, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    expect([302, 303], await res.clone().text()).toContain(res.status);
    location = new URL(res.headers.get('location')!, location).href;
  }
  const callback = new URL(location);
  options.tamper?.(callback);
  if (options.beforeCallbackMs) await sleep(options.beforeCallbackMs);
  const res = await fetch(`${aviary.url}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: flowCookie.split(';')[0] } });
  const cookies = res.headers.getSetCookie();
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0].slice(name.length + 1);
  return { res, body: res.status === 302 ? undefined : ((await res.json()) as { message: string }), session: value('aviary_session'), csrf: value('aviary_csrf') };
}

async function me(aviary: TestApp, session: string) {
  const res = await fetch(`${aviary.url}/api/v1/auth/me`, { headers: { cookie: `aviary_session=${session}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { email: string; role: string; name: string };
}

describe('single sign-on with OpenID Connect', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let aviary: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    provider = await startProvider(`${PUBLIC_URL}/api/v1/auth/oidc/callback`);
    aviary = await startApp({
      DATABASE_URL: db.url,
      AVIARY_OIDC_ISSUER: provider.issuer,
      AVIARY_OIDC_CLIENT_ID: CLIENT.id,
      AVIARY_OIDC_CLIENT_SECRET: CLIENT.secret,
      AVIARY_OIDC_ROLE_CLAIM: 'groups',
      AVIARY_OIDC_ROLE_MAP: 'admins=admin,devs=editor',
      AVIARY_OIDC_DEFAULT_ROLE: 'viewer',
    });
  });

  afterAll(async () => {
    await aviary?.close();
    await provider?.close();
    await db?.drop();
  });

  it('signs a new person in, creating them with the role their claim maps to, and sends the browser to /', async () => {
    provider.state.account = 'u-ada';
    const { res, session, csrf } = await throughProvider(aviary);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${PUBLIC_URL}/`);
    expect(res.headers.getSetCookie().find((c) => c.startsWith('aviary_oidc='))).toMatch(/Max-Age=0/);
    expect(csrf).toBeTruthy();
    // The highest role any group maps to.
    expect(await me(aviary, session!)).toMatchObject({ email: 'ada@example.com', name: 'Ada', role: 'admin' });
    const people = await fetch(`${aviary.url}/api/v1/people`, { headers: auth() }).then((r) => r.json() as Promise<Array<{ email: string }>>);
    expect(people.map((p) => p.email)).toEqual(['ada@example.com']);
    const audit = await fetch(`${aviary.url}/api/v1/audit?person=ada@example.com`, { headers: auth() }).then((r) => r.json() as Promise<{ items: Array<{ action: string }> }>);
    expect(audit.items.map((e) => e.action)).toContain('person.create');
  });

  it('maps the role claim on every sign-in: editor, the default role, and a change of groups', async () => {
    provider.state.account = 'u-dev';
    expect(await me(aviary, (await throughProvider(aviary)).session!)).toMatchObject({ email: 'dev@example.com', role: 'editor' });
    provider.state.account = 'u-pm';
    expect(await me(aviary, (await throughProvider(aviary)).session!)).toMatchObject({ email: 'pm@example.com', role: 'viewer' });
    accounts.get('u-pm')!.groups = ['admins'];
    expect(await me(aviary, (await throughProvider(aviary)).session!)).toMatchObject({ email: 'pm@example.com', role: 'admin' });
    accounts.get('u-pm')!.groups = [];
    expect(await me(aviary, (await throughProvider(aviary)).session!)).toMatchObject({ email: 'pm@example.com', role: 'viewer' });
  });

  it('refuses a callback whose state is not the one the sign-in started with', async () => {
    const { res, body, session } = await throughProvider(aviary, { tamper: (u) => u.searchParams.set('state', 'forged-state') });
    expect(res.status).toBe(400);
    expect(body!.message).toMatch(/state/);
    expect(session).toBeUndefined();
  });

  it('refuses a callback naming another issuer', async () => {
    const { res, body, session } = await throughProvider(aviary, { tamper: (u) => u.searchParams.set('iss', 'http://127.0.0.1:1') });
    expect(res.status).toBe(400);
    expect(body!.message).toMatch(/iss/);
    expect(session).toBeUndefined();
  });

  it('refuses an expired authorization code, as the provider says', async () => {
    provider.state.codeTtlS = 1;
    try {
      const { res, body, session } = await throughProvider(aviary, { beforeCallbackMs: 2100 });
      expect(res.status).toBe(401);
      expect(body!.message).toMatch(/invalid_grant/);
      expect(session).toBeUndefined();
    } finally {
      provider.state.codeTtlS = 60;
    }
  });

  it('refuses a callback without the sign-in cookie', async () => {
    const res = await fetch(`${aviary.url}/api/v1/auth/oidc/callback?code=x&state=y`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/aviary_oidc cookie/);
  });

  it('with AVIARY_PASSWORD_LOGIN=false, refuses password sign-in and says so in the sign-in options', async () => {
    const ssoOnly = await startApp({ DATABASE_URL: db.url, AVIARY_PASSWORD_LOGIN: 'false', AVIARY_OIDC_ISSUER: provider.issuer, AVIARY_OIDC_CLIENT_ID: CLIENT.id, AVIARY_OIDC_CLIENT_SECRET: CLIENT.secret });
    try {
      const options = await fetch(`${ssoOnly.url}/api/v1/auth/options`).then((r) => r.json());
      expect(options).toEqual({ password: false, oidc: true, setupRequired: false });
      const res = await fetch(`${ssoOnly.url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'ada@example.com', password: 'whatever-it-is-123' }) });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { message: string }).message).toMatch(/AVIARY_PASSWORD_LOGIN=false/);
    } finally {
      await ssoOnly.close();
    }
  });

  it('refuses an issuer whose discovery document names another issuer, naming AVIARY_OIDC_ISSUER', async () => {
    const other = await startApp({
      DATABASE_URL: db.url,
      AVIARY_OIDC_ISSUER: provider.issuer.replace('127.0.0.1', 'localhost'),
      AVIARY_OIDC_CLIENT_ID: CLIENT.id,
      AVIARY_OIDC_CLIENT_SECRET: CLIENT.secret,
    });
    try {
      const res = await fetch(`${other.url}/api/v1/auth/oidc/login`, { redirect: 'manual' });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { message: string }).message).toMatch(/AVIARY_OIDC_ISSUER.*issuer/);
    } finally {
      await other.close();
    }
  });
});
