import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { CHANGE_BUS, type ChangeBus } from '../stream/change-bus.js';
import { FreshRead } from '../stream/fresh-read.js';
import { LiveRulesets } from '../stream/live-rulesets.js';
import { StreamHub } from '../stream/stream-hub.js';
import { type Credential, type CredentialKind, credentialRef, parseCredentialRef } from './credential.js';

/** Where one kind of credential is kept: Postgres, with a cache in this instance. */
export interface CredentialStore {
  /** Which of `ids` are still valid, read from Postgres after the call; throws when it cannot tell. */
  stillValid(ids: readonly string[]): Promise<ReadonlySet<string>>;
  /** The ids this instance has cached as valid. */
  cached(): Iterable<string>;
  /** Drops one from this instance's cache. */
  forget(id: string): void;
}

/** Ids per query of the credential check. */
const CHECK_BATCH = 1000;

/**
 * Revocation on every instance. A revocation that committed is applied here at once (cache
 * entry dropped, streams ended) and published on the change bus, so the other instances do the
 * same within milliseconds. Because a message can be lost (Redis down, or no Redis: each instance
 * has its own in-process bus), every instance also re-checks the credentials of its open streams
 * and cache with Postgres every `AVIARY_REVISION_CHECK_MS`, and before changes it read from
 * Postgres reach any stream.
 */
@Injectable()
export class CredentialRevocations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Revocation');
  private readonly stores = new Map<CredentialKind, CredentialStore>();
  private readonly check = new FreshRead(() => this.checkAll());
  private timer?: NodeJS.Timeout;
  private lastCheckError?: string;

  constructor(
    @Inject(CHANGE_BUS) private readonly bus: ChangeBus,
    private readonly hub: StreamHub,
    private readonly live: LiveRulesets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Called by the service that owns a kind of credential, at module init. */
  register(kind: CredentialKind, store: CredentialStore): void {
    this.stores.set(kind, store);
  }

  onApplicationBootstrap(): void {
    this.bus.onRevocation((credential) => this.apply(credential, 'revoked on another instance'));
    // Messages published while the bus was down are lost.
    this.bus.onReconnect(() => void this.verify());
    this.live.checkBeforeDelivery(() => this.verify());
    this.timer = setInterval(() => void this.verify(), this.config.revisionCheckMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * A revocation that has committed: applied here, then published. Resolves once published, so
   * any change this instance publishes afterwards reaches the others after the revocation.
   */
  async revoked(credential: Credential): Promise<void> {
    this.apply(credential, 'revoked');
    await this.bus.publishRevocation(credential);
  }

  /**
   * Re-checks with Postgres every credential this instance's streams and caches hold, and applies
   * the revocations it finds; never rejects (while Postgres cannot tell, streams stay open).
   */
  verify(): Promise<void> {
    return this.check.get().catch((err: Error) => {
      if (this.lastCheckError === undefined) this.logger.warn(`credential check failed (${err.message}); open streams stay open until it works`);
      this.lastCheckError = err.message;
    });
  }

  private async checkAll(): Promise<void> {
    const held = new Map<CredentialKind, Set<string>>();
    for (const ref of this.hub.credentials()) {
      const credential = parseCredentialRef(ref);
      if (credential) (held.get(credential.kind) ?? held.set(credential.kind, new Set()).get(credential.kind)!).add(credential.id);
    }
    for (const [kind, store] of this.stores) {
      const ids = held.get(kind) ?? new Set<string>();
      for (const id of store.cached()) ids.add(id);
      const all = [...ids];
      for (let i = 0; i < all.length; i += CHECK_BATCH) {
        const batch = all.slice(i, i + CHECK_BATCH);
        const valid = await store.stillValid(batch);
        for (const id of batch) if (!valid.has(id)) this.apply({ kind, id }, 'found revoked by the credential check');
      }
    }
    if (this.lastCheckError !== undefined) this.logger.log('credential check works again');
    this.lastCheckError = undefined;
  }

  private apply(credential: Credential, how: string): void {
    this.stores.get(credential.kind)?.forget(credential.id);
    const ended = this.hub.endFor(credentialRef(credential));
    if (ended > 0) this.logger.log(`${credential.kind} ${credential.id} ${how}: ended ${ended} stream${ended === 1 ? '' : 's'}`);
  }
}
