import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DataSource } from 'typeorm';
import type { ChangeLogService } from '../changes/change-log.service.js';
import { sha256 } from '../common/tokens.js';
import type { CredentialRevocations, CredentialStore } from '../credentials/credential-revocations.js';
import { ApiKeysService } from './api-keys.service.js';

const TOKEN = 'avs_a-server-key';

/** A Postgres stand-in that holds each key lookup until `answer()`, and counts them. */
class FakeDatabase {
  lookups = 0;
  revoked = false;
  failing = false;
  private waiting: Array<() => void> = [];
  readonly dataSource = {
    manager: { connection: { createQueryRunner: () => ({ query: (text: string) => this.query(text), release: async () => undefined }) } },
  } as unknown as DataSource;

  private async query(text: string): Promise<{ records: unknown[] }> {
    if (!text.includes('k.hash = $1')) return { records: [] };
    this.lookups++;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.failing) throw new Error('connection refused');
    return { records: this.revoked ? [] : [{ id: 'k1', name: 'ci', kind: 'server', read_only: true, environment_id: 'e1', allowed_origins: null, hash: sha256(TOKEN) }] };
  }

  /** Lets every lookup held so far answer. */
  async answer(): Promise<void> {
    for (const resolve of this.waiting.splice(0)) resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let db: FakeDatabase;
let keys: ApiKeysService;
let store: CredentialStore;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  db = new FakeDatabase();
  const revocations = { register: (_kind: string, s: CredentialStore) => (store = s) } as unknown as CredentialRevocations;
  keys = new ApiKeysService(db.dataSource, {} as ChangeLogService, revocations);
  keys.onModuleInit();
});

afterEach(() => vi.useRealTimers());

describe('ApiKeysService.verify', () => {
  it('sends one lookup for the requests that arrive while it runs, and answers them all', async () => {
    const answers = Promise.all(Array.from({ length: 50 }, () => keys.verify(TOKEN)));
    await db.answer();
    expect((await answers).map((key) => key?.id)).toEqual(Array(50).fill('k1'));
    expect(db.lookups).toBe(1);
  });

  it('looks a cached key up again in the background shortly before it expires, and never makes its traffic wait', async () => {
    const first = keys.verify(TOKEN);
    await db.answer();
    await first;
    vi.advanceTimersByTime(5_000);
    expect((await keys.verify(TOKEN))?.id).toBe('k1');
    expect(db.lookups).toBe(1);
    vi.advanceTimersByTime(4_000);
    // The lookup is held: the answers come from the cache meanwhile, and start one lookup only.
    for (let i = 0; i < 20; i++) expect((await keys.verify(TOKEN))?.id).toBe('k1');
    expect(db.lookups).toBe(2);
    // That lookup finds the key revoked: the cache forgets it, so the next request looks it up.
    db.revoked = true;
    await db.answer();
    expect(keys.recentlyVerified(TOKEN)).toBeUndefined();
    const next = keys.verify(TOKEN);
    await db.answer();
    expect(await next).toBeUndefined();
    expect(db.lookups).toBe(3);
  });

  it('keeps serving a cached key while Postgres fails', async () => {
    const first = keys.verify(TOKEN);
    await db.answer();
    await first;
    db.failing = true;
    vi.advanceTimersByTime(11_000);
    const late = keys.verify(TOKEN);
    await db.answer();
    expect((await late)?.id).toBe('k1');
  });

  it('does not let a request after a revocation share a lookup that started before it', async () => {
    const before = keys.verify(TOKEN);
    store.forget('k1');
    db.revoked = true;
    const after = keys.verify(TOKEN);
    expect(db.lookups).toBe(2);
    await db.answer();
    await before;
    expect(await after).toBeUndefined();
    // Nor does the lookup that was in flight during the revocation put the key back in the cache.
    expect(keys.recentlyVerified(TOKEN)).toBeUndefined();
  });
});
