import { describe, expect, it } from 'vitest';
import { SingleInstanceBus } from './change-bus.js';
import { LiveRulesets, type RulesetSource } from './live-rulesets.js';
import { StreamHub } from './stream-hub.js';

/** A Postgres stand-in whose revision reads answer only when released, with the revision as it
 *  was when the read began (as a query's snapshot would). */
class FakeSource implements RulesetSource {
  revision = 10;
  reads = 0;
  private readonly pending: Array<() => void> = [];

  revisions() {
    this.reads += 1;
    const seen = this.revision;
    return new Promise<Array<{ environment: string; id: string; revision: number }>>((resolve) =>
      this.pending.push(() => resolve([{ environment: 'production', id: 'env-1', revision: seen }])),
    );
  }

  async load() {
    return { ruleset: { environment: 'production', revision: this.revision, flags: {}, cohorts: {} }, clientVisible: [] };
  }

  async changesSince() {
    return [];
  }

  /** Answers every read begun so far, then lets the promise callbacks run. */
  async release(): Promise<void> {
    for (const answer of this.pending.splice(0)) answer();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function started(source: FakeSource): Promise<LiveRulesets> {
  const live = new LiveRulesets(source, new SingleInstanceBus(), new StreamHub(), { log() {}, warn() {} }, 1e9);
  const starting = live.start();
  await source.release();
  await source.release();
  await starting;
  live.stop();
  return live;
}

/** Releases reads until `promise` settles. */
async function settle<T>(source: FakeSource, promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.finally(() => (done = true));
  for (let i = 0; i < 20 && !done; i++) await source.release();
  return promise;
}

describe('LiveRulesets.isRewound', () => {
  it('a revision at or below the instance\'s is never a rewind, and costs no query', async () => {
    const source = new FakeSource();
    const live = await started(source);
    const reads = source.reads;
    expect(await live.isRewound('production', 10)).toBe(false);
    expect(await live.isRewound('production', 3)).toBe(false);
    expect(source.reads).toBe(reads);
  });

  it('a reconnect storm shares the Postgres reads: 50 clients ahead of Postgres, a handful of queries', async () => {
    const source = new FakeSource();
    const live = await started(source);
    const reads = source.reads;
    const answers = await settle(source, Promise.all(Array.from({ length: 50 }, () => live.isRewound('production', 100))));
    expect(answers.every((a) => a === true)).toBe(true);
    // One read for the first caller, one queued after it for the other 49, and the revision
    // checks that bring the instance back (at most one per group): not one query per client.
    expect(source.reads - reads).toBeLessThanOrEqual(4);
  });

  it('never trusts a read that began before the call: it may predate the commit the client saw', async () => {
    const source = new FakeSource();
    const live = await started(source);
    // A client claims 11 while Postgres is at 10: a read begins.
    const early = live.isRewound('production', 11);
    // Revision 11 commits; a client that has it (from another instance) connects here.
    source.revision = 11;
    const late = live.isRewound('production', 11);
    expect(await settle(source, early)).toBe(true);
    // Its answer comes from a read that began after it called: Postgres has 11, so no rewind.
    expect(await settle(source, late)).toBe(false);
  });
});
