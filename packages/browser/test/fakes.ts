import type { Flag, Ruleset } from '@aviary/core';
import { vi } from 'vitest';

/** A stand-in for the browser's EventSource: records what was opened and lets a test drive it. */
export class FakeEventSource {
  static opened: FakeEventSource[] = [];
  static get last(): FakeEventSource {
    const last = FakeEventSource.opened.at(-1);
    if (last === undefined) throw new Error('no EventSource was opened');
    return last;
  }
  readyState = 0;
  closed = false;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private readonly listeners = new Map<string, ((event: { data: string; lastEventId: string }) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }

  get params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  addEventListener(type: string, listener: (event: { data: string; lastEventId: string }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }

  fail(): void {
    this.onerror?.();
  }

  /** The server's heartbeat: an event without an id. */
  ping(): void {
    for (const listener of this.listeners.get('ping') ?? []) listener({ data: '{}', lastEventId: '' });
  }

  send(type: 'ruleset' | 'change' | 'kill', id: number, data: unknown): void {
    if (this.closed) throw new Error('sending on a closed EventSource');
    for (const listener of this.listeners.get(type) ?? []) listener({ data: JSON.stringify(data), lastEventId: String(id) });
  }
}

/** A Storage backed by a Map, optionally throwing like a blocked or full localStorage. */
export function memoryStorage(options: { throws?: boolean } = {}) {
  const items = new Map<string, string>();
  return {
    items,
    getItem: vi.fn((key: string) => {
      if (options.throws) throw new Error('SecurityError');
      return items.get(key) ?? null;
    }),
    setItem: vi.fn((key: string, value: string) => {
      if (options.throws) throw new Error('QuotaExceededError');
      items.set(key, value);
    }),
  };
}

export function flag(key: string, fields: Partial<Flag> = {}): Flag {
  return { key, enabled: true, ...fields };
}

export function ruleset(revision: number, flags: Record<string, Flag>, cohorts: Ruleset['cohorts'] = {}): Ruleset {
  return { environment: 'production', revision, flags, cohorts };
}

/** A fetch stub answering from a queue of responses (or a function of the request). */
export function fakeFetch(answer: (url: string, init?: RequestInit) => Response | Promise<Response>) {
  return vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => answer(String(input), init));
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
