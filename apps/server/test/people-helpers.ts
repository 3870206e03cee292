import request from 'supertest';
import { expect } from 'vitest';
import type { TestApp } from './helpers.js';

export const PASSWORD = 'correct horse battery';

/** A signed-in browser: its cookies, and the CSRF token it echoes on writes. */
export interface Browser {
  cookie: string;
  csrf: string;
  setCookies: string[];
}

export function browserFrom(res: request.Response): Browser {
  const setCookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const value = (name: string) => setCookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0].slice(name.length + 1) ?? '';
  return { cookie: `aviary_session=${value('aviary_session')}; aviary_csrf=${value('aviary_csrf')}`, csrf: value('aviary_csrf'), setCookies };
}

export async function login(t: TestApp, email: string, password = PASSWORD): Promise<Browser> {
  const res = await request(t.url).post('/api/v1/auth/login').send({ email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
  return browserFrom(res);
}

/** A cookie-authenticated request, with the CSRF header on writes unless told otherwise. */
export function as(t: TestApp, b: Browser, method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, csrf = true) {
  const req = request(t.url)[method](path).set('Cookie', b.cookie);
  return csrf && method !== 'get' ? req.set('X-CSRF-Token', b.csrf) : req;
}


/**
 * Opens the dashboard's live stream (`GET /api/v1/environments/:env/events`) with the browser's
 * cookie; `ended` resolves with how long it stayed open once the server ends it, and rejects if it
 * is still open after `withinMs`.
 */
export async function openLiveStream(t: TestApp, b: Browser, env = 'production', withinMs = 5_000): Promise<{ status: number; ended: () => Promise<number> }> {
  const controller = new AbortController();
  const res = await fetch(`${t.url}/api/v1/environments/${env}/events`, { headers: { Cookie: b.cookie, Accept: 'text/event-stream' }, signal: controller.signal });
  const drained = (async () => {
    for await (const _chunk of res.body!) {
      // Read until the server ends the stream.
    }
  })();
  return {
    status: res.status,
    ended: async () => {
      const since = Date.now();
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the stream was still open after ${withinMs} ms`)), withinMs).unref());
      try {
        await Promise.race([drained, timeout]);
      } finally {
        controller.abort();
      }
      return Date.now() - since;
    },
  };
}
