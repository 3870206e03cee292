import type { Ruleset } from '@aviary/core';
import type { ChangeBus } from './change-bus.js';
import { FreshRead } from './fresh-read.js';
import { RulesetSnapshot, type RulesetChange } from './snapshot.js';
import type { StreamHub } from './stream-hub.js';

type Revisions = Array<{ environment: string; id: string; revision: number }>;

/** Where the live rulesets come from: Postgres, the source of truth. */
export interface RulesetSource {
  /** Every environment's key and committed revision. */
  revisions(): Promise<Revisions>;
  /** The whole ruleset of an environment and its client-visible flags, read in one snapshot. */
  load(environment: string): Promise<{ ruleset: Ruleset; clientVisible: string[] } | undefined>;
  /** Logged changes after `revision`, in order, at most `limit`. */
  changesSince(environment: string, revision: number, limit: number): Promise<RulesetChange[]>;
}

interface Logger {
  log(message: string): void;
  warn(message: string): void;
}

/** How far a stream may resume from the change log before it gets the whole ruleset instead. */
export const MAX_REPLAY = 1000;

/**
 * Every environment's ruleset in memory, kept current from the bus and, as a safety net, by
 * comparing revisions with Postgres every few seconds. Changes for one environment are applied
 * strictly in revision order; a gap is filled from the change log before anything newer.
 */
export class LiveRulesets {
  private readonly snapshots = new Map<string, RulesetSnapshot>();
  private readonly keysById = new Map<string, string>();
  /** Serializes the work on each environment. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Recent changes per environment, so a reconnect storm does not hit the database. */
  private readonly recent = new Map<string, RulesetChange[]>();
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  /** Postgres's revisions, read after the call. Concurrent callers share reads (a reconnect storm
   *  after an instance dies costs one or two queries, not one per client). */
  private readonly revisionsRead: FreshRead<Revisions>;
  /** Runs before anything read from Postgres reaches a stream (see `checkBeforeDelivery`). */
  private beforeDelivery: () => Promise<void> = () => Promise.resolve();
  private lastLookup = 0;
  lastReconcileError?: string;
  /** Largest number of revisions this instance was found behind Postgres at a check. */
  lag = 0;

  constructor(
    private readonly source: RulesetSource,
    private readonly bus: ChangeBus,
    private readonly hub: StreamHub,
    private readonly logger: Logger,
    private readonly checkIntervalMs = 2000,
  ) {
    this.revisionsRead = new FreshRead(() => this.source.revisions());
  }

  /**
   * `check` runs after changes are read from Postgres and before they reach any stream: the
   * credential check, so a change committed after a revocation whose message was lost never
   * reaches a stream of the revoked key (the check reads Postgres after the change was read, so it
   * sees the revocation). Changes from the bus need none: they come after the revocation message.
   */
  checkBeforeDelivery(check: () => Promise<void>): void {
    this.beforeDelivery = check;
  }

  async start(): Promise<void> {
    this.bus.subscribe((change) => void this.receive(change));
    this.bus.onReconnect(() => void this.reconcile());
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.checkIntervalMs);
    this.timer.unref();
    this.hub.start();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get(environment: string): RulesetSnapshot | undefined {
    return this.snapshots.get(environment);
  }

  /** The environment's snapshot; one not known here yet (created on another instance a moment
   *  ago) is looked up in Postgres first. */
  async current(environment: string): Promise<RulesetSnapshot | undefined> {
    if (!this.snapshots.has(environment)) await this.reconcile();
    return this.snapshots.get(environment);
  }

  environments(): string[] {
    return [...this.snapshots.keys()];
  }

  /** The key of the environment with this id (API keys name environments by id). */
  async environmentKey(id: string): Promise<string | undefined> {
    if (!this.keysById.has(id)) await this.reconcile();
    return this.keysById.get(id);
  }

