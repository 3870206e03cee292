import type { ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RulesetSnapshot } from './snapshot.js';
import { StreamHub, type Subscriber } from './stream-hub.js';

/** A response that records what is written to it. */
function recorder(): { res: ServerResponse; writes: Array<string | Buffer> } {
  const writes: Array<string | Buffer> = [];
  const res = { destroyed: false, writableEnded: false, writableLength: 0, writeHead: () => res, write: (chunk: string | Buffer) => writes.push(chunk), on: () => res };
  return { res: res as unknown as ServerResponse, writes };
}

const snapshot = new RulesetSnapshot(
  { environment: 'production', revision: 3, flags: { open: { key: 'open', enabled: true } }, cohorts: { beta: { key: 'beta', included: ['u1'], excluded: [], conditions: [] } } },
  new Set(['open']),
);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('StreamHub, compressed streams', () => {
  it('sends one gzip of the ruleset to every compressed stream, the reset form too, with the plain streams\' frame inside', async () => {
    const hub = new StreamHub();
    const streams = [recorder(), recorder(), recorder()];
    streams.forEach(({ res }, i) => {
      const sub: Subscriber = { environment: 'production', res, credentials: [], revision: -1, gzip: i < 2 };
      hub.open(sub, snapshot, undefined);
    });
    hub.reset('production', snapshot);
    await nextTurn();
    const [a, b, plain] = streams.map((s) => s.writes);
    // `: connected`, the ruleset, the reset ruleset.
    expect(a).toHaveLength(3);
    for (const i of [1, 2]) {
      expect(a[i]).toBeInstanceOf(Buffer);
      expect(b[i]).toBe(a[i]);
      expect(gunzipSync(a[i] as Buffer).toString()).toBe(plain[i]!.toString());
    }
    expect(plain[1]!.toString()).toBe(`id: 3\nevent: ruleset\ndata: ${snapshot.toJSON()}\n\n`);
    expect(plain[2]!.toString()).toBe(`id: 3\nevent: ruleset\ndata: {"reset":true,${snapshot.toJSON().slice(1)}\n\n`);
    expect(gunzipSync(a[0] as Buffer).toString()).toBe(plain[0]);
  });
});

describe('StreamHub, plain streams', () => {
  it("writes every server-key stream one buffer of the ruleset, the reset form too, and a client key's its own cut", async () => {
    const hub = new StreamHub();
    const streams = [recorder(), recorder(), recorder()];
    streams.forEach(({ res }, i) => {
      const sub: Subscriber = { environment: 'production', res, credentials: [], revision: -1, client: i === 2 ? { userKey: 'u2' } : undefined };
      hub.open(sub, snapshot, undefined);
    });
    hub.reset('production', snapshot);
    await nextTurn();
    const [a, b, client] = streams.map((s) => s.writes);
    for (const i of [1, 2]) {
      expect(a[i]).toBeInstanceOf(Buffer);
      expect(b[i]).toBe(a[i]);
    }
    expect(a[1]!.toString()).toBe(`id: 3\nevent: ruleset\ndata: ${snapshot.toJSON()}\n\n`);
    expect(a[2]!.toString()).toBe(`id: 3\nevent: ruleset\ndata: {"reset":true,${snapshot.toJSON().slice(1)}\n\n`);
    // The user is not in the cohort: a client key's list is cut to nothing, not shared.
    expect(JSON.parse(String(client[1]).split('data: ')[1]!).cohorts.beta.included).toEqual([]);
    expect(JSON.parse(String(client[2]).split('data: ')[1]!).reset).toBe(true);
  });
});
