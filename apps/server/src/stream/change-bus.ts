import { Redis } from 'ioredis';
import type { RulesetChange } from './snapshot.js';

export type ChangeHandler = (change: RulesetChange) => void;

/** Carries committed changes to every server instance. Delivery is best effort: instances also reconcile with Postgres. */
export interface ChangeBus {
  publish(change: RulesetChange): Promise<void>;
  subscribe(handler: ChangeHandler): void;
  /** Called when the bus comes back after an outage, when messages may have been lost. */
  onReconnect(handler: () => void): void;
  readonly healthy: boolean;
  close(): Promise<void>;
}

/** Stands in for Redis when there is one instance (no `REDIS_URL`). */
export class InProcessChangeBus implements ChangeBus {
  private readonly handlers: ChangeHandler[] = [];
  readonly healthy = true;

  async publish(change: RulesetChange): Promise<void> {
    for (const handler of this.handlers) handler(change);
  }

  subscribe(handler: ChangeHandler): void {
    this.handlers.push(handler);
  }

  onReconnect(): void {}

  async close(): Promise<void> {}
}

export const CHANGES_CHANNEL = 'aviary:changes';

interface Logger {
  log(message: string): void;
  warn(message: string): void;
}

/** Redis pub/sub fan-out (ioredis): one connection publishes, a duplicate subscribes. */
export class RedisChangeBus implements ChangeBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers: ChangeHandler[] = [];
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
    this.subscriber.on('message', (_channel: string, message: string) => {
      let change: RulesetChange;
      try {
        change = JSON.parse(message) as RulesetChange;
      } catch {
        return;
      }
      for (const handler of this.handlers) handler(change);
    });
    void this.subscriber.subscribe(CHANGES_CHANNEL).catch(() => undefined);
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