  /**
   * A change committed by this instance: published to the others and applied here at once. The
   * publish goes out first, so the other instances do not wait for this one's own fan-out, and is
   * not waited for: it cannot fail the write (a lost message is found by the revision check), and
   * the write answers once the change is in this instance's snapshot, not after Redis' reply.
   */
  async committed(change: RulesetChange): Promise<void> {
    void this.bus.publish(change);
    await this.receive(change);
  }

  /** Applies a change from anywhere; duplicates, stale ones and other installations' are ignored. */
  async receive(change: RulesetChange): Promise<void> {
    if (!(await this.isOurs(change))) return;
    return this.serialize(change.environment, async () => {
      const current = this.snapshots.get(change.environment);
      if (current !== undefined && change.revision <= current.revision) return;
      if (current === undefined || change.revision > current.revision + 1 || change.kind === 'ruleset') {
        await this.catchUp(change.environment);
        return;
      }
      this.advance(change, current);
    });
  }

  /**
   * Whether a change belongs to this installation: its environment id is one of ours (several
   * installations may share a Redis). An unknown id is looked up, at most once a second.
   */
  private async isOurs(change: RulesetChange): Promise<boolean> {
    const id = change.environmentId;
    if (id === undefined || this.keysById.get(id) === change.environment) return true;
    if (!this.keysById.has(id)) {
      if (this.reconciling) await this.reconciling;
      else if (Date.now() - this.lastLookup > 1000) {
        this.lastLookup = Date.now();
        await this.reconcile();
      }
    }
    return this.keysById.get(id) === change.environment;
  }

  /**
   * Whether a client's revision belongs to a history Postgres no longer has: Postgres, read now, is
   * behind it (the database was restored from an older backup). Then this instance is brought back
   * to Postgres's history too, and the client must be reset to it. A client merely ahead of this
   * instance (its change is still on the way here) is not rewound; nor is anyone while Postgres
   * cannot answer.
   */
  async isRewound(environment: string, revision: number): Promise<boolean> {
    const snapshot = this.snapshots.get(environment);
    if (snapshot === undefined || revision <= snapshot.revision) return false;
    const committed = await this.committedRevision(environment).catch(() => undefined);
    if (committed === undefined || revision <= committed) return false;
    await this.reconcile();
    return true;
  }

  private async committedRevision(environment: string): Promise<number | undefined> {
    return (await this.revisionsRead.get()).find((e) => e.environment === environment)?.revision;
  }

  /** Changes after `revision` up to the live one, or undefined when the log no longer covers them. */
  async missedSince(environment: string, revision: number): Promise<RulesetChange[] | undefined> {
    const snapshot = this.snapshots.get(environment);
    if (snapshot === undefined || revision >= snapshot.revision) return [];
    if (snapshot.revision - revision > MAX_REPLAY) return undefined;
    const cached = this.recent.get(environment) ?? [];
    const first = cached[0];
    let changes: RulesetChange[];
    if (first !== undefined && first.revision <= revision + 1) changes = cached.filter((c) => c.revision > revision);
    else changes = await this.source.changesSince(environment, revision, snapshot.revision - revision);
    const live = this.snapshots.get(environment)?.revision ?? snapshot.revision;
    changes = changes.filter((c) => c.revision <= live);
    return changes[0]?.revision === revision + 1 ? changes : undefined;
  }

  /** Compares every environment's revision with Postgres and catches up where behind. */
  reconcile(): Promise<void> {
    // Callers arriving during a check wait for that check.
    return (this.reconciling ??= this.check().finally(() => (this.reconciling = undefined)));
  }

