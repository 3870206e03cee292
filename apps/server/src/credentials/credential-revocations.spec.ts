import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/config.js';
import { type ChangeBus, type RevocationHandler, SingleInstanceBus } from '../stream/change-bus.js';
import type { LiveRulesets } from '../stream/live-rulesets.js';
import { RulesetSnapshot } from '../stream/snapshot.js';
import { StreamHub } from '../stream/stream-hub.js';
import { type CredentialRef, credentialRef } from './credential.js';
import { CredentialRevocations, type CredentialStore } from './credential-revocations.js';

/** A Redis stand-in shared by instances: a revocation reaches every subscriber, its sender too. */
class SharedBus extends SingleInstanceBus {
  private readonly handlers: RevocationHandler[] = [];

  override async publishRevocation(credential: Parameters<RevocationHandler>[0]): Promise<void> {
    for (const handler of this.handlers) handler(credential);
  }

  override onRevocation(handler: RevocationHandler): void {
    this.handlers.push(handler);
  }
}

class FakeResponse extends EventEmitter {
  ended = false;
  destroyed = false;
  writableEnded = false;
  writableLength = 0;
  writeHead() {
    return this;
  }
  write() {
    return true;
  }
  end() {
    this.ended = this.writableEnded = true;
    this.emit('close');
  }
}

/** A key store whose valid ids the test sets; `failing` makes its check throw (Postgres down). */
class FakeStore implements CredentialStore {
  valid = new Set<string>();
  cache = new Set<string>();
  failing = false;
  async stillValid(ids: readonly string[]) {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    return new Set(ids.filter((id) => this.valid.has(id)));
  }
  cached() {
    return this.cache;
  }
  forget(id: string) {
    this.cache.delete(id);
  }
}

const snapshot = new RulesetSnapshot({ environment: 'production', revision: 1, flags: {}, cohorts: {} }, new Set());

/** One server instance: its hub, key store and revocations, on a bus it may share. */
function instance(bus: ChangeBus) {
  const hub = new StreamHub();
  const store = new FakeStore();
  const revocations = new CredentialRevocations(bus, hub, { checkBeforeDelivery() {} } as unknown as LiveRulesets, { revisionCheckMs: 1e9 } as AppConfig);
  revocations.register('api-key', store);
  revocations.onApplicationBootstrap();
  const open = (keyId: string) => {
    const res = new FakeResponse();
    hub.open({ environment: 'production', res: res as unknown as ServerResponse, credentials: [credentialRef({ kind: 'api-key', id: keyId })], revision: -1 }, snapshot, undefined);
    return res;
  };
  return { hub, store, revocations, open, stop: () => revocations.onApplicationShutdown() };
}

const ref = (id: string): CredentialRef => credentialRef({ kind: 'api-key', id });

describe('CredentialRevocations', () => {
  it('ends the revoked key\'s streams and cache entry here and, by message, on every other instance', async () => {
    const bus = new SharedBus();
    const a = instance(bus);
    const b = instance(bus);
    const onA = a.open('k1');
    const [onB, otherOnB] = [b.open('k1'), b.open('k2')];
    b.store.cache.add('k1').add('k2');
    await a.revocations.revoked({ kind: 'api-key', id: 'k1' });
    expect([onA.ended, onB.ended, otherOnB.ended]).toEqual([true, true, false]);
    expect([...b.store.cache]).toEqual(['k2']);
    expect(b.hub.size).toBe(1);
    // A stream authenticated before the revocation and opened after it is refused.
    expect(b.hub.isRefused(ref('k1'))).toBe(true);
    expect(b.hub.isRefused(ref('k2'))).toBe(false);
    a.stop();
    b.stop();
  });

  it('finds a revocation whose message was lost when it re-checks its streams\' and cache\'s keys', async () => {
    const b = instance(new SingleInstanceBus());
    b.store.valid = new Set(['k1', 'k2', 'k3']);
    const streams = { k1: b.open('k1'), k2: b.open('k2') };
    b.store.cache.add('k3');
    await b.revocations.verify();
    expect([streams.k1.ended, streams.k2.ended]).toEqual([false, false]);
    // Revoked elsewhere; no message came.
    b.store.valid = new Set(['k2']);
    await b.revocations.verify();
    expect([streams.k1.ended, streams.k2.ended]).toEqual([true, false]);
    expect([...b.store.cache]).toEqual([]);
    b.stop();
  });

  it('keeps streams open while Postgres cannot tell, and ends them once it can', async () => {
    const b = instance(new SingleInstanceBus());
    const stream = b.open('k1');
    b.store.failing = true;
    await expect(b.revocations.verify()).resolves.toBeUndefined();
    expect(stream.ended).toBe(false);
    b.store.failing = false;
    await b.revocations.verify();
    expect(stream.ended).toBe(true);
    b.stop();
  });
});
