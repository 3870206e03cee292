import { Redis } from 'ioredis';
import { type Credential, parseCredential } from '../credentials/credential.js';
import type { PlanNotice } from './plan-notices.js';
import type { RulesetChange } from './snapshot.js';

/** The instance's `ChangeBus` (provided by the stream module). */
export const CHANGE_BUS = Symbol('CHANGE_BUS');

export type ChangeHandler = (change: RulesetChange) => void;
export type RevocationHandler = (credential: Credential) => void;
export type PlanHandler = (notice: PlanNotice) => void;

/** Carries committed changes and revoked credentials to the other server instances (Redis echoes
 *  them to the sender too, which has applied them already and drops them by revision). Delivery is
 *  best effort: instances also reconcile revisions and re-check credentials with Postgres. */
export interface ChangeBus {
  publish(change: RulesetChange): Promise<void>;
  subscribe(handler: ChangeHandler): void;
  /** A credential was revoked (committed): every instance ends the streams it authenticated. */
  publishRevocation(credential: Credential): Promise<void>;
  onRevocation(handler: RevocationHandler): void;
  /** A rollout plan changed (committed): every instance tells its dashboard streams. */
  publishPlan(notice: PlanNotice): Promise<void>;
  onPlan(handler: PlanHandler): void;
  /** Called when the bus comes back after an outage, when messages may have been lost. */
  onReconnect(handler: () => void): void;
  readonly healthy: boolean;
  close(): Promise<void>;
}

/** The bus of an installation with one instance (no `REDIS_URL`): there is nobody to tell. The
 *  instance applies its own changes and revocations before publishing them, so nothing is lost. */
export class SingleInstanceBus implements ChangeBus {
  readonly healthy = true;

  async publish(_change: RulesetChange): Promise<void> {}

  subscribe(_handler: ChangeHandler): void {}

  async publishRevocation(_credential: Credential): Promise<void> {}

  onRevocation(_handler: RevocationHandler): void {}

  async publishPlan(_notice: PlanNotice): Promise<void> {}

  onPlan(_handler: PlanHandler): void {}

  onReconnect(_handler: () => void): void {}

  async close(): Promise<void> {}
}

export const CHANGES_CHANNEL = 'aviary:changes';
/** Its own channel, so an instance of an older version never reads a revocation as a change. */
export const CREDENTIALS_CHANNEL = 'aviary:credentials';
/** Plan notices carry no revision: an older instance must not read them as changes either. */
export const PLANS_CHANNEL = 'aviary:plans';

interface Logger {
  log(message: string): void;
  warn(message: string): void;
}

/** Redis pub/sub fan-out (ioredis): one connection publishes, a duplicate subscribes. */
export class RedisChangeBus implements ChangeBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers: ChangeHandler[] = [];
  private readonly revocationHandlers: RevocationHandler[] = [];
  private readonly planHandlers: PlanHandler[] = [];
  private readonly reconnectHandlers: Array<() => void> = [];
  private down = false;
  private errors = 0;

  constructor(url: string, private readonly logger: Logger) {
    const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n: number) => Math.min(200 * 2 ** n, 5000) };
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    for (const [name, conn] of [['publisher', this.publisher], ['subscriber', this.subscriber]] as const) {
      conn.on('error', (e: Error) => {
        this.errors++;
        if (!this.down) this.logger.warn(`redis ${name}: ${e.message}; updates fall back to the revision check until it returns`);
        this.down = true;
      });
    }
    this.subscriber.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      this.logger.log('redis is back: streaming fan-out resumed');
      for (const handler of this.reconnectHandlers) handler();
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        return;
      }
      if (channel === CREDENTIALS_CHANNEL) {
        const credential = parseCredential((parsed as { revoked?: unknown } | null)?.revoked);
        if (credential) for (const handler of this.revocationHandlers) handler(credential);
        return;
      }
      if (channel === PLANS_CHANNEL) {
        for (const handler of this.planHandlers) handler(parsed as PlanNotice);
        return;
      }
      for (const handler of this.handlers) handler(parsed as RulesetChange);
    });
    void this.subscriber.subscribe(CHANGES_CHANNEL, CREDENTIALS_CHANNEL, PLANS_CHANNEL).catch(() => undefined);
  }

  get healthy(): boolean {
    return !this.down && this.publisher.status === 'ready';
  }

  get errorCount(): number {
    return this.errors;
  }

  async publish(change: RulesetChange): Promise<void> {
    try {
      await this.publisher.publish(CHANGES_CHANNEL, JSON.stringify(change));
    } catch {
      // The revision check delivers it; the write has committed and must not fail now.
    }
  }

  subscribe(handler: ChangeHandler): void {
    this.handlers.push(handler);
  }

  async publishRevocation(credential: Credential): Promise<void> {
    try {
      await this.publisher.publish(CREDENTIALS_CHANNEL, JSON.stringify({ revoked: credential }));
    } catch {
      // The credential check finds it; the revocation has committed and must not fail now.
    }
  }

  onRevocation(handler: RevocationHandler): void {
    this.revocationHandlers.push(handler);
  }

  async publishPlan(notice: PlanNotice): Promise<void> {
    try {
      await this.publisher.publish(PLANS_CHANNEL, JSON.stringify(notice));
    } catch {
      // Best effort: the dashboard also refetches an active plan every few seconds.
    }
  }

  onPlan(handler: PlanHandler): void {
    this.planHandlers.push(handler);
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.publisher.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}