  private async check(): Promise<void> {
    try {
      const revisions = await this.source.revisions();
      let lag = 0;
      const known = new Set<string>();
      for (const { environment, id, revision } of revisions) {
        known.add(environment);
        this.keysById.set(id, environment);
        // Let changes already being applied land first: they are not lag.
        await this.queues.get(environment);
        const current = this.snapshots.get(environment)?.revision ?? -1;
        if (revision > current) {
          // A first load is not lag.
          if (current >= 0) lag = Math.max(lag, revision - current);
          await this.serialize(environment, () => this.catchUp(environment));
        } else if (revision < current) {
          // Usually a change that committed after the read; a rewound database otherwise.
          await this.serialize(environment, () => this.rewind(environment));
        }
      }
      for (const environment of this.snapshots.keys()) if (!known.has(environment)) this.snapshots.delete(environment);
      for (const [id, environment] of this.keysById) if (!known.has(environment)) this.keysById.delete(id);
      this.lag = lag;
      if (this.lastReconcileError !== undefined) this.logger.log('revision check works again');
      this.lastReconcileError = undefined;
    } catch (e) {
      const message = (e as Error).message;
      if (this.lastReconcileError === undefined) this.logger.warn(`revision check failed (${message}); serving the rulesets in memory`);
      this.lastReconcileError = message;
    }
  }

  private async catchUp(environment: string): Promise<void> {
    const current = this.snapshots.get(environment);
    if (current !== undefined) {
      const changes = await this.source.changesSince(environment, current.revision, MAX_REPLAY);
      if (changes[0]?.revision === current.revision + 1 && changes.every((c) => c.kind !== 'ruleset')) {
        await this.beforeDelivery();
        let snapshot = current;
        for (const change of changes) snapshot = this.advance(change, snapshot) ?? snapshot;
        if (changes.length < MAX_REPLAY) return;
      }
    }
    const loaded = await this.source.load(environment);
    if (loaded === undefined) {
      this.snapshots.delete(environment);
      return;
    }
    const latest = this.snapshots.get(environment);
    if (latest !== undefined && latest.revision >= loaded.ruleset.revision) return;
    await this.beforeDelivery();
    const snapshot = new RulesetSnapshot(loaded.ruleset, new Set(loaded.clientVisible));
    this.snapshots.set(environment, snapshot);
    this.recent.delete(environment);
    this.hub.publish({ environment, revision: snapshot.revision, kind: 'ruleset', patch: { revision: snapshot.revision } }, snapshot);
  }

  /**
   * Postgres was read behind this instance. Read again, with this environment's changes held: a
   * change that had committed meanwhile is there now; if Postgres is still behind, its history was
   * rewound, and this instance reloads it and resets its streams (they hold revisions Postgres no
   * longer has, and would otherwise ignore everything until the revisions caught up).
   */
  private async rewind(environment: string): Promise<void> {
    const current = this.snapshots.get(environment);
    const committed = await this.committedRevision(environment);
    if (current === undefined || committed === undefined || committed >= current.revision) return;
    const loaded = await this.source.load(environment);
    if (loaded === undefined) return;
    await this.beforeDelivery();
    this.logger.warn(
      `environment "${environment}": Postgres is at revision ${loaded.ruleset.revision}, behind this instance's ${current.revision}; ` +
        'the database was rewound (restored from an older backup?): reloading it and resetting its streams',
    );
    const snapshot = new RulesetSnapshot(loaded.ruleset, new Set(loaded.clientVisible));
    this.snapshots.set(environment, snapshot);
    this.recent.delete(environment);
    this.hub.reset(environment, snapshot);
  }

  private advance(change: RulesetChange, current: RulesetSnapshot): RulesetSnapshot | undefined {
    const next = current.apply(change.patch);
    if (next === undefined) return undefined;
    this.snapshots.set(change.environment, next);
    let recent = this.recent.get(change.environment);
    if (recent === undefined) this.recent.set(change.environment, (recent = []));
    recent.push(change);
    if (recent.length > MAX_REPLAY) recent.splice(0, recent.length - MAX_REPLAY);
    this.hub.publish(change, next);
    return next;
  }

  private serialize(environment: string, work: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(environment) ?? Promise.resolve();
    const next = previous.then(work, work).catch((e: Error) => this.logger.warn(`applying a change to ${environment} failed: ${e.message}`));
    this.queues.set(environment, next);
    return next;
  }
}
